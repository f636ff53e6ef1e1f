package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// GetThreatProfile returns the repository's profile, ErrNotFound when it has none.
func (s *Store) GetThreatProfile(ctx context.Context, sc store.Scope, repositoryID string) (*store.ThreatProfile, error) {
	return profiles.read(ctx, s, sc, repositoryID)
}

// PutThreatProfile creates or replaces the repository's profile. The profile
// keeps its first ID across replacements, so tp.ID is set to the stored one.
func (s *Store) PutThreatProfile(ctx context.Context, tp *store.ThreatProfile) error {
	if tp.UpdatedAt.IsZero() {
		tp.UpdatedAt = s.nowUTC()
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := parentExists(tx, repos, tp.RepositoryID); err != nil {
			return err
		}
		switch existing, err := profiles.get(tx, tp.RepositoryID); {
		case err == nil:
			tp.ID = existing.ID
		case isNotFound(err):
			if tp.ID == "" {
				tp.ID = store.NewID(store.PrefixProfile)
			}
		default:
			return err
		}
		if err := profiles.put(tx, tp); err != nil {
			return err
		}
		if tp.Status != store.ProfileReady {
			return nil
		}
		return addProfileVersion(tx, tp)
	})
}

// profileVersionPrefix is the key prefix of one repository's versions; the
// rest of a key is a big-endian bucket sequence, so keys sort oldest first.
func profileVersionPrefix(repositoryID string) []byte {
	return append(compositeKey(repositoryID), 0)
}

// addProfileVersion keeps tp's content as a version and drops the oldest
// beyond store.MaxProfileVersions.
func addProfileVersion(tx *bolt.Tx, tp *store.ThreatProfile) error {
	b := tx.Bucket(bktProfileVers)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	v := store.ThreatProfileVersion{ID: store.NewID(store.PrefixProfileV), RepositoryID: tp.RepositoryID,
		OwnerUserID: tp.OwnerUserID, Source: tp.Source, Content: tp.Content, CreatedAt: tp.UpdatedAt, CreatedBy: tp.UpdatedBy}
	prefix := profileVersionPrefix(tp.RepositoryID)
	if err := putJSON(b, append(prefix, uint64Key(seq)...), profileVersions.toRecord(&v)); err != nil {
		return err
	}
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys[:max(0, len(keys)-store.MaxProfileVersions)] {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// keepReadyProfiles gives every ready profile written before versions were
// kept its first version, so the first change after an upgrade can be undone.
func keepReadyProfiles(tx *bolt.Tx) error {
	return profiles.each(tx, func(tp *store.ThreatProfile) error {
		if tp.Status != store.ProfileReady {
			return nil
		}
		return addProfileVersion(tx, tp)
	})
}

// ListThreatProfileVersions returns the repository's kept versions, newest first.
func (s *Store) ListThreatProfileVersions(ctx context.Context, sc store.Scope, repositoryID string) ([]store.ThreatProfileVersion, error) {
	out := []store.ThreatProfileVersion{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if _, err := repos.getIn(tx, sc, repositoryID); err != nil {
			return err
		}
		prefix := profileVersionPrefix(repositoryID)
		c := tx.Bucket(bktProfileVers).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var r versionRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bolt: decode profile version %q: %w", k, err)
			}
			if sc.Allows(r.OwnerUserID) {
				out = append(out, *profileVersions.fromRecord(&r))
			}
		}
		slices.Reverse(out)
		return nil
	})
	return out, err
}

// GetThreatProfileVersion returns one kept version of the repository's profile.
func (s *Store) GetThreatProfileVersion(ctx context.Context, sc store.Scope, repositoryID, versionID string) (*store.ThreatProfileVersion, error) {
	vs, err := s.ListThreatProfileVersions(ctx, sc, repositoryID)
	if err != nil {
		return nil, err
	}
	for i := range vs {
		if vs[i].ID == versionID {
			return &vs[i], nil
		}
	}
	return nil, store.ErrNotFound
}
