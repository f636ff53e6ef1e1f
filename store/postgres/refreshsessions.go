package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var refreshSessions = table[store.RefreshSession]{name: "refresh_sessions", owner: "user_id",
	cols: `id, user_id, token_hash, family, expires_at, revoked_at, created_at`,
	dests: func(x *store.RefreshSession) []any {
		return []any{&x.ID, &x.UserID, &x.TokenHash, &x.Family, &x.ExpiresAt, &x.RevokedAt, &x.CreatedAt}
	}}

func (s *Store) fillRefresh(rs *store.RefreshSession) error {
	store.Stamp(&rs.ID, &rs.CreatedAt, store.PrefixRefresh, s.nowUTC())
	if rs.TokenHash == "" {
		return errors.New("postgres: refresh token hash is required")
	}
	rs.CreatedAt, rs.ExpiresAt, rs.RevokedAt = ts(rs.CreatedAt), ts(rs.ExpiresAt), tsp(rs.RevokedAt)
	return nil
}

func insertRefresh(ctx context.Context, tx pgx.Tx, rs *store.RefreshSession) error {
	return refreshSessions.insert(ctx, tx, "create refresh session",
		rs.ID, rs.UserID, rs.TokenHash, rs.Family, rs.ExpiresAt, rs.RevokedAt, rs.CreatedAt)
}

func (s *Store) CreateRefreshSession(ctx context.Context, rs *store.RefreshSession) error {
	if err := s.fillRefresh(rs); err != nil {
		return err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.inTx(ctx, "create refresh session", func(tx pgx.Tx) error { return insertRefresh(ctx, tx, rs) })
}

func (s *Store) GetRefreshSessionByHash(ctx context.Context, hash string) (*store.RefreshSession, error) {
	return refreshSessions.getBy(ctx, s, "get refresh session", "token_hash", hash)
}

// RotateRefreshSession revokes oldID only if it is still live (a conditional
// update, so two concurrent rotations of one token cannot both win) and
// inserts next in the same transaction.
func (s *Store) RotateRefreshSession(ctx context.Context, oldID string, next *store.RefreshSession, now time.Time) error {
	if err := s.fillRefresh(next); err != nil {
		return err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.inTx(ctx, "rotate refresh session", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE refresh_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, oldID, ts(now))
		if err != nil {
			return mapErr("rotate refresh session", err)
		}
		if tag.RowsAffected() == 0 {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refresh_sessions WHERE id = $1)`, oldID).Scan(&exists); err != nil {
				return mapErr("rotate refresh session", err)
			}
			if exists {
				return store.ErrConflict
			}
			return store.ErrNotFound
		}
		return insertRefresh(ctx, tx, next)
	})
}

func (s *Store) RevokeRefreshFamily(ctx context.Context, family string, now time.Time) error {
	return s.revokeLiveSessions(ctx, "family", family, now)
}

func (s *Store) RevokeUserRefreshSessions(ctx context.Context, userID string, now time.Time) error {
	return s.revokeLiveSessions(ctx, "user_id", userID, now)
}

// revokeLiveSessions revokes the live sessions whose column (a constant of
// this file, never input) equals value; the partial indexes of migration 0005
// cover both columns.
func (s *Store) revokeLiveSessions(ctx context.Context, column, value string, now time.Time) error {
	if value == "" {
		return nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE refresh_sessions SET revoked_at = $2 WHERE `+column+` = $1 AND revoked_at IS NULL`, value, ts(now))
	return mapErr("revoke refresh sessions by "+column, err)
}

func (s *Store) GetLiveRefreshSession(ctx context.Context, family string) (*store.RefreshSession, error) {
	if family == "" {
		return nil, store.ErrNotFound
	}
	return refreshSessions.getWhere(ctx, s, "get live refresh session",
		`family = $1 AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1`, family)
}

// GetSessionUser is one round trip: the user row, present only while the
// family has a live session (refresh_sessions_live_family_idx, migration 0005).
func (s *Store) GetSessionUser(ctx context.Context, userID, family string, now time.Time) (*store.User, error) {
	if userID == "" || family == "" {
		return nil, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	u, err := users.scan(s.pool.QueryRow(ctx, `SELECT `+users.cols+` FROM users WHERE id = $1 AND EXISTS (
		SELECT 1 FROM refresh_sessions WHERE family = $2 AND revoked_at IS NULL AND user_id = $1 AND expires_at > $3)`,
		userID, family, ts(now)))
	if err != nil {
		return nil, mapErr("get session user", err)
	}
	return &u, nil
}

func (s *Store) DeleteExpiredRefreshSessions(ctx context.Context, before time.Time) (int, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM refresh_sessions WHERE expires_at < $1`, before)
	if err != nil {
		return 0, mapErr("delete expired refresh sessions", err)
	}
	return int(tag.RowsAffected()), nil
}
