package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

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
