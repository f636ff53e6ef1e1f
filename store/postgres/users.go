package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var users = table[store.User]{name: "users",
	cols: `id, email, display_name, groups, auth_subject, password_hash, created_at, last_login_at, session_generation, sessions_ended_at`,
	dests: func(u *store.User) []any {
		return []any{&u.ID, &u.Email, &u.DisplayName, jsonCol{&u.Groups}, &u.AuthSubject, &u.PasswordHash, &u.CreatedAt,
			&u.LastLoginAt, &u.SessionGeneration, &u.SessionsEndedAt}
	}}

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
	return users.create(ctx, s, "create user",
		u.ID, u.Email, u.DisplayName, toJSON(u.Groups), u.AuthSubject, u.PasswordHash, u.CreatedAt, u.LastLoginAt, u.SessionGeneration, u.SessionsEndedAt)
}

func (s *Store) GetUser(ctx context.Context, id string) (*store.User, error) {
	return users.getBy(ctx, s, "get user", "id", id)
}

// GetUserByEmail finds the local user (no auth subject) with that email,
// ignoring case and surrounding space, like the partial unique index.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	if strings.TrimSpace(email) == "" {
		return nil, store.ErrNotFound
	}
	return users.getWhere(ctx, s, "get user", `lower(btrim(email)) = lower(btrim($1)) AND auth_subject = ''`, email)
}

func (s *Store) GetUserBySubject(ctx context.Context, subject string) (*store.User, error) {
	return users.getBy(ctx, s, "get user", "auth_subject", subject)
}

func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (*store.User, error) {
	return users.update(ctx, s, "update user", store.System(), id, fn,
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
		if err := deleteWhere(ctx, tx, "delete user", users.name, users.owner, store.System(), id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE user_id = $1`, id); err != nil {
			return mapErr("delete user keys", err)
		}
		_, err := tx.Exec(ctx, `DELETE FROM refresh_sessions WHERE user_id = $1`, id)
		return mapErr("delete user sessions", err)
	})
}

func (s *Store) ListUsers(ctx context.Context, p store.Page) ([]store.User, string, error) {
	return users.list(ctx, s, "list users", &query{}, p)
}
