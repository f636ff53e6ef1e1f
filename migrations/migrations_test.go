package migrations_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vegasec/vega/app/migrate"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

// TestSchema applies every embedded file to an empty database and checks the
// properties the store relies on: one table per entity, and every foreign key
// cascading so DeleteProject/DeleteRepository are a single DELETE.
func TestSchema(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := migrate.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}

	rows, _ := pool.Query(ctx, `SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"users", "api_keys", "refresh_sessions", "projects", "repositories", "snapshots",
		"threat_profiles", "scans", "events", "findings", "scan_findings", "finding_history",
		"runner_jobs", "usage_records", "workers", "git_uploads", "schema_migrations",
	} {
		if !slices.Contains(tables, want) {
			t.Errorf("table %s missing (have %v)", want, tables)
		}
	}

	rows, _ = pool.Query(ctx, `SELECT conrelid::regclass::text || '.' || conname FROM pg_constraint WHERE contype = 'f' AND confdeltype <> 'c'`)
	nonCascading, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(nonCascading) > 0 {
		t.Errorf("foreign keys without ON DELETE CASCADE: %v", nonCascading)
	}
}
