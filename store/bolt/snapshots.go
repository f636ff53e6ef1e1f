package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// CreateSnapshot stores sn; ErrNotFound when its repository does not exist.
func (s *Store) CreateSnapshot(ctx context.Context, sn *store.Snapshot) error {
	store.Stamp(&sn.ID, &sn.CreatedAt, store.PrefixSnapshot, s.nowUTC())
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getRepository(tx, store.System(), sn.RepositoryID); err != nil {
			return fmt.Errorf("repository %q: %w", sn.RepositoryID, err)
		}
		b := tx.Bucket(bktSnapshots)
		if b.Get([]byte(sn.ID)) != nil {
			return store.ErrConflict
		}
		if err := putOwned(tx, sn.OwnerUserID, ownedSnapshot, sn.ID, sn.StoredBytes); err != nil {
			return err
		}
		return putJSON(b, []byte(sn.ID), snapshotToRecord(sn))
	})
}

func (s *Store) GetSnapshot(ctx context.Context, sc store.Scope, id string) (*store.Snapshot, error) {
	var out *store.Snapshot
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var r snapshotRecord
		if err := getJSON(tx.Bucket(bktSnapshots), []byte(id), &r); err != nil {
			return err
		}
		if !sc.Allows(r.OwnerUserID) {
			return store.ErrNotFound
		}
		out = r.snapshot()
		return nil
	})
	return out, err
}

func (s *Store) ListSnapshots(ctx context.Context, sc store.Scope, repositoryID string, p store.Page) ([]store.Snapshot, string, error) {
	var out []store.Snapshot
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listDesc(tx.Bucket(bktSnapshots), p, decodeAs((*snapshotRecord).snapshot,
			func(x *store.Snapshot) bool { return x.RepositoryID == repositoryID && sc.Allows(x.OwnerUserID) }))
		return err
	})
	return out, next, err
}
