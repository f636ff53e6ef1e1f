package bolt

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	store.Stamp(&k.ID, &k.CreatedAt, store.PrefixAPIKey, s.nowUTC())
	return apiKeys.createIndexed(ctx, s, k, idxAPIKeyHash, k.Hash, "hash")
}

func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	return viewByIndex(ctx, s, idxAPIKeyHash, []byte(hash), apiKeys.get)
}

// ListAPIKeys lists one user's keys. Keys are few per user, so a filtered walk is enough.
func (s *Store) ListAPIKeys(ctx context.Context, userID string, p store.Page) ([]store.APIKey, string, error) {
	return apiKeys.page(ctx, s, store.System(), p, func(k *store.APIKey) bool { return userID != "" && k.UserID == userID })
}

// deleteAPIKey removes k and its hash index entry.
func deleteAPIKey(tx *bolt.Tx, k *store.APIKey) error {
	if err := tx.Bucket(idxAPIKeyHash).Delete([]byte(k.Hash)); err != nil {
		return err
	}
	return apiKeys.delete(tx, k.ID)
}

// DeleteAPIKey deletes the key only when it belongs to userID; otherwise ErrNotFound.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		k, err := apiKeys.get(tx, id)
		if err != nil {
			return err
		}
		if userID == "" || k.UserID != userID {
			return store.ErrNotFound
		}
		return deleteAPIKey(tx, k)
	})
}

// DeleteUserAPIKeys deletes every key of the user (a walk: keys are few and
// this runs on a password change only).
func (s *Store) DeleteUserAPIKeys(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	return valueIn(ctx, s.update, func(tx *bolt.Tx) (int, error) {
		return apiKeys.applyWhere(tx, func(k *store.APIKey) bool { return k.UserID == userID },
			func(k *store.APIKey) error { return deleteAPIKey(tx, k) })
	})
}

// TouchAPIKeys sets last_used_at of every listed key that still exists; keys
// deleted meanwhile are skipped, and a time never moves backwards.
func (s *Store) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		for id, at := range lastUsed {
			k, err := apiKeys.get(tx, id)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if k.LastUsedAt != nil && !at.After(*k.LastUsedAt) {
				continue
			}
			at := at.UTC()
			k.LastUsedAt = &at
			if err := apiKeys.put(tx, k); err != nil {
				return err
			}
		}
		return nil
	})
}
