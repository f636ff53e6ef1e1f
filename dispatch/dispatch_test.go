package dispatch_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/runner"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/dispatch"
	"github.com/vegasec/vega/store"
)

// counting wraps the real runner to observe concurrency and double runs.
// It must wrap the runner that holds the claim for the whole of Run: a
// wrapper that hands the scan back inside Run (retryOnce) goes outside it,
// or the tail of a handed-back run would count as a second run.
type counting struct {
	inner   dispatch.Runner
	mu      sync.Mutex
	running map[string]bool
	runs    map[string]int // every run of each scan, at once or not
	now     atomic.Int32
	max     atomic.Int32
	twice   atomic.Bool
}

func (c *counting) Run(ctx context.Context, id string) error {
	c.mu.Lock()
	if c.running[id] {
		c.twice.Store(true)
	}
	c.running[id] = true
	if c.runs == nil {
		c.runs = map[string]int{}
	}
	c.runs[id]++
	c.mu.Unlock()
	n := c.now.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	defer func() {
		c.now.Add(-1)
		c.mu.Lock()
		delete(c.running, id)
		c.mu.Unlock()
	}()
	return c.inner.Run(ctx, id)
}

// runsOf is how many times scan id was run.
func (c *counting) runsOf(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runs[id]
}

// slow blocks until cancelled, so a scan stays running.
type slow struct{ started chan string }

func (s *slow) Name() string { return "slow" }
func (s *slow) Run(ctx context.Context, in engine.Input, _ engine.Emitter) error {
	s.started <- in.ScanID
	<-ctx.Done()
	return ctx.Err()
}

// setup builds a bolt store with a user and a ready repository, the scan
// service (opt, with the engines' names as KnownEngines) and a runner on it.
func setup(t *testing.T, opt scans.Options, extra ...engine.Engine) (*scantest.Env, *store.User, *store.Repository, *runner.Runner, *scans.Service, []string) {
	env := scantest.New(t)
	u := env.User(t)
	repo, _ := env.Repo(t, u.ID, map[string]string{"a.go": "package a\n"})
	engines := map[string]engine.Engine{secrets.Name: secrets.New()}
	known := []string{secrets.Name}
	for _, e := range extra {
		engines[e.Name()] = e
		known = append(known, e.Name())
	}
	opt.KnownEngines = known
	svc := scans.New(env.Store, opt)
	r := newRunner(t, env, svc, runner.Config{Engines: engines, Heartbeat: 50 * time.Millisecond, CancelPoll: 10 * time.Millisecond})
	return env, u, repo, r, svc, known
}

