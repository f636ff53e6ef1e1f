package bolt

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) UpsertWorker(ctx context.Context, w *store.Worker) error {
	if w.ID == "" {
		w.ID = store.NewID(store.PrefixWorker)
	}
	return s.update(ctx, func(tx *bolt.Tx) error { return workers.put(tx, w) })
}

// ListWorkers returns every registered worker ordered by ID.
func (s *Store) ListWorkers(ctx context.Context) ([]store.Worker, error) {
	out := []store.Worker{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return workers.each(tx, func(w *store.Worker) error {
			out = append(out, *w)
			return nil
		})
	})
	return out, err
}

func (s *Store) DeleteWorker(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if id == "" || !workers.has(tx, id) {
			return store.ErrNotFound
		}
		return workers.delete(tx, id)
	})
}
