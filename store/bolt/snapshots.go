package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// CreateSnapshot stores sn; ErrNotFound when its repository does not exist.
func (s *Store) CreateSnapshot(ctx context.Context, sn *store.Snapshot) error {
	if sn.ID == "" {
		sn.ID = store.NewID(store.PrefixSnapshot)
	}
	if sn.CreatedAt.IsZero() {
		sn.CreatedAt = s.nowUTC()
	}
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

// GetThreatProfile returns the repository's profile, ErrNotFound when it has none.
func (s *Store) GetThreatProfile(ctx context.Context, sc store.Scope, repositoryID string) (*store.ThreatProfile, error) {
	var out *store.ThreatProfile
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var r profileRecord
		if err := getJSON(tx.Bucket(bktProfiles), []byte(repositoryID), &r); err != nil {
			return err
		}
		if !sc.Allows(r.OwnerUserID) {
			return store.ErrNotFound
		}
		out = r.profile()
		return nil
	})
	return out, err
}

// PutThreatProfile creates or replaces the repository's profile. The profile
// keeps its first ID across replacements, so tp.ID is set to the stored one.
func (s *Store) PutThreatProfile(ctx context.Context, tp *store.ThreatProfile) error {
	if tp.UpdatedAt.IsZero() {
		tp.UpdatedAt = s.nowUTC()
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getRepository(tx, store.System(), tp.RepositoryID); err != nil {
			return fmt.Errorf("repository %q: %w", tp.RepositoryID, err)
		}
		b := tx.Bucket(bktProfiles)
		var existing profileRecord
		switch err := getJSON(b, []byte(tp.RepositoryID), &existing); {
		case err == nil:
			tp.ID = existing.ID
		case isNotFound(err):
			if tp.ID == "" {
				tp.ID = store.NewID(store.PrefixProfile)
			}
		default:
			return err
		}
		return putJSON(b, []byte(tp.RepositoryID), profileToRecord(tp))
	})
}
