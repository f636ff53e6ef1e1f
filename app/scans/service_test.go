package scans_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

type recordingQueue struct {
	mu  sync.Mutex
	ids []string
}

func (q *recordingQueue) Notify(_ context.Context, id string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ids = append(q.ids, id)
	return nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(e *scantest.Env, q scans.Queue, c *clock) *scans.Service {
	return scans.New(e.Store, scans.Options{MaxActivePerUser: 2, MaxAttempts: 2, HeartbeatTTL: time.Minute,
		RunningStale: time.Hour, DefaultEngines: []string{"secrets"}, KnownEngines: []string{"secrets", "codex"}, Queue: q, Now: c.now})
}

// ownedRepo gives a new user of e a one-file repository, and the user's
// scope.
func ownedRepo(t *testing.T, e *scantest.Env) (*store.User, *store.Repository, store.Scope) {
	t.Helper()
	u := e.User(t)
	repo, _ := e.Repo(t, u.ID, map[string]string{"a.txt": "x"})
	return u, repo, store.OwnedBy(u.ID)
}

func TestCreateValidatesAndSnapshotsProfile(t *testing.T) {
	scantest.Stores(t, createValidatesAndSnapshotsProfile)
}

func createValidatesAndSnapshotsProfile(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	e := open(t)
	u := e.User(t)
	repo, snap := e.Repo(t, u.ID, map[string]string{"a.go": "package a\n"})
	q := &recordingQueue{}
	c := &clock{t: time.Now()}
	svc := newService(e, q, c)
	sc := store.OwnedBy(u.ID)

	tp := &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: repo.ID, OwnerUserID: u.ID, Status: store.ProfileReady,
		Content: store.ThreatProfileContent{Summary: "v1", SeverityThreshold: "high"}, UpdatedAt: c.t}
	if err := e.Store.PutThreatProfile(ctx, tp); err != nil {
		t.Fatal(err)
	}
	scan, err := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{Paths: []string{"./src/", "src"}})
	if err != nil {
		t.Fatal(err)
	}
	if scan.Status != store.ScanQueued || scan.SnapshotID != snap.ID || len(scan.Engines) != 1 || scan.Engines[0] != "secrets" {
		t.Fatalf("unexpected scan %+v", scan)
	}
	if len(scan.Paths) != 1 || scan.Paths[0] != "src" {
		t.Fatalf("paths are cleaned and deduplicated: %v", scan.Paths)
	}
	if scan.ThreatProfile == nil || scan.ThreatProfile.Summary != "v1" {
		t.Fatalf("profile content must be copied: %+v", scan.ThreatProfile)
	}
	if len(q.ids) != 1 || q.ids[0] != scan.ID {
		t.Fatalf("queue not notified: %v", q.ids)
	}
	// A later edit does not rewrite what the scan ran with.
	tp.Content.Summary = "v2"
	if err := e.Store.PutThreatProfile(ctx, tp); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Get(ctx, sc, scan.ID)
	if err != nil || got.ThreatProfile.Summary != "v1" {
		t.Fatalf("stored profile changed: %+v %v", got, err)
	}

	for name, in := range map[string]scans.CreateInput{
		"unknown engine": {Engines: []string{"nope"}},
		"parent path":    {Paths: []string{"../etc"}},
		"absolute path":  {Paths: []string{"/etc"}},
		"backslash":      {Paths: []string{`a\..\b`}},
		"inner dotdot":   {Paths: []string{"a/../../b"}},
	} {
		if _, err := svc.Create(ctx, sc, u.ID, repo.ID, in); !apperr.IsCode(err, apperr.ValidationFailed) {
			t.Errorf("%s: want validation_failed, got %v", name, err)
		}
	}
	// Another user's repository is not found, never forbidden.
	other := e.User(t)
	if _, err := svc.Create(ctx, store.OwnedBy(other.ID), other.ID, repo.ID, scans.CreateInput{}); !apperr.IsCode(err, apperr.NotFound) {
		t.Fatalf("want not_found for another user's repository, got %v", err)
	}
	// A repository that is not ready is a conflict.
	if _, err := e.Store.UpdateRepository(ctx, store.System(), repo.ID, func(r *store.Repository) error {
		r.IngestStatus = store.IngestIngesting
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{}); !apperr.IsCode(err, apperr.Conflict) {
		t.Fatalf("want conflict for a repository being ingested, got %v", err)
	}
}

