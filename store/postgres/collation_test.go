package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
	base := os.Getenv(pgtest.EnvDSN)
	if base == "" || !hasURLForm(base) {
		t.Skip("needs " + pgtest.EnvDSN + " as a URL (a server to create an ICU database on)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "vega_test_icu_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+
		" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"); err != nil {
		t.Skipf("this server cannot create an ICU database (%v)", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	dsn := u.String()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// The premise: this database does not sort byte-wise by default.
	var localeFirst bool
	if err := pool.QueryRow(ctx, `SELECT 'lib/a.go' < 'Src/z.go'`).Scan(&localeFirst); err != nil || !localeFirst {
		t.Fatalf("database %s sorts byte-wise by default (lib/a.go < Src/z.go is %v, %v)", name, localeFirst, err)
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

func hasURLForm(dsn string) bool {
	u, err := url.Parse(dsn)
	return err == nil && u.Scheme != "" && u.Host != ""
}
