package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vegasec/vega/app/migrate"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/store/storetest"
)

// TestFindingSortUnderLocaleCollation runs the findings list contract on a
// database whose default collation is a language's (ICU en-US), as a
// cluster initialised with en_US.UTF-8 has. The test cluster is C.UTF-8,
// where byte-wise order is the default and a sort that forgot COLLATE "C"
// would still pass; docs/findings.md ("Rules and lists") promises byte-wise
// order on every database, which bbolt and the keyset cursors rely on.
func TestFindingSortUnderLocaleCollation(t *testing.T) {
	dsn := pgtest.NewDatabaseWith(t, "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// The premise: this database does not sort byte-wise by default.
	var localeFirst bool
	if err := pool.QueryRow(ctx, `SELECT 'lib/a.go' < 'Src/z.go'`).Scan(&localeFirst); err != nil || !localeFirst {
		t.Fatalf("the ICU database sorts byte-wise by default (lib/a.go < Src/z.go is %v, %v)", localeFirst, err)
	}
	if _, err := migrate.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	storetest.RunOnly(t, func(t *testing.T) store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pgtest.Empty(t, ctx, pool)
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, "FindingSort", "FindingSortScopes", "FindingFilters")
}
