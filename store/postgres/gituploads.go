package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const gitUploadCols = `id, user_id, project_id, repository_name, token_hash, expires_at, status, repository_id, created_at`

func scanGitUpload(r pgx.Row) (store.GitUpload, error) {
	var g store.GitUpload
	err := r.Scan(&g.ID, &g.UserID, &g.ProjectID, &g.RepositoryName, &g.TokenHash, &g.ExpiresAt, &g.Status, &g.RepositoryID, &g.CreatedAt)
	return g, err
}

func (s *Store) CreateGitUpload(ctx context.Context, g *store.GitUpload) error {
	store.Stamp(&g.ID, &g.CreatedAt, store.PrefixGitUpload, s.nowUTC())
	if g.TokenHash == "" {
		return errors.New("postgres: git upload token hash is required")
	}
	g.CreatedAt, g.ExpiresAt = ts(g.CreatedAt), ts(g.ExpiresAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO git_uploads (`+gitUploadCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		g.ID, g.UserID, g.ProjectID, g.RepositoryName, g.TokenHash, g.ExpiresAt, g.Status, g.RepositoryID, g.CreatedAt)
	return mapErr("create git upload", err)
}

func (s *Store) GetGitUpload(ctx context.Context, sc store.Scope, id string) (*store.GitUpload, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get git upload", "git_uploads", gitUploadCols, "user_id", sc, id, "", scanGitUpload)
}

func (s *Store) GetGitUploadByTokenHash(ctx context.Context, hash string) (*store.GitUpload, error) {
	if hash == "" {
		return nil, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	g, err := scanGitUpload(s.pool.QueryRow(ctx, `SELECT `+gitUploadCols+` FROM git_uploads WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, mapErr("get git upload", err)
	}
	return &g, nil
}

func (s *Store) UpdateGitUpload(ctx context.Context, id string, fn func(*store.GitUpload) error) (*store.GitUpload, error) {
	return updateLocked(ctx, s, "update git upload",
		func(ctx context.Context, tx pgx.Tx) (*store.GitUpload, error) {
			return selectOne(ctx, tx, "update git upload", "git_uploads", gitUploadCols, "", store.System(), id, " FOR UPDATE", scanGitUpload)
		}, fn,
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
