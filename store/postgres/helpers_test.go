package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vegasec/vega/app/migrate"
	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

// openFresh returns a store on a new, migrated database of its own.
func openFresh(tb testing.TB) *postgres.Store {
	tb.Helper()
	dsn := pgtest.NewDatabase(tb)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := migrate.Migrate(ctx, pool); err != nil {
		tb.Fatal(err)
	}
	pool.Close()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
