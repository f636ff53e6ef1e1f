package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/store/storetest"
)

// TestContract runs the shared store contract (the same cases as bbolt). The
// cases share one migrated database and each starts from emptied tables:
// creating a database costs ~1 s here and TRUNCATE (new files, one fsync per
// relation) most of that; DELETE on these tiny tables is one commit.
func TestContract(t *testing.T) {
	base := pgtest.OpenStore(t)
	dsn := base.Pool().Config().ConnString()
	storetest.Run(t, func(t *testing.T) store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		emptyAll(t, ctx, base)
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// emptyAll deletes every row of every table except the migration record.
func emptyAll(t *testing.T, ctx context.Context, s *postgres.Store) {
	t.Helper()
	rows, _ := s.Pool().Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables
		WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'
		ORDER BY tablename = 'finding_counts'`) // last: deleting findings writes to it (0013)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("no tables to empty: schema missing")
	}
	sql := ""
	for _, name := range tables {
		sql += "DELETE FROM " + name + ";"
	}
	// One simple-protocol batch: one implicit transaction, one commit.
	if _, err := s.Pool().Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
}
