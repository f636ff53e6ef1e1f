package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const snapshotCols = `id, repository_id, owner_user_id, storage_key, manifest_key, commit_sha, file_count,
	total_bytes, stored_bytes, languages, skipped, content_sha256, created_at`

func scanSnapshot(r pgx.Row) (store.Snapshot, error) {
	var x store.Snapshot
	var langs, skipped []byte
	if err := r.Scan(&x.ID, &x.RepositoryID, &x.OwnerUserID, &x.StorageKey, &x.ManifestKey, &x.CommitSHA,
		&x.FileCount, &x.TotalBytes, &x.StoredBytes, &langs, &skipped, &x.ContentSHA256, &x.CreatedAt); err != nil {
		return x, err
	}
	if err := fromJSON(langs, &x.Languages); err != nil {
		return x, err
	}
	return x, fromJSON(skipped, &x.Skipped)
}

// CreateSnapshot stores sn; ErrNotFound when its repository does not exist.
func (s *Store) CreateSnapshot(ctx context.Context, sn *store.Snapshot) error {
	store.Stamp(&sn.ID, &sn.CreatedAt, store.PrefixSnapshot, s.nowUTC())
	sn.CreatedAt = ts(sn.CreatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO snapshots (`+snapshotCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		sn.ID, sn.RepositoryID, sn.OwnerUserID, sn.StorageKey, sn.ManifestKey, sn.CommitSHA, sn.FileCount,
		sn.TotalBytes, sn.StoredBytes, toJSON(sn.Languages), toJSON(sn.Skipped), sn.ContentSHA256, sn.CreatedAt)
	return mapErr("create snapshot", err)
}

func (s *Store) GetSnapshot(ctx context.Context, sc store.Scope, id string) (*store.Snapshot, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get snapshot", "snapshots", snapshotCols, "owner_user_id", sc, id, "", scanSnapshot)
}

func (s *Store) ListSnapshots(ctx context.Context, sc store.Scope, repositoryID string, p store.Page) ([]store.Snapshot, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("repository_id = " + q.arg(repositoryID))
	q.scope(sc, "owner_user_id")
	return listPage(ctx, s.pool, "list snapshots", snapshotCols, "snapshots", &q, p, scanSnapshot, func(x *store.Snapshot) string { return x.ID })
}
