package migrate_test

import (
	"context"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vegasec/vega/app/migrate"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func versions(t *testing.T) []string {
	t.Helper()
	files, err := migrate.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no embedded migrations")
	}
	var out []string
	for _, f := range files {
		out = append(out, f.Version)
	}
	return out
}

func TestMigrateAppliesAllThenNothing(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	want := versions(t)

	pending, err := migrate.Pending(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(pending, want) {
		t.Fatalf("pending on empty db = %v, want %v", pending, want)
	}
	applied, err := migrate.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(applied, want) {
		t.Fatalf("applied = %v, want %v", applied, want)
	}
	if pending, err = migrate.Pending(ctx, pool); err != nil || len(pending) != 0 {
		t.Fatalf("pending after migrate = %v, %v", pending, err)
	}
	if applied, err = migrate.Migrate(ctx, pool); err != nil || len(applied) != 0 {
		t.Fatalf("second migrate applied %v, %v", applied, err)
	}
	// The schema is really there, not just recorded.
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('users','scans','events','findings')`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("core tables present = %d, %v", n, err)
	}
}

func TestConcurrentMigrateAppliesEachFileOnce(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	want := versions(t)

	const runners = 4
	results := make([][]string, runners)
	errs := make([]error, runners)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range runners {
		// Separate pools: separate sessions, like separate processes.
		p, err := pgxpool.New(ctx, pool.Config().ConnString())
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = migrate.Migrate(ctx, p)
		}()
	}
	close(start)
	wg.Wait()

	total := 0
	for i := range runners {
		if errs[i] != nil {
			t.Fatalf("runner %d: %v", i, errs[i])
		}
		if len(results[i]) != 0 && !equal(results[i], want) {
			t.Fatalf("runner %d applied %v: a run must apply all or (after another run) none", i, results[i])
		}
		total += len(results[i])
	}
	if total != len(want) {
		t.Fatalf("files applied across runners = %d, want %d", total, len(want))
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(want) {
		t.Fatalf("schema_migrations rows = %d, %v", rows, err)
	}
}

func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	bad := fstest.MapFS{
		"0001_ok.sql":     {Data: []byte(`CREATE TABLE ok_table (id int);`)},
		"0002_broken.sql": {Data: []byte(`CREATE TABLE half_done (id int); SELECT no_such_function();`)},
	}
	files, err := migrate.Load(bad)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := migrate.Apply(ctx, pool, files)
	if err == nil {
		t.Fatal("broken migration applied without error")
	}
	if !equal(applied, []string{"0001_ok"}) {
		t.Fatalf("applied = %v, want [0001_ok]", applied)
	}
	var half bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('half_done') IS NOT NULL`).Scan(&half); err != nil || half {
		t.Fatalf("half_done exists = %v, %v: the failed file was not rolled back", half, err)
	}
	var recorded int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = '0002_broken'`).Scan(&recorded); err != nil || recorded != 0 {
		t.Fatalf("broken version recorded %d times, %v", recorded, err)
	}
}

func TestLoadRejectsBadNames(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no number":     {"init.sql": {Data: []byte("SELECT 1")}},
		"duplicate num": {"0001_a.sql": {Data: []byte("SELECT 1")}, "0001_b.sql": {Data: []byte("SELECT 1")}},
		"upper case":    {"0001_Init.sql": {Data: []byte("SELECT 1")}},
		"short number":  {"1_init.sql": {Data: []byte("SELECT 1")}},
	} {
		if _, err := migrate.Load(fsys); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	files, err := migrate.Load(fstest.MapFS{
		"0002_b.sql": {Data: []byte("SELECT 2")},
		"0001_a.sql": {Data: []byte("SELECT 1")},
		"README.md":  {Data: []byte("ignored")},
	})
	if err != nil || len(files) != 2 || files[0].Version != "0001_a" || files[1].Version != "0002_b" {
		t.Fatalf("Load = %+v, %v; want 0001_a then 0002_b", files, err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
