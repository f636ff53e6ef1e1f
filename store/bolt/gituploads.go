package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateGitUpload(ctx context.Context, g *store.GitUpload) error {
	store.Stamp(&g.ID, &g.CreatedAt, store.PrefixGitUpload, s.nowUTC())
	if g.TokenHash == "" {
		return fmt.Errorf("bolt: git upload token hash is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, idx := tx.Bucket(bktGitUploads), tx.Bucket(idxGitUploadToken)
		if b.Get([]byte(g.ID)) != nil || idx.Get([]byte(g.TokenHash)) != nil {
			return store.ErrConflict
		}
		if err := idx.Put([]byte(g.TokenHash), []byte(g.ID)); err != nil {
			return err
		}
		return putJSON(b, []byte(g.ID), gitUploadToRecord(g))
	})
}

func getGitUpload(tx *bolt.Tx, id string) (*store.GitUpload, error) {
	return getRecord(tx, bktGitUploads, id, (*gitUploadRecord).gitUpload)
}

func (s *Store) GetGitUpload(ctx context.Context, sc store.Scope, id string) (*store.GitUpload, error) {
	var out *store.GitUpload
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		if out, err = getGitUpload(tx, id); err != nil {
			return err
		}
		if !sc.Allows(out.UserID) {
			out = nil
			return store.ErrNotFound
		}
		return nil
	})
	return out, err
}

func (s *Store) GetGitUploadByTokenHash(ctx context.Context, hash string) (*store.GitUpload, error) {
	return viewByIndex(ctx, s, idxGitUploadToken, []byte(hash), getGitUpload)
}

func (s *Store) UpdateGitUpload(ctx context.Context, id string, fn func(*store.GitUpload) error) (*store.GitUpload, error) {
	var out *store.GitUpload
	err := s.update(ctx, func(tx *bolt.Tx) error {
		g, err := getGitUpload(tx, id)
		if err != nil {
			return err
		}
		hash, user := g.TokenHash, g.UserID
		if err := fn(g); err != nil {
			return err
		}
		// The token hash is indexed and the owner scopes reads; keep both fixed.
		g.ID, g.TokenHash, g.UserID = id, hash, user
		out = g
		return putJSON(tx.Bucket(bktGitUploads), []byte(id), gitUploadToRecord(g))
	})
	return out, err
}
