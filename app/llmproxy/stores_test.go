package llmproxy

import (
	"context"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/tempbolt"
)

func openBolt(tb testing.TB) store.Store { return tempbolt.Open(tb) }

// openPostgres gives the test a fresh migrated database (skips without
// VEGA_TEST_DATABASE_URL, fails under CI=true; see pgtest).
func openPostgres(tb testing.TB) store.Store { return pgtest.OpenStore(tb) }

// seedScan creates a user, project, repository and a running scan.
func seedScan(tb testing.TB, st store.Store) *store.Scan {
	tb.Helper()
	ctx := context.Background()
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: store.NewID("") + "@example.com", Groups: []string{store.GroupUser}, CreatedAt: time.Now()}
	if err := st.CreateUser(ctx, u); err != nil {
		tb.Fatal(err)
	}
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: "p", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateProject(ctx, p); err != nil {
		tb.Fatal(err)
	}
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: "r", SourceType: store.SourceArchive,
		IngestStatus: store.IngestReady, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.CreateRepository(ctx, r); err != nil {
		tb.Fatal(err)
	}
	s := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: u.ID, Status: store.ScanRunning, CreatedAt: time.Now()}
	if err := st.CreateScan(ctx, s); err != nil {
		tb.Fatal(err)
	}
	return s
}

func usageRecords(tb testing.TB, st store.Store, userID string) []store.UsageRecord {
	tb.Helper()
	recs, err := st.ListUsageRecords(context.Background(), store.UsageFilter{UserID: userID})
	if err != nil {
		tb.Fatal(err)
	}
	return recs
}
