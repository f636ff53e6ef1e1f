package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/vegasec/vega/store"
)

var apiKeys = table[store.APIKey]{name: "api_keys", owner: "user_id",
	cols: `id, user_id, name, prefix, hash, created_at, last_used_at, expires_at`,
	dests: func(k *store.APIKey) []any {
		return []any{&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt, &k.LastUsedAt, &k.ExpiresAt}
	}}

func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	store.Stamp(&k.ID, &k.CreatedAt, store.PrefixAPIKey, s.nowUTC())
	if k.Hash == "" {
		return errors.New("postgres: api key hash is required")
	}
	k.CreatedAt, k.LastUsedAt, k.ExpiresAt = ts(k.CreatedAt), tsp(k.LastUsedAt), tsp(k.ExpiresAt)
	return apiKeys.create(ctx, s, "create api key", k.ID, k.UserID, k.Name, k.Prefix, k.Hash, k.CreatedAt, k.LastUsedAt, k.ExpiresAt)
}

func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	return apiKeys.getBy(ctx, s, "get api key", "hash", hash)
}

func (s *Store) ListAPIKeys(ctx context.Context, userID string, p store.Page) ([]store.APIKey, string, error) {
	var q query
	q.scope(store.OwnedBy(userID), apiKeys.owner)
	return apiKeys.list(ctx, s, "list api keys", &q, p)
}

// DeleteAPIKey deletes one of userID's keys (OwnedBy("") sees nothing).
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return apiKeys.delete(ctx, s, "delete api key", store.OwnedBy(userID), id)
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
