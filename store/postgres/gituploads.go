package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var gitUploads = table[store.GitUpload]{name: "git_uploads", owner: "user_id",
	cols: `id, user_id, project_id, repository_name, token_hash, expires_at, status, repository_id, created_at`,
	dests: func(g *store.GitUpload) []any {
		return []any{&g.ID, &g.UserID, &g.ProjectID, &g.RepositoryName, &g.TokenHash, &g.ExpiresAt, &g.Status, &g.RepositoryID, &g.CreatedAt}
	}}

func (s *Store) CreateGitUpload(ctx context.Context, g *store.GitUpload) error {
	store.Stamp(&g.ID, &g.CreatedAt, store.PrefixGitUpload, s.nowUTC())
	if g.TokenHash == "" {
		return errors.New("postgres: git upload token hash is required")
	}
	g.CreatedAt, g.ExpiresAt = ts(g.CreatedAt), ts(g.ExpiresAt)
	return gitUploads.create(ctx, s, "create git upload",
		g.ID, g.UserID, g.ProjectID, g.RepositoryName, g.TokenHash, g.ExpiresAt, g.Status, g.RepositoryID, g.CreatedAt)
}

func (s *Store) GetGitUpload(ctx context.Context, sc store.Scope, id string) (*store.GitUpload, error) {
	return gitUploads.get(ctx, s, "get git upload", sc, id)
}

func (s *Store) GetGitUploadByTokenHash(ctx context.Context, hash string) (*store.GitUpload, error) {
	return gitUploads.getBy(ctx, s, "get git upload", "token_hash", hash)
}

func (s *Store) UpdateGitUpload(ctx context.Context, id string, fn func(*store.GitUpload) error) (*store.GitUpload, error) {
	return gitUploads.update(ctx, s, "update git upload", store.System(), id, fn,
		// The token hash is unique and the owner scopes reads; keep both fixed.
		func(old, g *store.GitUpload) { g.ID, g.TokenHash, g.UserID = old.ID, old.TokenHash, old.UserID },
		func(ctx context.Context, tx pgx.Tx, g *store.GitUpload) error {
			g.CreatedAt, g.ExpiresAt = ts(g.CreatedAt), ts(g.ExpiresAt)
			_, err := tx.Exec(ctx, `UPDATE git_uploads SET project_id=$2, repository_name=$3, expires_at=$4,
				status=$5, repository_id=$6, created_at=$7 WHERE id=$1`,
				g.ID, g.ProjectID, g.RepositoryName, g.ExpiresAt, g.Status, g.RepositoryID, g.CreatedAt)
			return mapErr("update git upload", err)
		})
}
