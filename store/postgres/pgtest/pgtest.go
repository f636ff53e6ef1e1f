// Package pgtest gives each test its own empty Postgres database.
//
// Source of the server, in order:
//  1. VEGA_TEST_DATABASE_URL (CI and this machine: a real local cluster, see
//     .ci/postgres.sh). A database vega_test_<random> is created on it and
//     dropped when the test ends, so tests never see each other's rows.
//  2. A throwaway container via testcontainers, when a Docker engine answers.
//  3. Otherwise the test is skipped with a message, except under CI=true
//     where a missing database is a failure (docs/architecture.md, "Tests").
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/testcontainers/testcontainers-go"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
	"github.com/vegasec/vega/app/migrate"
	"github.com/vegasec/vega/store/postgres"
)

// EnvDSN names the variable holding the server tests create databases on.
const EnvDSN = "VEGA_TEST_DATABASE_URL"

// ContainerImage is used only when no DSN is given and Docker answers.
const ContainerImage = "postgres:15-alpine"

// NewDatabase returns the DSN of a fresh, empty database that is dropped when
// tb finishes.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	if os.Getenv(EnvDSN) == "" {
		return containerDatabase(tb)
	}
	return newDatabase(tb, "")
}

// NewDatabaseWith is NewDatabase with CREATE DATABASE options (a template, a
// collation provider). It needs EnvDSN. Outside CI a server without that
// capability skips the test; under CI=true both are failures, since CI's
// Postgres (.ci/postgres.sh) has them.
func NewDatabaseWith(tb testing.TB, options string) string {
	tb.Helper()
	if os.Getenv(EnvDSN) == "" {
		skipOrFail(tb, "pgtest: needs "+EnvDSN+" (a server to create a database with "+options+" on)")
	}
	return newDatabase(tb, options)
}

func skipOrFail(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

func newDatabase(tb testing.TB, options string) string {
	tb.Helper()
	base := os.Getenv(EnvDSN)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	name := "vega_test_" + randomSuffix(tb)
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("pgtest: connect to %s: %v", EnvDSN, err)
	}
	defer admin.Close(ctx)
	// The name is ours (fixed prefix + hex), so quoting is belt and braces.
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if options != "" {
		create += " " + options
	}
	if _, err := admin.Exec(ctx, create); err != nil {
		if options != "" {
			skipOrFail(tb, fmt.Sprintf("pgtest: this server cannot create a database with %s: %v", options, err))
		}
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		// FORCE ends sessions a leaked pool may still hold (PG 13+).
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(base, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// withDatabase points a DSN (URL or keyword/value form) at another database.
func withDatabase(dsn, name string) (string, error) {
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvDSN, err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	// In keyword/value form the last occurrence of a key wins.
	return dsn + " dbname=" + name, nil
}

func randomSuffix(tb testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatalf("pgtest: random: %v", err)
	}
	return hex.EncodeToString(b[:])
}

func containerDatabase(tb testing.TB) string {
	tb.Helper()
	if err := dockerHealthy(); err != nil {
		skipOrFail(tb, fmt.Sprintf("pgtest: %s is unset and no Docker engine answers (%v); run `source .ci/postgres.sh` to start a local Postgres", EnvDSN, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ctr, err := tcpostgres.Run(ctx, ContainerImage,
		tcpostgres.WithDatabase("vega_test"),
		tcpostgres.WithUsername("postgres"),
		tcpostgres.WithPassword("postgres"),
		tcpostgres.BasicWaitStrategies(),
	)
	testcontainers.CleanupContainer(tb, ctr)
	if err != nil {
		tb.Fatalf("pgtest: start postgres container: %v", err)
	}
	dsn, err := ctr.ConnectionString(ctx, "sslmode=disable")
	if err != nil {
		tb.Fatalf("pgtest: container DSN: %v", err)
	}
	return dsn
}

// dockerHealthy reports why testcontainers cannot be used, or nil. Provider
// lookup can panic when no engine is configured, hence the recover.
func dockerHealthy() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("docker provider panicked: %v", r)
		}
	}()
	p, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Health(ctx)
}

// OpenStore returns a store on a fresh database of its own, migrated to the
// latest schema, closed when tb finishes. It is the one Postgres fixture of
// the store contract, service and API tests.
func OpenStore(tb testing.TB, opts ...postgres.Option) *postgres.Store {
	tb.Helper()
	return OpenStores(tb, 1, opts...)[0]
}

// OpenStores returns n stores, each with its own connection pool, on one
// fresh migrated database: n processes' worth of connections, for tests of
// what must hold across processes (locks, quotas, claims).
func OpenStores(tb testing.TB, n int, opts ...postgres.Option) []*postgres.Store {
	tb.Helper()
	dsn := NewDatabase(tb)
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
	out := make([]*postgres.Store, 0, n)
	for range n {
		s, err := postgres.Open(ctx, dsn, opts...)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		out = append(out, s)
	}
	return out
}

// Empty deletes every row of every table except the migration record, so
// tests that share one migrated database (creating one costs ~1 s) can each
// start from empty tables.
func Empty(tb testing.TB, ctx context.Context, pool *pgxpool.Pool) {
	tb.Helper()
	rows, _ := pool.Query(ctx, `SELECT quote_ident(tablename) FROM pg_tables
		WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'
		ORDER BY tablename = 'finding_counts'`) // last: deleting findings writes to it (0013)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	if len(tables) == 0 {
		tb.Fatal("no tables to empty: schema missing")
	}
	sql := ""
	for _, name := range tables {
		sql += "DELETE FROM " + name + ";"
	}
	// One simple-protocol batch: one implicit transaction, one commit.
	if _, err := pool.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		tb.Fatal(err)
	}
}
