package bolt

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// CreateSnapshot stores sn; ErrNotFound when its repository does not exist.
func (s *Store) CreateSnapshot(ctx context.Context, sn *store.Snapshot) error {
	store.Stamp(&sn.ID, &sn.CreatedAt, store.PrefixSnapshot, s.nowUTC())
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := insertUnder(tx, repos, sn.RepositoryID, snapshots, sn); err != nil {
			return err
		}
		return putOwned(tx, sn.OwnerUserID, ownedSnapshot, sn.ID, sn.StoredBytes)
	})
}

func (s *Store) GetSnapshot(ctx context.Context, sc store.Scope, id string) (*store.Snapshot, error) {
	return snapshots.read(ctx, s, sc, id)
}

func (s *Store) ListSnapshots(ctx context.Context, sc store.Scope, repositoryID string, p store.Page) ([]store.Snapshot, string, error) {
	return snapshots.page(ctx, s, sc, p, func(sn *store.Snapshot) bool { return sn.RepositoryID == repositoryID })
}