// newRunner is the real runner on env's store and blobs, completing cfg
// (engines — the secrets engine alone when nil — and timings): every
// dispatcher test and benchmark runs scans with it.
func newRunner(tb testing.TB, env *scantest.Env, svc *scans.Service, cfg runner.Config) *runner.Runner {
	tb.Helper()
	if cfg.Engines == nil {
		cfg.Engines = map[string]engine.Engine{secrets.Name: secrets.New()}
	}
	cfg.Store, cfg.Scans, cfg.Blobs, cfg.TempDir = env.Store, svc, env.Blobs, tb.TempDir()
	cfg.Unpacker = runner.SnapshotUnpacker(env.Blobs, ingest.DefaultLimits())
	r, err := runner.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// createScans creates n scans of repo as u and returns their IDs.
func createScans(t testing.TB, svc *scans.Service, u *store.User, repo *store.Repository, n int) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i++ {
		s, err := svc.Create(context.Background(), store.OwnedBy(u.ID), u.ID, repo.ID, scans.CreateInput{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestThreadPoolRunsQueuedScansBounded(t *testing.T) {
	ctx := context.Background()
	env, u, repo, r, svc, known := setup(t, scans.Options{MaxActivePerUser: 50, DefaultEngines: []string{secrets.Name}})
	run := &counting{inner: r, running: map[string]bool{}}
	// Scans queued before the pool exists (as after a restart) are found by polling.
	ids := createScans(t, svc, u, repo, 3)
	pool := dispatch.NewThread(env.Store, run, svc, dispatch.Options{Concurrency: 2, PollInterval: time.Hour, RecoverAbandonedAtStart: true})
	// Notify wakes the pool for scans created afterwards (poll is an hour).
	svc = scans.New(env.Store, scans.Options{MaxActivePerUser: 50, DefaultEngines: []string{secrets.Name}, KnownEngines: known, Queue: pool})
	if err := pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer pool.Stop(time.Second)
	waitFor(t, "initial scans", func() bool { return allDone(env, ids) })
	ids = append(ids, createScans(t, svc, u, repo, 5)...)
	waitFor(t, "notified scans", func() bool { return allDone(env, ids) })
	if m := run.max.Load(); m > 2 {
		t.Fatalf("ran %d scans at once with concurrency 2", m)
	}
	if run.twice.Load() {
		t.Fatal("a scan ran twice at once")
	}
	workers, _ := env.Store.ListWorkers(ctx)
	if len(workers) != 1 || workers[0].ID != pool.ID() || workers[0].Role != "api" {
		t.Fatalf("worker row: %+v", workers)
	}
}

func allDone(env *scantest.Env, ids []string) bool {
	for _, id := range ids {
		s, err := env.Store.GetScan(context.Background(), store.System(), id)
		if err != nil || s.Status != store.ScanCompleted {
			return false
		}
	}
	return true
}

func TestStopHandsRunningScansBackAndRestartRecovers(t *testing.T) {
	ctx := context.Background()
	eng := &slow{started: make(chan string, 4)}
	env, u, repo, r, svc, _ := setup(t, scans.Options{MaxActivePerUser: 50, MaxAttempts: 3, DefaultEngines: []string{"slow"}}, eng)
	pool := dispatch.NewThread(env.Store, r, svc, dispatch.Options{Concurrency: 1, PollInterval: 20 * time.Millisecond})
	if err := pool.Start(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := svc.Create(ctx, store.OwnedBy(u.ID), u.ID, repo.ID, scans.CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	<-eng.started
	stopped := make(chan struct{})
	go func() { pool.Stop(50 * time.Millisecond); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
	got, _ := env.Store.GetScan(ctx, store.System(), s.ID)
	if got.Status != store.ScanQueued || got.Attempt != 0 {
		t.Fatalf("a scan running at shutdown is handed back, its attempt not counted: %+v", got)
	}
	if ws, _ := env.Store.ListWorkers(ctx); len(ws) != 0 {
		t.Fatalf("worker row must be removed on stop: %+v", ws)
	}

	// Simulate a crash: a scan left running by a dead process.
	if _, err := svc.Claim(ctx, "wrk_dead"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Start(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	pool2 := dispatch.NewThread(env.Store, r, svc, dispatch.Options{Concurrency: 1, PollInterval: 20 * time.Millisecond, RecoverAbandonedAtStart: true})
	if err := pool2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if id := <-eng.started; id != s.ID {
		t.Fatalf("restarted pool ran %s", id)
	}
	if _, err := svc.Cancel(ctx, store.OwnedBy(u.ID), u.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "cancel", func() bool {
		x, _ := env.Store.GetScan(ctx, store.System(), s.ID)
		return x.Status == store.ScanCancelled
	})
	pool2.Stop(time.Second)
	x, _ := env.Store.GetScan(ctx, store.System(), s.ID)
	// The stop's attempt was not counted: the crashed claim is 1, the run
	// after recovery 2.
	if x.Attempt != 2 {
		t.Fatalf("attempts: %d", x.Attempt)
	}
}

// TestExternalWorkersShareAPostgresStore runs two external pools — two
// `vega worker` processes in all but address space — against one Postgres
// store: every scan completes exactly once and both take work.
func TestExternalWorkersShareAPostgresStore(t *testing.T) {
	ctx := context.Background()
	env := scantest.NewPostgres(t)
	u := env.User(t)
	repo, _ := env.Repo(t, u.ID, map[string]string{"a.go": "package a\n", "b.env": "AWS_ACCESS_KEY_ID=AKIAQZ7XK2LMN4PB6RTW\n"})
	svc := scans.New(env.Store, scans.Options{MaxActivePerUser: 50, DefaultEngines: []string{secrets.Name}, KnownEngines: []string{secrets.Name}})
	r := newRunner(t, env, svc, runner.Config{Heartbeat: 100 * time.Millisecond})
	run := &counting{inner: r, running: map[string]bool{}}
	ids := createScans(t, svc, u, repo, 8)
	var pools []*dispatch.Pool
	for i := 0; i < 2; i++ {
		p := dispatch.NewExternal(env.Store, run, svc, dispatch.Options{Concurrency: 2, PollInterval: 20 * time.Millisecond})
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		pools = append(pools, p)
	}
	waitFor(t, "all scans", func() bool { return allDone(env, ids) })
	if run.twice.Load() {
		t.Fatal("a scan ran twice at once")
	}
	claimedBy := map[string]int{}
	for _, id := range ids {
		s, _ := env.Store.GetScan(ctx, store.System(), id)
		if s.Attempt != 1 {
			t.Fatalf("scan %s ran %d times", id, s.Attempt)
		}
		claimedBy[s.ClaimedBy]++
		if s.FindingCounts.Total() != 1 {
			t.Fatalf("scan %s counts %+v", id, s.FindingCounts)
		}
	}
	workers, _ := env.Store.ListWorkers(ctx)
	if len(workers) != 2 || workers[0].Role != "worker" {
		t.Fatalf("workers: %+v", workers)
	}
	for _, p := range pools {
		p.Stop(time.Second)
	}
	t.Logf("scans per worker: %v", claimedBy)
}
