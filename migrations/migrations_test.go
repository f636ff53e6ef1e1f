package migrations_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vegasec/vega/app/migrate"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

// emptyDatabase connects to a new, empty database for one test, which has a
// minute in all.
func emptyDatabase(t *testing.T) (context.Context, *pgxpool.Pool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return ctx, pool
}

// TestSchema applies every embedded file to an empty database and checks the
// properties the store relies on: one table per entity, and every foreign key
// cascading so DeleteProject/DeleteRepository are a single DELETE.
func TestSchema(t *testing.T) {
	ctx, pool := emptyDatabase(t)
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
		"runner_jobs", "usage_records", "workers", "git_uploads", "schema_migrations", "threat_profile_versions",
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

// TestUpgradeWithData applies 0001, stores a finding and a signed-in user the
// old way, then the rest: later files must migrate existing rows (0002
// backfills the generated search column, 0003 the snapshots' stored bytes,
// 0005 gives users session generation 0 so tokens issued before the upgrade
// stay valid, 0006 frees Cognito users' emails, 0009 gives findings their category as rule), not just empty tables.
func TestUpgradeWithData(t *testing.T) {
	ctx, pool := emptyDatabase(t)
	files, err := migrate.Files()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Apply(ctx, pool, files[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO projects (id, owner_user_id, name, created_at, updated_at) VALUES ('prj_1', 'usr_1', 'p', now(), now());
		INSERT INTO repositories (id, project_id, owner_user_id, name, source_type, ingest_status, created_at, updated_at)
			VALUES ('repo_1', 'prj_1', 'usr_1', 'r', 'git', 'ready', now(), now());
		INSERT INTO findings (id, repository_id, project_id, owner_user_id, title, description, file_path, category, status, created_at, updated_at)
			VALUES ('fnd_1', 'repo_1', 'prj_1', 'usr_1', 'SQL Injection', 'Body', 'src/A.go', 'Injection', 'open', now(), now());
		INSERT INTO snapshots (id, repository_id, owner_user_id, total_bytes, created_at)
			VALUES ('snap_1', 'repo_1', 'usr_1', 6442450944, now());
		INSERT INTO threat_profiles (repository_id, id, owner_user_id, status, source, content, updated_at, updated_by)
			VALUES ('repo_1', 'tp_1', 'usr_1', 'ready', 'edited', '{"summary": "hand written"}', now(), 'usr_1');
		INSERT INTO users (id, email, created_at) VALUES ('usr_1', 'a@example.com', now());
		INSERT INTO refresh_sessions (id, user_id, token_hash, family, expires_at, created_at)
			VALUES ('rs_1', 'usr_1', 'h', 'fam_1', now() + interval '1 hour', now());`,
		pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	applied, err := migrate.Migrate(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != len(files)-1 {
		t.Fatalf("applied %v after 0001, want the %d later files", applied, len(files)-1)
	}
	// 0009: the category becomes the rule and the search column gains it.
	var search, rule string
	if err := pool.QueryRow(ctx, `SELECT search, rule_id FROM findings WHERE id = 'fnd_1'`).Scan(&search, &rule); err != nil {
		t.Fatal(err)
	}
	if want := "sql injection\x1fbody\x1fsrc/a.go\x1finjection"; search != want || rule != "Injection" {
		t.Fatalf("search = %q, rule_id = %q; want %q, Injection", search, rule, want)
	}
	// 0011: a ready profile of before versions has its first version.
	var vid, vsummary string
	if err := pool.QueryRow(ctx, `SELECT id, content->>'summary' FROM threat_profile_versions WHERE repository_id = 'repo_1'`).Scan(&vid, &vsummary); err != nil {
		t.Fatal(err)
	}
	if !store.HasPrefix(vid, store.PrefixProfileV) || vsummary != "hand written" {
		t.Fatalf("backfilled version %q %q", vid, vsummary)
	}
	// 0003: a snapshot of before the quotas counts its source size.
	var stored int64
	if err := pool.QueryRow(ctx, `SELECT stored_bytes FROM snapshots WHERE id = 'snap_1'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 6442450944 {
		t.Fatalf("stored_bytes = %d, want the source size", stored)
	}
	// 0005: a user of before session generations is at generation 0.
	var gen int64
	if err := pool.QueryRow(ctx, `SELECT session_generation FROM users WHERE id = 'usr_1'`).Scan(&gen); err != nil || gen != 0 {
		t.Fatalf("session_generation of an existing user = %d, %v; want 0", gen, err)
	}
	// 0006: nobody's sessions were ended; Cognito users may share an email
	// with anyone, local users still may not share one.
	var ended *time.Time
	if err := pool.QueryRow(ctx, `SELECT sessions_ended_at FROM users WHERE id = 'usr_1'`).Scan(&ended); err != nil || ended != nil {
		t.Fatalf("sessions_ended_at of an existing user = %v, %v; want NULL", ended, err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO users (id, email, auth_subject, created_at) VALUES
		('usr_2', 'A@example.com', 'sub-2', now()), ('usr_3', 'a@example.com', 'sub-3', now())`); err != nil {
		t.Fatalf("Cognito users with a local user's email: %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO users (id, email, created_at) VALUES ('usr_4', ' A@EXAMPLE.com', now())`); err == nil {
		t.Fatal("a second local user with the same email was accepted")
	}
}
