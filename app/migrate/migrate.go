// Package migrate applies the embedded SQL migrations (package migrations) to a
// Postgres database and reports which ones are still pending.
//
// Each file runs in its own transaction together with its row in
// schema_migrations, so a failed file leaves no trace and can be fixed and
// retried. A session-level advisory lock serialises concurrent runners (two
// replicas starting at once): the second waits, then finds nothing to do.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vegasec/vega/migrations"
)

// advisoryLockKey is an arbitrary constant shared by every Vega process
// ("vega" in ASCII); only migration runners take it.
const advisoryLockKey int64 = 0x76656761

const createTrackingTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// fileName is NNNN_description.sql; the version is the name without ".sql".
var fileName = regexp.MustCompile(`^[0-9]{4}_[a-z0-9_]+\.sql$`)

// Migration is one embedded SQL file.
type Migration struct {
	Version string // e.g. "0001_init"
	SQL     string
}

// Files returns the embedded migrations in the order they apply. A file whose
// name breaks the NNNN_name.sql pattern, or two files with the same number,
// are errors: order must never depend on an accident of naming.
func Files() ([]Migration, error) { return Load(migrations.FS) }

// Load reads migrations from any file system (tests use it with fstest.MapFS).
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("migrate: read embedded files: %w", err)
	}
	var out []Migration
	seen := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		if !fileName.MatchString(name) {
			return nil, fmt.Errorf("migrate: %q does not match NNNN_name.sql", name)
		}
		num := name[:4]
		if other, dup := seen[num]; dup {
			return nil, fmt.Errorf("migrate: %q and %q share number %s", other, name, num)
		}
		seen[num] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", name, err)
		}
		out = append(out, Migration{Version: strings.TrimSuffix(name, ".sql"), SQL: string(body)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return strings.Compare(a.Version, b.Version) })
	return out, nil
}

// Migrate applies every pending embedded migration in order and returns the
// versions it applied (empty when the schema was current).
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	files, err := Files()
	if err != nil {
		return nil, err
	}
	return Apply(ctx, pool, files)
}

// Pending lists the embedded migrations the database has not applied yet, so
// `vega serve` can refuse to start on an old schema. It only reads: a database
// without the tracking table simply has every migration pending.
func Pending(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	files, err := Files()
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("migrate: check tracking table: %w", err)
	}
	applied := map[string]bool{}
	if exists {
		if applied, err = appliedVersions(ctx, pool); err != nil {
			return nil, err
		}
	}
	var pending []string
	for _, f := range files {
		if !applied[f.Version] {
			pending = append(pending, f.Version)
		}
	}
	return pending, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func appliedVersions(ctx context.Context, q querier) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read applied versions: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("migrate: read applied versions: %w", err)
	}
	out := make(map[string]bool, len(versions))
	for _, v := range versions {
		out[v] = true
	}
	return out, nil
}

// Apply runs the given migrations that are not recorded yet, in order, under
// the advisory lock. On error it returns the versions applied before it.
func Apply(ctx context.Context, pool *pgxpool.Pool, files []Migration) (applied []string, err error) {
	// The advisory lock belongs to a session, so hold one connection for the
	// whole run: lock, migrate and unlock all happen on it.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, advisoryLockKey); err != nil {
		return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		// Unlock with a fresh context: ctx may be the reason we are leaving.
		// If unlocking fails the connection must not go back to the pool
		// still holding the lock, so close it instead.
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, advisoryLockKey); uerr != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			err = errors.Join(err, fmt.Errorf("migrate: release advisory lock: %w", uerr))
		}
	}()

	if _, err := conn.Exec(ctx, createTrackingTable); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	for _, m := range files {
		if done[m.Version] {
			continue
		}
		if err := applyOne(ctx, conn.Conn(), m); err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

func applyOne(ctx context.Context, conn *pgx.Conn, m Migration) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// Simple protocol: a file holds many statements, which the extended
		// protocol refuses in one Exec.
		if _, err := tx.Exec(ctx, m.SQL, pgx.QueryExecModeSimpleProtocol); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", m.Version, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version); err != nil {
			return fmt.Errorf("migrate: record %s: %w", m.Version, err)
		}
		return nil
	})
}
