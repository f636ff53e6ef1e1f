package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

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
	store.Stamp(&u.ID, &u.CreatedAt, store.PrefixUser, s.nowUTC())
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