func TestQuota(t *testing.T) { scantest.Stores(t, quota) }

func quota(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	e := open(t)
	u, repo, sc := ownedRepo(t, e)
	svc := newService(e, nil, &clock{t: time.Now()})
	var ids []string
	for i := 0; i < 2; i++ {
		s, err := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	_, err := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{})
	var ae *apperr.Error
	if !apperr.IsCode(err, apperr.QuotaExceeded) {
		t.Fatalf("third active scan must hit the quota, got %v", err)
	}
	ae = apperr.From(err)
	if ae.Details["limit"] != 2 || ae.Details["current"] != 2 {
		t.Fatalf("quota details: %v", ae.Details)
	}
	// Cancelling one frees a slot.
	if _, err := svc.Cancel(ctx, sc, u.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{}); err != nil {
		t.Fatalf("after a cancel the quota has room: %v", err)
	}
}

func TestCancel(t *testing.T) { scantest.Stores(t, cancel) }

func cancel(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	e := open(t)
	u, repo, sc := ownedRepo(t, e)
	svc := newService(e, nil, &clock{t: time.Now()})

	queued, _ := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{})
	got, err := svc.Cancel(ctx, sc, u.ID, queued.ID)
	if err != nil || got.Status != store.ScanCancelled || got.CancelRequestedAt == nil || got.FinishedAt == nil {
		t.Fatalf("queued scan is cancelled at once: %+v %v", got, err)
	}
	evs, err := svc.Events(ctx, sc, queued.ID, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Kind != store.EventScanCancelled {
		t.Fatalf("scan_cancelled event: %+v %v", evs, err)
	}
	if _, err := svc.Cancel(ctx, sc, u.ID, queued.ID); !apperr.IsCode(err, apperr.Conflict) {
		t.Fatalf("cancelling a finished scan is a conflict, got %v", err)
	}

	running, _ := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{})
	if _, err := svc.Claim(ctx, "wrk_test"); err != nil {
		t.Fatal(err)
	}
	got, err = svc.Cancel(ctx, sc, u.ID, running.ID)
	if err != nil || got.Status != store.ScanClaimed || got.CancelRequestedAt == nil {
		t.Fatalf("a claimed scan only gets cancel_requested_at: %+v %v", got, err)
	}
	other := e.User(t)
	if _, err := svc.Cancel(ctx, store.OwnedBy(other.ID), other.ID, running.ID); !apperr.IsCode(err, apperr.NotFound) {
		t.Fatalf("another user's scan is not found, got %v", err)
	}
}

func TestRetry(t *testing.T) { scantest.Stores(t, retry) }

func retry(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	e := open(t)
	u := e.User(t)
	repo, snap := e.Repo(t, u.ID, map[string]string{"a.txt": "x"})
	q := &recordingQueue{}
	svc := newService(e, q, &clock{t: time.Now()})
	sc := store.OwnedBy(u.ID)
	first, _ := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{Engines: []string{"codex", "secrets"}, Paths: []string{"lib"}})
	if _, err := svc.Retry(ctx, sc, u.ID, first.ID); !apperr.IsCode(err, apperr.Conflict) {
		t.Fatalf("an active scan cannot be retried, got %v", err)
	}
	if _, err := svc.Cancel(ctx, sc, u.ID, first.ID); err != nil {
		t.Fatal(err)
	}
	e.Snapshot(t, repo, map[string]string{"b.txt": "y"}) // a newer snapshot must not change the retry
	again, err := svc.Retry(ctx, sc, u.ID, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == first.ID || again.Status != store.ScanQueued || again.SnapshotID != snap.ID ||
		len(again.Engines) != 2 || again.Engines[0] != "codex" || len(again.Paths) != 1 || again.Attempt != 0 {
		t.Fatalf("retry must copy the parameters: %+v", again)
	}
	if q.ids[len(q.ids)-1] != again.ID {
		t.Fatalf("retry must notify the queue: %v", q.ids)
	}
}

func TestRecover(t *testing.T) { scantest.Stores(t, recover) }

