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
	store.Stamp(&rs.ID, &rs.CreatedAt, store.PrefixRefresh, s.nowUTC())
}

func insertRefresh(tx *bolt.Tx, rs *store.RefreshSession) error {
	if err := refreshSessions.insertIndexed(tx, rs, idxRefreshHash, []byte(rs.TokenHash)); err != nil {
		return err
	}
	if rs.RevokedAt == nil && rs.Family != "" {
		return tx.Bucket(idxRefreshLive).Put([]byte(rs.Family), []byte(rs.ID))
	}
	return nil
}

// revokeRefresh marks rs revoked at `at` and drops it from the live index.
func revokeRefresh(tx *bolt.Tx, rs *store.RefreshSession, at time.Time) error {
	rs.RevokedAt = &at
	live := tx.Bucket(idxRefreshLive)
	if string(live.Get([]byte(rs.Family))) == rs.ID {
		if err := live.Delete([]byte(rs.Family)); err != nil {
			return err
		}
	}
	return refreshSessions.put(tx, rs)
}

// fillRefreshLive indexes the unrevoked sessions of a file written before
// idxRefreshLive existed.
func fillRefreshLive(tx *bolt.Tx) error {
	live := tx.Bucket(idxRefreshLive)
	return refreshSessions.each(tx, func(r *store.RefreshSession) error {
		if r.RevokedAt != nil || r.Family == "" {
			return nil
		}
		return live.Put([]byte(r.Family), []byte(r.ID))
	})
}

func (s *Store) GetRefreshSessionByHash(ctx context.Context, hash string) (*store.RefreshSession, error) {
	return viewByIndex(ctx, s, idxRefreshHash, []byte(hash), refreshSessions.get)
}

// RotateRefreshSession revokes oldID and stores next in one transaction. A
// second rotation of the same token finds it revoked and gets ErrConflict.
func (s *Store) RotateRefreshSession(ctx context.Context, oldID string, next *store.RefreshSession, now time.Time) error {
	s.fillRefresh(next)
	if next.TokenHash == "" {
		return fmt.Errorf("bolt: refresh token hash is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		old, err := refreshSessions.get(tx, oldID)
		if err != nil {
			return err
		}
		if old.RevokedAt != nil {
			return store.ErrConflict
		}
		if err := revokeRefresh(tx, old, now.UTC()); err != nil {
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
	return s.revokeWhere(ctx, now, func(rs *store.RefreshSession) bool { return rs.Family == family })
}

// RevokeUserRefreshSessions revokes every not yet revoked session of the user.
func (s *Store) RevokeUserRefreshSessions(ctx context.Context, userID string, now time.Time) error {
	if userID == "" {
		return nil
	}
	return s.revokeWhere(ctx, now, func(rs *store.RefreshSession) bool { return rs.UserID == userID })
}

// revokeWhere revokes the live sessions match accepts. Revocation is rare
// (logout, reuse, password change), so a walk of the sessions is enough.
func (s *Store) revokeWhere(ctx context.Context, now time.Time, match func(*store.RefreshSession) bool) error {
	at := now.UTC()
	return s.update(ctx, func(tx *bolt.Tx) error {
		_, err := refreshSessions.applyWhere(tx, func(rs *store.RefreshSession) bool { return rs.RevokedAt == nil && match(rs) },
			func(rs *store.RefreshSession) error { return revokeRefresh(tx, rs, at) })
		return err
	})
}

func (s *Store) GetLiveRefreshSession(ctx context.Context, family string) (*store.RefreshSession, error) {
	var rs *store.RefreshSession
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id, err := idLookup(tx, idxRefreshLive, []byte(family))
		if err != nil {
			return err
		}
		if rs, err = refreshSessions.get(tx, id); err == nil && rs.RevokedAt != nil {
			err = store.ErrNotFound
		}
		return err
	})
	return rs, err
}

// GetSessionUser follows the family's live-session index: two point reads.
func (s *Store) GetSessionUser(ctx context.Context, userID, family string, now time.Time) (*store.User, error) {
	var u *store.User
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id, err := idLookup(tx, idxRefreshLive, []byte(family))
		if err != nil {
			return err
		}
		rs, err := refreshSessions.get(tx, id)
		if err != nil {
			return err
		}
		if rs.UserID != userID || rs.RevokedAt != nil || !rs.ExpiresAt.After(now) {
			return store.ErrNotFound
		}
		u, err = users.get(tx, userID)
		return err
	})
	return u, err
}

// DeleteExpiredRefreshSessions removes sessions that expired before `before`.
func (s *Store) DeleteExpiredRefreshSessions(ctx context.Context, before time.Time) (int, error) {
	return valueIn(ctx, s.update, func(tx *bolt.Tx) (int, error) {
		hashes, live := tx.Bucket(idxRefreshHash), tx.Bucket(idxRefreshLive)
		return refreshSessions.applyWhere(tx, func(rs *store.RefreshSession) bool { return rs.ExpiresAt.Before(before) }, func(rs *store.RefreshSession) error {
			if err := hashes.Delete([]byte(rs.TokenHash)); err != nil {
				return err
			}
			if string(live.Get([]byte(rs.Family))) == rs.ID {
				if err := live.Delete([]byte(rs.Family)); err != nil {
					return err
				}
			}
			return refreshSessions.delete(tx, rs.ID)
		})
	})
}
