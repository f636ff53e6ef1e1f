package postgres

import (
	"context"

	"github.com/vegasec/vega/store"
)

var snapshots = table[store.Snapshot]{name: "snapshots", owner: "owner_user_id",
	cols: `id, repository_id, owner_user_id, storage_key, manifest_key, commit_sha, file_count,
	total_bytes, stored_bytes, languages, skipped, content_sha256, created_at`,
	dests: func(x *store.Snapshot) []any {
		return []any{&x.ID, &x.RepositoryID, &x.OwnerUserID, &x.StorageKey, &x.ManifestKey, &x.CommitSHA,
			&x.FileCount, &x.TotalBytes, &x.StoredBytes, jsonCol{&x.Languages}, jsonCol{&x.Skipped}, &x.ContentSHA256, &x.CreatedAt}
	}}

// CreateSnapshot stores sn; ErrNotFound when its repository does not exist.
func (s *Store) CreateSnapshot(ctx context.Context, sn *store.Snapshot) error {
	store.Stamp(&sn.ID, &sn.CreatedAt, store.PrefixSnapshot, s.nowUTC())
	sn.CreatedAt = ts(sn.CreatedAt)
	return snapshots.create(ctx, s, "create snapshot",
		sn.ID, sn.RepositoryID, sn.OwnerUserID, sn.StorageKey, sn.ManifestKey, sn.CommitSHA, sn.FileCount,
		sn.TotalBytes, sn.StoredBytes, toJSON(sn.Languages), toJSON(sn.Skipped), sn.ContentSHA256, sn.CreatedAt)
}

func (s *Store) GetSnapshot(ctx context.Context, sc store.Scope, id string) (*store.Snapshot, error) {
	return snapshots.get(ctx, s, "get snapshot", sc, id)
}

func (s *Store) ListSnapshots(ctx context.Context, sc store.Scope, repositoryID string, p store.Page) ([]store.Snapshot, string, error) {
	return snapshots.listBy(ctx, s, "list snapshots", sc, "repository_id", repositoryID, p)
}
