package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var repositories = table[store.Repository]{name: "repositories", owner: "owner_user_id",
	cols: `id, project_id, owner_user_id, name, source_type, git_url, git_ref, ingest_status,
	ingest_error, latest_snapshot_id, pending_upload_key, created_at, updated_at`,
	dests: func(x *store.Repository) []any {
		return []any{&x.ID, &x.ProjectID, &x.OwnerUserID, &x.Name, &x.SourceType, &x.GitURL, &x.GitRef,
			&x.IngestStatus, jsonCol{&x.IngestError}, &x.LatestSnapshotID, &x.PendingUploadKey, &x.CreatedAt, &x.UpdatedAt}
	}}

// CreateRepository stores r; ErrNotFound when its project does not exist.
func (s *Store) CreateRepository(ctx context.Context, r *store.Repository) error {
	store.StampUpdated(&r.ID, &r.CreatedAt, &r.UpdatedAt, store.PrefixRepo, s.nowUTC())
	r.CreatedAt, r.UpdatedAt = ts(r.CreatedAt), ts(r.UpdatedAt)
	return repositories.create(ctx, s, "create repository",
		r.ID, r.ProjectID, r.OwnerUserID, r.Name, r.SourceType, r.GitURL, r.GitRef, r.IngestStatus,
		toJSON(r.IngestError), r.LatestSnapshotID, r.PendingUploadKey, r.CreatedAt, r.UpdatedAt)
}

func (s *Store) GetRepository(ctx context.Context, sc store.Scope, id string) (*store.Repository, error) {
	return repositories.get(ctx, s, "get repository", sc, id)
}

func (s *Store) ListRepositories(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Repository, string, error) {
	return repositories.listBy(ctx, s, "list repositories", sc, "project_id", projectID, p)
}

// ListRepositoriesByIngestStatus returns, oldest first, repositories in any of statuses.
func (s *Store) ListRepositoriesByIngestStatus(ctx context.Context, statuses []string) ([]store.Repository, error) {
	if len(statuses) == 0 {
		return []store.Repository{}, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list repositories by ingest status",
		`SELECT `+repositories.cols+` FROM repositories WHERE ingest_status = ANY($1) ORDER BY id`, []any{statuses}, repositories.scan)
}

func (s *Store) UpdateRepository(ctx context.Context, sc store.Scope, id string, fn func(*store.Repository) error) (*store.Repository, error) {
	return repositories.update(ctx, s, "update repository", sc, id, fn,
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
	return repositories.delete(ctx, s, "delete repository", sc, id)
}
