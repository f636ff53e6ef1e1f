package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

// ---- users ----

const userCols = `id, email, display_name, groups, auth_subject, password_hash, created_at, last_login_at, session_generation, sessions_ended_at`

func scanUser(r pgx.Row) (store.User, error) {
	var u store.User
	var groups []byte
	if err := r.Scan(&u.ID, &u.Email, &u.DisplayName, &groups, &u.AuthSubject, &u.PasswordHash, &u.CreatedAt, &u.LastLoginAt, &u.SessionGeneration, &u.SessionsEndedAt); err != nil {
		return u, err
	}
	return u, fromJSON(groups, &u.Groups)
}

func normUser(u *store.User) {
	u.CreatedAt = ts(u.CreatedAt)
	u.LastLoginAt = tsp(u.LastLoginAt)
	u.SessionsEndedAt = tsp(u.SessionsEndedAt)
}

var errEmailRequired = errors.New("postgres: user email is required")

func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	if u.ID == "" {
		u.ID = store.NewID(store.PrefixUser)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.nowUTC()
	}
	if strings.TrimSpace(u.Email) == "" {
		return errEmailRequired
	}
	normUser(u)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO users (`+userCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		u.ID, u.Email, u.DisplayName, toJSON(u.Groups), u.AuthSubject, u.PasswordHash, u.CreatedAt, u.LastLoginAt, u.SessionGeneration, u.SessionsEndedAt)
	return mapErr("create user", err)
}

func (s *Store) getUserWhere(ctx context.Context, cond string, arg any) (*store.User, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE `+cond, arg))
	if err != nil {
		return nil, mapErr("get user", err)
	}
	return &u, nil
}

func (s *Store) GetUser(ctx context.Context, id string) (*store.User, error) {
	return s.getUserWhere(ctx, `id = $1`, id)
}

// GetUserByEmail finds the local user (no auth subject) with that email,
// ignoring case and surrounding space, like the partial unique index.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	if strings.TrimSpace(email) == "" {
		return nil, store.ErrNotFound
	}
	return s.getUserWhere(ctx, `lower(btrim(email)) = lower(btrim($1)) AND auth_subject = ''`, email)
}

func (s *Store) GetUserBySubject(ctx context.Context, subject string) (*store.User, error) {
	if subject == "" {
		return nil, store.ErrNotFound
	}
	return s.getUserWhere(ctx, `auth_subject = $1`, subject)
}

