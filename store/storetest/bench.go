package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// Benchmarks shared by every implementation so their figures compare. open
// must return an empty store; it gets a testing.TB so one opener serves both
// Run (wrap it) and these.

// ListEventsStored is how many events BenchmarkListEventsAfterSeq stores first.
const ListEventsStored = 100_000

// benchScan creates the user/project/repository/scan an event log hangs off.
func benchScan(tb testing.TB, s store.Store) string {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: store.NewID("") + "@bench.example",
		Groups: []string{store.GroupUser}, CreatedAt: now}
	must(tb, s.CreateUser(ctx, u), "CreateUser")
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: "bench", CreatedAt: now, UpdatedAt: now}
	must(tb, s.CreateProject(ctx, p), "CreateProject")
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: "bench",
		SourceType: store.SourceGit, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	must(tb, s.CreateRepository(ctx, r), "CreateRepository")
	sc := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: u.ID,
		Status: store.ScanRunning, Engines: []string{"codex"}, CreatedAt: now}
	must(tb, s.CreateScan(ctx, sc), "CreateScan")
	return sc.ID
}

// benchEvents returns n realistic scan_log events (~150 bytes of payload each).
func benchEvents(n, from int) []store.Event {
	evs := make([]store.Event, n)
	for i := range evs {
		evs[i] = logEvent(fmt.Sprintf("codex: reading src/handlers/file_%06d.go to trace the request body into the query builder", from+i))
	}
	return evs
}

// BenchmarkAppendEvents appends b.N events to one scan in batches of the
// given sizes (one AppendEvents call per batch) and reports events/s. The
// batch of 1 is the baseline that shows what batching buys.
func BenchmarkAppendEvents(b *testing.B, open func(tb testing.TB) store.Store) {
	for _, batch := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := open(b)
			scanID := benchScan(b, s)
			ctx := context.Background()
			evs := benchEvents(batch, 0)
			b.ResetTimer()
			start := time.Now()
			for done := 0; done < b.N; done += batch {
				n := min(batch, b.N-done)
				if _, err := s.AppendEvents(ctx, scanID, evs[:n]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkListEventsAfterSeq stores ListEventsStored events on one scan and
// then reads pages of 100 after a seq at the head (baseline), at the tail and
// at random positions. A cursor seek makes all three cost the same; a scan
// from the start would make "tail" ~1000x "head".
func BenchmarkListEventsAfterSeq(b *testing.B, open func(tb testing.TB) store.Store) {
	s := open(b)
	scanID := benchScan(b, s)
	ctx := context.Background()
	const seedBatch = 1000
	for i := 0; i < ListEventsStored; i += seedBatch {
		if _, err := s.AppendEvents(ctx, scanID, benchEvents(seedBatch, i)); err != nil {
			b.Fatal(err)
		}
	}
	const page = 100
	positions := map[string]func() int64{
		"head":   func() int64 { return 0 },
		"tail":   func() int64 { return ListEventsStored - page },
		"random": func() int64 { return rand.Int64N(ListEventsStored - page) },
	}
	for _, name := range []string{"head", "tail", "random"} {
		after := positions[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				a := after()
				evs, err := s.ListEvents(ctx, scanID, a, page)
				if err != nil {
					b.Fatal(err)
				}
				if len(evs) != page || evs[0].Seq != a+1 {
					b.Fatalf("after %d: got %d events starting at %d", a, len(evs), evs[0].Seq)
				}
			}
		})
	}
}

// OwnedUsers users each own OwnedProjects projects of OwnedReposPerProject
// repositories with OwnedSnapshotsPerRepo snapshots: the data
// BenchmarkOwnedTotals counts one user of.
const (
	OwnedUsers            = 10
	OwnedProjects         = 10
	OwnedReposPerProject  = 10
	OwnedSnapshotsPerRepo = 5
)

// SeedOwned stores the OwnedUsers users' projects, repositories and snapshots
// (interleaved, as real users create them) and returns the first user's ID.
func SeedOwned(tb testing.TB, s store.Store) string {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	users := make([]string, OwnedUsers)
	for i := range users {
		users[i] = store.NewID(store.PrefixUser)
	}
	for range OwnedProjects {
		for _, u := range users {
			p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u, Name: "bench", CreatedAt: now, UpdatedAt: now}
			must(tb, s.CreateProject(ctx, p), "CreateProject")
			for range OwnedReposPerProject {
				r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u, Name: "bench",
					SourceType: store.SourceArchive, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
				must(tb, s.CreateRepository(ctx, r), "CreateRepository")
				for range OwnedSnapshotsPerRepo {
					sn := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r.ID, OwnerUserID: u,
						FileCount: 120, TotalBytes: 4 << 20, StoredBytes: 1 << 20, Languages: map[string]int64{"Go": 4 << 20}, CreatedAt: now}
					must(tb, s.CreateSnapshot(ctx, sn), "CreateSnapshot")
				}
			}
		}
	}
	return users[0]
}

