package bolt

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateRefreshSession(ctx context.Context, rs *store.RefreshSession) error {
	s.fillRefresh(rs)
	if rs.TokenHash == "" {
		return fmt.Errorf("bolt: refresh token hash is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error { return insertRefresh(tx, rs) })
}

func (s *Store) fillRefresh(rs *store.RefreshSession) {
	if rs.ID == "" {
		rs.ID = store.NewID(store.PrefixRefresh)
	}
	if rs.CreatedAt.IsZero() {
		rs.CreatedAt = s.nowUTC()
	}
}

func insertRefresh(tx *bolt.Tx, rs *store.RefreshSession) error {
	sessions, hashes := tx.Bucket(bktRefresh), tx.Bucket(idxRefreshHash)
	if sessions.Get([]byte(rs.ID)) != nil || hashes.Get([]byte(rs.TokenHash)) != nil {
		return store.ErrConflict
	}
	if err := hashes.Put([]byte(rs.TokenHash), []byte(rs.ID)); err != nil {
		return err
	}
	return putJSON(sessions, []byte(rs.ID), refreshToRecord(rs))
}

func getRefresh(tx *bolt.Tx, id string) (*store.RefreshSession, error) {
	var r refreshRecord
	if err := getJSON(tx.Bucket(bktRefresh), []byte(id), &r); err != nil {
		return nil, err
	}
	return r.session(), nil
}

func (s *Store) GetRefreshSessionByHash(ctx context.Context, hash string) (*store.RefreshSession, error) {
	var rs *store.RefreshSession
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id, err := idLookup(tx, idxRefreshHash, []byte(hash))
		if err != nil {
			return err
		}
		rs, err = getRefresh(tx, id)
		return err
	})
	return rs, err
}

// RotateRefreshSession revokes oldID and stores next in one transaction. A
// second rotation of the same token finds it revoked and gets ErrConflict.
func (s *Store) RotateRefreshSession(ctx context.Context, oldID string, next *store.RefreshSession, now time.Time) error {
	s.fillRefresh(next)
	if next.TokenHash == "" {
		return fmt.Errorf("bolt: refresh token hash is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		old, err := getRefresh(tx, oldID)
		if err != nil {
			return err
		}
		if old.RevokedAt != nil {
			return store.ErrConflict
		}
		at := now.UTC()
		old.RevokedAt = &at
		if err := putJSON(tx.Bucket(bktRefresh), []byte(old.ID), refreshToRecord(old)); err != nil {
			return err
		}
		return insertRefresh(tx, next)
	})
}

// RevokeRefreshFamily revokes every not yet revoked session of the family.
func (s *Store) RevokeRefreshFamily(ctx context.Context, family string, now time.Time) error {
	if family == "" {
		return nil
	}
	at := now.UTC()
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktRefresh)
		var changed []*store.RefreshSession
		err := b.ForEach(func(k, v []byte) error {
			var r refreshRecord
			if err := getJSON(b, k, &r); err != nil {
				return err
			}
			if r.Family == family && r.RevokedAt == nil {
				rs := r.session()
				rs.RevokedAt = &at
				changed = append(changed, rs)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, rs := range changed { // bbolt forbids writes inside ForEach
			if err := putJSON(b, []byte(rs.ID), refreshToRecord(rs)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteExpiredRefreshSessions removes sessions that expired before `before`.
func (s *Store) DeleteExpiredRefreshSessions(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b, hashes := tx.Bucket(bktRefresh), tx.Bucket(idxRefreshHash)
		var expired []*store.RefreshSession
		err := b.ForEach(func(k, v []byte) error {
			var r refreshRecord
			if err := getJSON(b, k, &r); err != nil {
				return err
			}
			if r.ExpiresAt.Before(before) {
				expired = append(expired, r.session())
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, rs := range expired {
			if err := hashes.Delete([]byte(rs.TokenHash)); err != nil {
				return err
			}
			if err := b.Delete([]byte(rs.ID)); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	return n, err
}
