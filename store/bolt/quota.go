package bolt

import (
	"bytes"
	"context"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// The owned index lists every project, repository and snapshot under its
// owner (owner \x00 kind \x00 ID), snapshots with their stored size as the
// value, so OwnedTotals walks one user's keys instead of decoding every
// record. It is written in the same transaction as the rows it mirrors.
const (
	ownedProject  = "p"
	ownedRepo     = "r"
	ownedSnapshot = "s"
)

func putOwned(tx *bolt.Tx, owner, kind, id string, storedBytes int64) error {
	if owner == "" {
		return nil
	}
	var v []byte
	if kind == ownedSnapshot {
		v = uint64Key(uint64(max(storedBytes, 0)))
	}
	return tx.Bucket(idxOwned).Put(compositeKey(owner, kind, id), v)
}

func deleteOwned(tx *bolt.Tx, owner, kind, id string) error {
	if owner == "" {
		return nil
	}
	return tx.Bucket(idxOwned).Delete(compositeKey(owner, kind, id))
}

// OwnedTotals counts the user's projects and repositories and sums their
// snapshots' stored bytes from the owned index.
func (s *Store) OwnedTotals(ctx context.Context, userID string) (store.OwnedTotals, error) {
	var out store.OwnedTotals
	if userID == "" {
		return out, nil
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(idxOwned).Cursor()
		prefix := compositeKey(userID, "")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			kind, _, _ := bytes.Cut(k[len(prefix):], []byte{0})
			switch string(kind) {
			case ownedProject:
				out.Projects++
			case ownedRepo:
				out.Repositories++
			case ownedSnapshot:
				if len(v) == 8 {
					out.StoredBytes += int64(binary.BigEndian.Uint64(v))
				}
			}
		}
		return nil
	})
	return out, err
}

// buildOwnedIndex fills the owned index from the rows of a database created
// before the index existed. Snapshots of that time did not record their
// stored size; their source size stands in for it (docs/limits.md).
func buildOwnedIndex(tx *bolt.Tx) error {
	if err := projects.each(tx, func(p *store.Project) error {
		return putOwned(tx, p.OwnerUserID, ownedProject, p.ID, 0)
	}); err != nil {
		return err
	}
	if err := repos.each(tx, func(r *store.Repository) error {
		return putOwned(tx, r.OwnerUserID, ownedRepo, r.ID, 0)
	}); err != nil {
		return err
	}
	if _, err := snapshots.applyWhere(tx, func(sn *store.Snapshot) bool { return sn.StoredBytes == 0 }, func(sn *store.Snapshot) error {
		sn.StoredBytes = sn.TotalBytes
		return snapshots.put(tx, sn)
	}); err != nil {
		return err
	}
	return snapshots.each(tx, func(sn *store.Snapshot) error {
		return putOwned(tx, sn.OwnerUserID, ownedSnapshot, sn.ID, sn.StoredBytes)
	})
}