func recover(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	e := open(t)
	u, repo, sc := ownedRepo(t, e)
	c := &clock{t: time.Now()}
	q := &recordingQueue{}
	svc := newService(e, q, c)

	a, _ := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{})
	b, _ := svc.Create(ctx, sc, u.ID, repo.ID, scans.CreateInput{})
	for i := 0; i < 2; i++ {
		if _, err := svc.Claim(ctx, "wrk_dead"); err != nil {
			t.Fatal(err)
		}
	}
	// b is on its last attempt already.
	if _, err := e.Store.UpdateScan(ctx, store.System(), b.ID, func(s *store.Scan) error { s.Attempt = 2; return nil }); err != nil {
		t.Fatal(err)
	}

	// Fresh heartbeats: nothing to recover.
	res, err := svc.Recover(ctx, c.t.Add(30*time.Second))
	if err != nil || len(res.Requeued)+len(res.Failed) != 0 {
		t.Fatalf("fresh scans recovered: %+v %v", res, err)
	}
	res, err = svc.Recover(ctx, c.t.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Requeued) != 1 || res.Requeued[0] != a.ID || len(res.Failed) != 1 || res.Failed[0] != b.ID {
		t.Fatalf("unexpected recovery %+v", res)
	}
	ga, _ := svc.Get(ctx, sc, a.ID)
	gb, _ := svc.Get(ctx, sc, b.ID)
	if ga.Status != store.ScanQueued || ga.ClaimedBy != "" || ga.Attempt != 1 {
		t.Fatalf("a is re-queued with its attempt kept: %+v", ga)
	}
	if gb.Status != store.ScanFailed || gb.StopReason != store.StopInterrupted || gb.Error == nil {
		t.Fatalf("b fails as interrupted: %+v", gb)
	}
	evs, _ := svc.Events(ctx, sc, b.ID, 0, 10)
	if len(evs) != 1 || evs[0].Kind != store.EventScanFailed {
		t.Fatalf("b gets scan_failed: %+v", evs)
	}
	if q.ids[len(q.ids)-1] != a.ID {
		t.Fatalf("re-queued scan must be announced: %v", q.ids)
	}
	// The re-queued scan runs again: claim it, let it go stale past the
	// running cap, and it fails now that attempts are used up.
	later := newService(e, q, &clock{t: c.t.Add(3 * time.Minute)})
	again, err := later.Claim(ctx, "wrk_new")
	if err != nil || again.ID != a.ID || again.Attempt != 2 {
		t.Fatalf("re-claim: %+v %v", again, err)
	}
	if _, err := later.Start(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	res, _ = svc.RecoverAbandoned(ctx, c.t.Add(3*time.Minute))
	if len(res.Failed) != 1 || res.Failed[0] != a.ID {
		t.Fatalf("abandoned recovery ignores heartbeat age: %+v", res)
	}
}

// TestQuotaHoldsAcrossProcesses: 20 concurrent creates against a quota of 4
// create exactly 4. Two services on two store handles (on Postgres, two
// connection pools: two processes' worth) take turns, so an in-process lock
// could not be what holds the line.
func TestQuotaHoldsAcrossProcesses(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		e := scantest.New(t)
		concurrentQuota(t, e, []store.Store{e.Store, e.Store})
	})
	t.Run("postgres", func(t *testing.T) {
		sts := pgtest.OpenStores(t, 2)
		blobs, err := blob.NewLocal(filepath.Join(t.TempDir(), "blobs"))
		if err != nil {
			t.Fatal(err)
		}
		concurrentQuota(t, &scantest.Env{Store: sts[0], Blobs: blobs}, []store.Store{sts[0], sts[1]})
	})
}

func concurrentQuota(t *testing.T, e *scantest.Env, handles []store.Store) {
	ctx := context.Background()
	u := e.User(t)
	repo, _ := e.Repo(t, u.ID, map[string]string{"a.txt": "x"})
	svcs := make([]*scans.Service, len(handles))
	for i, h := range handles {
		svcs[i] = scans.New(h, scans.Options{MaxActivePerUser: 4, DefaultEngines: []string{"secrets"}, KnownEngines: []string{"secrets"}})
	}
	var created, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 20 {
		wg.Go(func() {
			<-start
			_, err := svcs[i%len(svcs)].Create(ctx, store.OwnedBy(u.ID), u.ID, repo.ID, scans.CreateInput{})
			switch {
			case err == nil:
				created.Add(1)
			case apperr.IsCode(err, apperr.QuotaExceeded):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()
	n, err := e.Store.CountActiveScans(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if created.Load() != 4 || refused.Load() != 16 || n != 4 {
		t.Fatalf("created %d, refused %d, active in the store %d; want 4, 16, 4", created.Load(), refused.Load(), n)
	}
}
