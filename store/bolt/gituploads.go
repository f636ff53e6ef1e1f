package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// gitUploads is the git upload bucket; its token hash is indexed in idxGitUploadToken.
var gitUploads = table[gitUploadRecord, store.GitUpload]{
	bucket: bktGitUploads, what: "git upload", toRecord: gitUploadToRecord, fromRecord: (*gitUploadRecord).gitUpload,
	key:   func(g *store.GitUpload) string { return g.ID },
	owner: func(g *store.GitUpload) string { return g.UserID },
	// The token hash is indexed and the owner scopes reads; keep both fixed.
	fixed: func(old, g *store.GitUpload) { g.ID, g.TokenHash, g.UserID = old.ID, old.TokenHash, old.UserID },
}

func (s *Store) CreateGitUpload(ctx context.Context, g *store.GitUpload) error {
	store.Stamp(&g.ID, &g.CreatedAt, store.PrefixGitUpload, s.nowUTC())
	if g.TokenHash == "" {
		return fmt.Errorf("bolt: git upload token hash is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		return gitUploads.insertIndexed(tx, g, idxGitUploadToken, []byte(g.TokenHash))
	})
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
