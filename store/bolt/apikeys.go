package bolt

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	store.Stamp(&k.ID, &k.CreatedAt, store.PrefixAPIKey, s.nowUTC())
	if k.Hash == "" {
		return fmt.Errorf("bolt: api key hash is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		keys, hashes := tx.Bucket(bktAPIKeys), tx.Bucket(idxAPIKeyHash)
		if keys.Get([]byte(k.ID)) != nil || hashes.Get([]byte(k.Hash)) != nil {
			return store.ErrConflict
		}
		if err := hashes.Put([]byte(k.Hash), []byte(k.ID)); err != nil {
			return err
		}
		return putJSON(keys, []byte(k.ID), apiKeyToRecord(k))
	})
}

func getAPIKey(tx *bolt.Tx, id string) (*store.APIKey, error) {
	return getRecord(tx, bktAPIKeys, id, (*apiKeyRecord).apiKey)
}

func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	return viewByIndex(ctx, s, idxAPIKeyHash, []byte(hash), getAPIKey)
}

// ListAPIKeys lists one user's keys. Keys are few per user, so a filtered walk is enough.
func (s *Store) ListAPIKeys(ctx context.Context, userID string, p store.Page) ([]store.APIKey, string, error) {
	var out []store.APIKey
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listDesc(tx.Bucket(bktAPIKeys), p, decodeAs((*apiKeyRecord).apiKey,
			func(k *store.APIKey) bool { return userID != "" && k.UserID == userID }))
		return err
	})
	return out, next, err
}

// DeleteAPIKey deletes the key only when it belongs to userID; otherwise ErrNotFound.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		k, err := getAPIKey(tx, id)
		if err != nil {
			return err
		}
		if userID == "" || k.UserID != userID {
			return store.ErrNotFound
		}
		if err := tx.Bucket(idxAPIKeyHash).Delete([]byte(k.Hash)); err != nil {
			return err
		}
		return tx.Bucket(bktAPIKeys).Delete([]byte(id))
	})
}

// DeleteUserAPIKeys deletes every key of the user (a walk: keys are few and
// this runs on a password change only).
func (s *Store) DeleteUserAPIKeys(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		keys, hashes := tx.Bucket(bktAPIKeys), tx.Bucket(idxAPIKeyHash)
		var mine []*store.APIKey
		err := eachJSON(keys, "api key", func(r *apiKeyRecord) error {
			if r.UserID == userID {
				mine = append(mine, r.apiKey())
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range mine {
			if err := hashes.Delete([]byte(k.Hash)); err != nil {
				return err
			}
			if err := keys.Delete([]byte(k.ID)); err != nil {
				return err
			}
		}
		n = len(mine)
		return nil
	})
	return n, err
}

// TouchAPIKeys sets last_used_at of every listed key that still exists; keys
// deleted meanwhile are skipped, and a time never moves backwards.
func (s *Store) TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error {
	if len(lastUsed) == 0 {
		return nil
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		for id, at := range lastUsed {
			k, err := getAPIKey(tx, id)
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
			if err := putJSON(tx.Bucket(bktAPIKeys), []byte(id), apiKeyToRecord(k)); err != nil {
				return err
			}
		}
		return nil
	})
}