func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (*store.User, error) {
	return updateLocked(ctx, s, "update user",
		func(ctx context.Context, tx pgx.Tx) (*store.User, error) {
			u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 FOR UPDATE`, id))
			return &u, mapErr("update user", err)
		}, fn,
		func(old, u *store.User) { u.ID = old.ID },
		func(ctx context.Context, tx pgx.Tx, u *store.User) error {
			if strings.TrimSpace(u.Email) == "" {
				return errEmailRequired
			}
			normUser(u)
			_, err := tx.Exec(ctx, `UPDATE users SET email=$2, display_name=$3, groups=$4, auth_subject=$5,
				password_hash=$6, created_at=$7, last_login_at=$8, session_generation=$9, sessions_ended_at=$10 WHERE id=$1`,
				u.ID, u.Email, u.DisplayName, toJSON(u.Groups), u.AuthSubject, u.PasswordHash, u.CreatedAt, u.LastLoginAt, u.SessionGeneration, u.SessionsEndedAt)
			return mapErr("update user", err)
		})
}

// DeleteUser removes the user together with their API keys and refresh
// sessions, so no credential outlives its owner.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.inTx(ctx, "delete user", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return mapErr("delete user", err)
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE user_id = $1`, id); err != nil {
			return mapErr("delete user keys", err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM refresh_sessions WHERE user_id = $1`, id)
		return mapErr("delete user sessions", err)
	})
}

func (s *Store) ListUsers(ctx context.Context, p store.Page) ([]store.User, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	return listPage(ctx, s.pool, "list users", userCols, "users", &q, p, scanUser, func(u *store.User) string { return u.ID })
}

// ---- API keys ----

const apiKeyCols = `id, user_id, name, prefix, hash, created_at, last_used_at, expires_at`

func scanAPIKey(r pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt, &k.LastUsedAt, &k.ExpiresAt)
	return k, err
}

func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	if k.ID == "" {
		k.ID = store.NewID(store.PrefixAPIKey)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.nowUTC()
	}
	if k.Hash == "" {
		return errors.New("postgres: api key hash is required")
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt = ts(k.CreatedAt), tsp(k.LastUsedAt), tsp(k.ExpiresAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, k.CreatedAt, k.LastUsedAt, k.ExpiresAt)
	return mapErr("create api key", err)
}

func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	if hash == "" {
		return nil, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash))
	if err != nil {
		return nil, mapErr("get api key", err)
	}
	return &k, nil
}

func (s *Store) ListAPIKeys(ctx context.Context, userID string, p store.Page) ([]store.APIKey, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.scope(store.OwnedBy(userID), "user_id")
	return listPage(ctx, s.pool, "list api keys", apiKeyCols, "api_keys", &q, p, scanAPIKey, func(k *store.APIKey) string { return k.ID })
}

func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	if userID == "" {
		return store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return mapErr("delete api key", err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (s *Store) DeleteUserAPIKeys(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE user_id = $1`, userID)
	if err != nil {
		return 0, mapErr("delete user api keys", err)
	}
	return int(tag.RowsAffected()), nil
}

// TouchAPIKeys sets last_used_at for many keys in one statement; a time never
// moves backwards and unknown (deleted) keys are ignored.
func (s *Store) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	ids := make([]string, 0, len(lastUsed))
	ats := make([]time.Time, 0, len(lastUsed))
	for id, at := range lastUsed {
		ids = append(ids, id)
		ats = append(ats, ts(at))
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE api_keys k SET last_used_at = v.at
		FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
		WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`, ids, ats)
	return mapErr("touch api keys", err)
}

// ---- refresh sessions ----

const refreshCols = `id, user_id, token_hash, family, expires_at, revoked_at, created_at`

func scanRefresh(r pgx.Row) (store.RefreshSession, error) {
	var x store.RefreshSession
	err := r.Scan(&x.ID, &x.UserID, &x.TokenHash, &x.Family, &x.ExpiresAt, &x.RevokedAt, &x.CreatedAt)
	return x, err
}

func (s *Store) fillRefresh(rs *store.RefreshSession) error {
	if rs.ID == "" {
		rs.ID = store.NewID(store.PrefixRefresh)
	}
	if rs.CreatedAt.IsZero() {
		rs.CreatedAt = s.nowUTC()
	}
	if rs.TokenHash == "" {
		return errors.New("postgres: refresh token hash is required")
	}
	rs.CreatedAt, rs.ExpiresAt, rs.RevokedAt = ts(rs.CreatedAt), ts(rs.ExpiresAt), tsp(rs.RevokedAt)
	return nil
}

func insertRefresh(ctx context.Context, tx pgx.Tx, rs *store.RefreshSession) error {
	_, err := tx.Exec(ctx, `INSERT INTO refresh_sessions (`+refreshCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		rs.ID, rs.UserID, rs.TokenHash, rs.Family, rs.ExpiresAt, rs.RevokedAt, rs.CreatedAt)
	return mapErr("create refresh session", err)
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
	if hash == "" {
		return nil, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	x, err := scanRefresh(s.pool.QueryRow(ctx, `SELECT `+refreshCols+` FROM refresh_sessions WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, mapErr("get refresh session", err)
	}
	return &x, nil
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
	ctx, cancel := s.op(ctx)
	defer cancel()
	x, err := scanRefresh(s.pool.QueryRow(ctx, `SELECT `+refreshCols+` FROM refresh_sessions
		WHERE family = $1 AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1`, family))
	if err != nil {
		return nil, mapErr("get live refresh session", err)
	}
	return &x, nil
}

// GetSessionUser is one round trip: the user row, present only while the
// family has a live session (refresh_sessions_live_family_idx, migration 0005).
func (s *Store) GetSessionUser(ctx context.Context, userID, family string, now time.Time) (*store.User, error) {
	if userID == "" || family == "" {
		return nil, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 AND EXISTS (
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
