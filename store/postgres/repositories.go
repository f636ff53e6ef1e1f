package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const repoCols = `id, project_id, owner_user_id, name, source_type, git_url, git_ref, ingest_status,
	ingest_error, latest_snapshot_id, pending_upload_key, created_at, updated_at`

func scanRepo(r pgx.Row) (store.Repository, error) {
	var x store.Repository
	var ierr []byte
	if err := r.Scan(&x.ID, &x.ProjectID, &x.OwnerUserID, &x.Name, &x.SourceType, &x.GitURL, &x.GitRef,
		&x.IngestStatus, &ierr, &x.LatestSnapshotID, &x.PendingUploadKey, &x.CreatedAt, &x.UpdatedAt); err != nil {
		return x, err
	}
	return x, fromJSON(ierr, &x.IngestError)
}

// CreateRepository stores r; ErrNotFound when its project does not exist.
func (s *Store) CreateRepository(ctx context.Context, r *store.Repository) error {
	store.Stamp(&r.ID, &r.CreatedAt, store.PrefixRepo, s.nowUTC())
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.CreatedAt, r.UpdatedAt = ts(r.CreatedAt), ts(r.UpdatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO repositories (`+repoCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
		r.ID, r.ProjectID, r.OwnerUserID, r.Name, r.SourceType, r.GitURL, r.GitRef, r.IngestStatus,
		toJSON(r.IngestError), r.LatestSnapshotID, r.PendingUploadKey, r.CreatedAt, r.UpdatedAt)
	return mapErr("create repository", err)
}

func (s *Store) GetRepository(ctx context.Context, sc store.Scope, id string) (*store.Repository, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get repository", "repositories", repoCols, "owner_user_id", sc, id, "", scanRepo)
}

func (s *Store) ListRepositories(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Repository, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("project_id = " + q.arg(projectID))
	q.scope(sc, "owner_user_id")
	return listPage(ctx, s.pool, "list repositories", repoCols, "repositories", &q, p, scanRepo, func(x *store.Repository) string { return x.ID })
}

// ListRepositoriesByIngestStatus returns, oldest first, repositories in any of statuses.
func (s *Store) ListRepositoriesByIngestStatus(ctx context.Context, statuses []string) ([]store.Repository, error) {
	if len(statuses) == 0 {
		return []store.Repository{}, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list repositories by ingest status",
		`SELECT `+repoCols+` FROM repositories WHERE ingest_status = ANY($1) ORDER BY id`, []any{statuses}, scanRepo)
}

func (s *Store) UpdateRepository(ctx context.Context, sc store.Scope, id string, fn func(*store.Repository) error) (*store.Repository, error) {
	return updateLocked(ctx, s, "update repository",
		func(ctx context.Context, tx pgx.Tx) (*store.Repository, error) {
			return selectOne(ctx, tx, "update repository", "repositories", repoCols, "owner_user_id", sc, id, " FOR UPDATE", scanRepo)
		}, fn,
		// Identity and ownership are not the callback's to change.
		func(old, r *store.Repository) {
			r.ID, r.OwnerUserID, r.ProjectID = old.ID, old.OwnerUserID, old.ProjectID
		},
		func(ctx context.Context, tx pgx.Tx, r *store.Repository) error {
			r.CreatedAt, r.UpdatedAt = ts(r.CreatedAt), ts(r.UpdatedAt)
			_, err := tx.Exec(ctx, `UPDATE repositories SET name=$2, source_type=$3, git_url=$4, git_ref=$5,
				ingest_status=$6, ingest_error=$7, latest_snapshot_id=$8, pending_upload_key=$9,
				created_at=$10, updated_at=$11 WHERE id=$1`,
				r.ID, r.Name, r.SourceType, r.GitURL, r.GitRef, r.IngestStatus, toJSON(r.IngestError),
				r.LatestSnapshotID, r.PendingUploadKey, r.CreatedAt, r.UpdatedAt)
			return mapErr("update repository", err)
		})
}

// DeleteRepository deletes the repository; foreign keys cascade to its
// snapshots, profile, scans (with events, links and runner jobs) and findings
// (with history).
func (s *Store) DeleteRepository(ctx context.Context, sc store.Scope, id string) error {
	return s.deleteOne(ctx, "delete repository", "repositories", "owner_user_id", sc, id)
}