// CheckOwned fails unless t is what SeedOwned gave each user.
func CheckOwned(tb testing.TB, t store.OwnedTotals) {
	want := store.OwnedTotals{Projects: OwnedProjects, Repositories: OwnedProjects * OwnedReposPerProject,
		StoredBytes: OwnedProjects * OwnedReposPerProject * OwnedSnapshotsPerRepo << 20}
	if t != want {
		tb.Fatalf("totals %+v, want %+v", t, want)
	}
}

// BenchmarkOwnedTotals measures the quota read every create and ingest makes.
func BenchmarkOwnedTotals(b *testing.B, s store.Store, userID string) {
	ctx := context.Background()
	for b.Loop() {
		t, err := s.OwnedTotals(ctx, userID)
		if err != nil {
			b.Fatal(err)
		}
		CheckOwned(b, t)
	}
}

// SessionRotations is how many rotated (revoked) sessions the family in
// BenchmarkSessionLookup carries: a dashboard refreshing every 15 minutes for
// 10 days. Rotated rows stay until they expire, so a family's history grows.
const SessionRotations = 1000

// BenchmarkSessionLookup measures the per-request check behind access tokens
// (GetSessionUser: user + live family) against the plain user read it
// replaced (GetUser, the baseline), with 1000 users, each with a live family
// behind SessionRotations rotations, so the live-session index is what
// keeps the lookup flat.
func BenchmarkSessionLookup(b *testing.B, open func(tb testing.TB) store.Store) {
	s := open(b)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	type session struct{ user, family string }
	var sessions []session
	for i := range 1000 {
		u := &store.User{ID: store.NewID(store.PrefixUser), Email: fmt.Sprintf("u%d@bench.example", i), Groups: []string{store.GroupUser}, CreatedAt: now}
		must(b, s.CreateUser(ctx, u), "CreateUser")
		fam := store.NewID("fam_")
		rs := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: store.NewID("h"), Family: fam, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
		must(b, s.CreateRefreshSession(ctx, rs), "CreateRefreshSession")
		rotations := 1
		if i == 0 {
			rotations = SessionRotations // the one measured below
		}
		for range rotations {
			next := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: store.NewID("h"), Family: fam, ExpiresAt: now.Add(time.Hour), CreatedAt: now}
			must(b, s.RotateRefreshSession(ctx, rs.ID, next, now), "RotateRefreshSession")
			rs = next
		}
		sessions = append(sessions, session{u.ID, fam})
	}
	long := sessions[0]
	b.Run("GetUser (baseline)", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetUser(ctx, long.user); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("GetSessionUser (family of %d rotations)", SessionRotations), func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetSessionUser(ctx, long.user, long.family, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetSessionUser (random user)", func(b *testing.B) {
		for b.Loop() {
			x := sessions[rand.IntN(len(sessions))]
			if _, err := s.GetSessionUser(ctx, x.user, x.family, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
