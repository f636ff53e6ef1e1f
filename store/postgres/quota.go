package postgres

import (
	"context"

	"github.com/vegasec/vega/store"
)

// OwnedTotals answers from the owner indexes of projects, repositories and
// snapshots (migrations/0003_owned_totals.sql): index-only scans of one
// user's entries.
func (s *Store) OwnedTotals(ctx context.Context, userID string) (store.OwnedTotals, error) {
	var out store.OwnedTotals
	if userID == "" {
		return out, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM projects WHERE owner_user_id = $1),
		(SELECT count(*) FROM repositories WHERE owner_user_id = $1),
		(SELECT coalesce(sum(stored_bytes), 0)::bigint FROM snapshots WHERE owner_user_id = $1)`, userID).
		Scan(&out.Projects, &out.Repositories, &out.StoredBytes)
	return out, mapErr("owned totals", err)
}
