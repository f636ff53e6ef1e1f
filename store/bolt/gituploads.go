package bolt

import (
	"context"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateGitUpload(ctx context.Context, g *store.GitUpload) error {
	store.Stamp(&g.ID, &g.CreatedAt, store.PrefixGitUpload, s.nowUTC())
	return gitUploads.createIndexed(ctx, s, g, idxGitUploadToken, g.TokenHash, "token hash")
}

func (s *Store) GetGitUpload(ctx context.Context, sc store.Scope, id string) (*store.GitUpload, error) {
	return gitUploads.read(ctx, s, sc, id)
}

func (s *Store) GetGitUploadByTokenHash(ctx context.Context, hash string) (*store.GitUpload, error) {
	return viewByIndex(ctx, s, idxGitUploadToken, []byte(hash), gitUploads.get)
}

func (s *Store) UpdateGitUpload(ctx context.Context, id string, fn func(*store.GitUpload) error) (*store.GitUpload, error) {
	return gitUploads.update(ctx, s, store.System(), id, fn, nil)
}
