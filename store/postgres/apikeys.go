package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const apiKeyCols = `id, user_id, name, prefix, hash, created_at, last_used_at, expires_at`

func scanAPIKey(r pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt, &k.LastUsedAt, &k.ExpiresAt)
	return k, err
}

func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	store.Stamp(&k.ID, &k.CreatedAt, store.PrefixAPIKey, s.nowUTC())
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
