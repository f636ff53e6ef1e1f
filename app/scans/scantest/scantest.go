// Package scantest builds real fixtures for scan tests: a bbolt store and a
// local blob store in a temporary directory, users, projects and ready
// repositories whose snapshot is built by app/ingest from given files.
package scantest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/bolt"
	"github.com/vegasec/vega/store/postgres/pgtest"

	"github.com/vegasec/vega/testutil/srctree"
)

// Env is one isolated store + blob store.
type Env struct {
	Store store.Store
	Blobs blob.Store
	Dir   string
	n     atomic.Int64
}

// New opens a fresh bolt store and blob directory, closed at test end.
func New(tb testing.TB) *Env {
	tb.Helper()
	dir := tb.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "vega.db"))
	if err != nil {
		tb.Fatalf("open bolt: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatalf("blob store: %v", err)
	}
	return &Env{Store: st, Blobs: blobs, Dir: dir}
}

// NewPostgres is New on a fresh, migrated Postgres database of its own
// (VEGA_TEST_DATABASE_URL; skipped when unset, a failure under CI=true).
func NewPostgres(tb testing.TB) *Env {
	tb.Helper()
	st := pgtest.OpenStore(tb)
	dir := tb.TempDir()
	blobs, err := blob.NewLocal(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatalf("blob store: %v", err)
	}
	return &Env{Store: st, Blobs: blobs, Dir: dir}
}

// Stores runs fn once per store implementation: bolt, and Postgres when a
// test database is available.
func Stores(t *testing.T, fn func(t *testing.T, open func(testing.TB) *Env)) {
	t.Run("bolt", func(t *testing.T) { fn(t, New) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewPostgres) })
}

// User creates a user.
func (e *Env) User(tb testing.TB) *store.User {
	tb.Helper()
	n := e.n.Add(1)
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: fmt.Sprintf("u%d@example.com", n), DisplayName: "U",
		Groups: []string{store.GroupUser}, CreatedAt: time.Now().UTC()}
	if err := e.Store.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	return u
}

// Repo creates a project and a ready repository owned by owner whose latest
// snapshot holds files (path → content).
func (e *Env) Repo(tb testing.TB, owner string, files map[string]string) (*store.Repository, *store.Snapshot) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: owner, Name: "p", CreatedAt: now, UpdatedAt: now}
	if err := e.Store.CreateProject(ctx, p); err != nil {
		tb.Fatalf("create project: %v", err)
	}
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: owner, Name: "repo",
		SourceType: store.SourceArchive, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	if err := e.Store.CreateRepository(ctx, r); err != nil {
		tb.Fatalf("create repository: %v", err)
	}
	snap := e.Snapshot(tb, r, files)
	return r, snap
}

// Snapshot builds a new snapshot of r from files and makes it the latest.
func (e *Env) Snapshot(tb testing.TB, r *store.Repository, files map[string]string) *store.Snapshot {
	tb.Helper()
	ctx := context.Background()
	src := tb.TempDir()
	srctree.WriteFiles(tb, src, files)
	snap := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r.ID, OwnerUserID: r.OwnerUserID, CreatedAt: time.Now().UTC()}
	if err := ingest.BuildSnapshot(ctx, src, e.Blobs, snap); err != nil {
		tb.Fatalf("build snapshot: %v", err)
	}
	if err := e.Store.CreateSnapshot(ctx, snap); err != nil {
		tb.Fatalf("create snapshot: %v", err)
	}
	up, err := e.Store.UpdateRepository(ctx, store.System(), r.ID, func(x *store.Repository) error {
		x.LatestSnapshotID = snap.ID
		return nil
	})
	if err != nil {
		tb.Fatalf("update repository: %v", err)
	}
	*r = *up
	return snap
}

// Scan reads a scan, whoever owns it.
func (e *Env) Scan(tb testing.TB, id string) *store.Scan {
	tb.Helper()
	s, err := e.Store.GetScan(context.Background(), store.System(), id)
	if err != nil {
		tb.Fatalf("get scan %s: %v", id, err)
	}
	return s
}

// Events lists a scan's events (the first store.MaxLimit).
func (e *Env) Events(tb testing.TB, id string) []store.Event {
	tb.Helper()
	evs, err := e.Store.ListEvents(context.Background(), id, 0, store.MaxLimit)
	if err != nil {
		tb.Fatalf("list events of %s: %v", id, err)
	}
	return evs
}
