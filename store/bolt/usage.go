package bolt

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateUsageRecord(ctx context.Context, r *store.UsageRecord) error {
	store.Stamp(&r.ID, &r.At, store.PrefixUsage, s.nowUTC())
	return s.update(ctx, func(tx *bolt.Tx) error { return usageRecords.insert(tx, r) })
}

// ListUsageRecords returns the user's records with From <= At < To, oldest
// first. A zero From or To leaves that side open.
func (s *Store) ListUsageRecords(ctx context.Context, f store.UsageFilter) ([]store.UsageRecord, error) {
	out := []store.UsageRecord{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if f.UserID == "" {
			return nil
		}
		return usageRecords.each(tx, func(r *store.UsageRecord) error {
			if r.UserID != f.UserID ||
				(!f.From.IsZero() && r.At.Before(f.From)) ||
				(!f.To.IsZero() && !r.At.Before(f.To)) {
				return nil
			}
			out = append(out, *r)
			return nil
		})
	})
	sortOldestFirst(out, func(x *store.UsageRecord) (time.Time, string) { return x.At, x.ID })
	return out, err
}
