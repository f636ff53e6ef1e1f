package postgres_test

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

// TestStatusSetsMatchPartialIndexes: the queries build their status lists
// from the store package's sets, and the planner only uses a partial index
// whose predicate those lists imply. The migrations are plain SQL, so this
// checks their predicates against the same sets: a status added to a set
// without a migration fails here instead of silently losing the index.
func TestStatusSetsMatchPartialIndexes(t *testing.T) {
	s := pgtest.OpenStore(t)
	quoted := regexp.MustCompile(`'([a-z_]+)'`)
	for index, want := range map[string][]store.ScanStatus{
		"scans_active_owner_idx": store.ActiveScanStatuses,
		"scans_inflight_idx":     store.HeldScanStatuses,
		"scans_queued_idx":       {store.ScanQueued},
	} {
		var pred string
		err := s.Pool().QueryRow(context.Background(), `SELECT pg_get_expr(i.indpred, i.indrelid)
			FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`, index).Scan(&pred)
		if err != nil {
			t.Fatalf("%s: %v", index, err)
		}
		var got []store.ScanStatus
		for _, m := range quoted.FindAllStringSubmatch(pred, -1) {
			got = append(got, store.ScanStatus(m[1]))
		}
		slices.Sort(got)
		want = slices.Sorted(slices.Values(want))
		if !slices.Equal(got, want) {
			t.Errorf("%s is WHERE %s: statuses %v, the store's set is %v", index, pred, got, want)
		}
	}
}
