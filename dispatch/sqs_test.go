package dispatch_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/dispatch"
	"github.com/vegasec/vega/dispatch/queue"
	"github.com/vegasec/vega/store"
)

// failingQueue fails sends while down.
type failingQueue struct {
	*queue.Memory
	mu   sync.Mutex
	down bool
}

func (q *failingQueue) Send(ctx context.Context, body string, delay time.Duration) error {
	q.mu.Lock()
	down := q.down
	q.mu.Unlock()
	if down {
		return errors.New("queue unreachable")
	}
	return q.Memory.Send(ctx, body, delay)
}

func (q *failingQueue) setDown(v bool) { q.mu.Lock(); q.down = v; q.mu.Unlock() }

// retryOnce hands the first run of each scan back as "no capacity", as the
// ecs runner does when RunTask finds no capacity (scans.Unclaim, then
// RetryError). From the Unclaim on, the scan is queued and another delivery
// may claim and run it while this Run is still returning: that is a new
// holder, not a second run of this one.
type retryOnce struct {
	inner dispatch.Runner
	svc   *scans.Service
	st    store.Store
	mu    sync.Mutex
	seen  map[string]bool
}

func (r *retryOnce) Run(ctx context.Context, id string) error {
	r.mu.Lock()
	first := !r.seen[id]
	r.seen[id] = true
	r.mu.Unlock()
	if first {
		s, _ := r.st.GetScan(ctx, store.System(), id)
		if _, err := r.svc.Unclaim(ctx, id, s.Attempt, "no capacity"); err != nil {
			return err
		}
		return &dispatch.RetryError{Err: errors.New("no capacity")}
	}
	return r.inner.Run(ctx, id)
}

func TestSQSDispatch(t *testing.T) {
	ctx := context.Background()
	q := &failingQueue{Memory: queue.NewMemory(2 * time.Second)}
	env, u, repo, r, _, known := setup(t, scans.Options{MaxActivePerUser: 50, DefaultEngines: []string{secrets.Name}})
	send := &dispatch.Sender{Q: q, Store: env.Store}
	svc := scans.New(env.Store, scans.Options{MaxActivePerUser: 50, DefaultEngines: []string{secrets.Name}, KnownEngines: known, Queue: send})
	// counting sees the real runs only: retryOnce's first call holds the
	// scan until its Unclaim, not until it returns.
	run := &counting{inner: r, running: map[string]bool{}}
	d := dispatch.NewSQS(env.Store, q, send, &retryOnce{inner: run, svc: svc, st: env.Store, seen: map[string]bool{}}, svc, dispatch.SQSOptions{Options: dispatch.Options{Concurrency: 3,
		RecoverInterval: 200 * time.Millisecond, Mode: "sqs+local"}, Wait: 100 * time.Millisecond,
		NeverSentGrace: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})

	// Garbage and strangers before the start: dropped, the worker goes on.
	for _, body := range []string{"not json", `{"scan_id": 7}`, `{"scan_id":"scan_01NOSUCHSCAN000000000000000"}`, `[]`} {
		_ = q.Memory.Send(ctx, body, 0)
	}
	ids := createScans(t, svc, u, repo, 4)
	// A duplicate delivery of the first scan.
	_ = q.Memory.Send(ctx, queue.ScanMessage{ScanID: ids[0]}.Encode(), 0)
	// A scan created while the queue is unreachable: queued and unsent.
	q.setDown(true)
	lost, err := svc.Create(ctx, store.OwnedBy(u.ID), u.ID, repo.ID, scans.CreateInput{})
	if err != nil {
		t.Fatalf("creating a scan while the queue is down: %v", err)
	}
	ids = append(ids, lost.ID)
	q.setDown(false)
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Stop(time.Second)
	waitFor(t, "every scan, the unsent one by the sweeper", func() bool { return allDone(env, ids) })
	waitFor(t, "an empty queue", func() bool { return q.Len() == 0 })
	if run.twice.Load() {
		t.Fatal("a scan ran twice at once")
	}
	for _, id := range ids {
		s, _ := env.Store.GetScan(ctx, store.System(), id)
		if s.Attempt != 1 {
			t.Fatalf("scan %s ran %d attempts; the launch retry must not count", id, s.Attempt)
		}
		if n := run.runsOf(id); n != 1 {
			t.Fatalf("scan %s ran %d times; duplicate deliveries must run nothing", id, n)
		}
	}
	// Cancel of a queued scan works as in the other modes; its message is dropped.
	q.setDown(true)
	c, _ := svc.Create(ctx, store.OwnedBy(u.ID), u.ID, repo.ID, scans.CreateInput{})
	if s, err := svc.Cancel(ctx, store.OwnedBy(u.ID), u.ID, c.ID); err != nil || s.Status != store.ScanCancelled {
		t.Fatalf("cancel queued: %+v %v", s, err)
	}
	q.setDown(false)
	ws, _ := env.Store.ListWorkers(ctx)
	if len(ws) != 1 || ws[0].Mode != "sqs+local" {
		t.Fatalf("worker row: %+v", ws)
	}
}

// deleteSignal tells each message deletion.
type deleteSignal struct {
	*queue.Memory
	deleted chan struct{}
}

func (q *deleteSignal) Delete(ctx context.Context, m queue.Message) error {
	err := q.Memory.Delete(ctx, m)
	select {
	case q.deleted <- struct{}{}:
	default:
	}
	return err
}

// handBackThenRun hands the scan back on its first run and, before
// returning, lets a second delivery claim and start it; the second run waits
// for release, then runs for real.
type handBackThenRun struct {
	inner    dispatch.Runner
	svc      *scans.Service
	st       store.Store
	q        *queue.Memory
	calls    atomic.Int32
	started2 chan struct{}
	returned chan struct{}
	release  chan struct{}
}

func (r *handBackThenRun) Run(ctx context.Context, id string) error {
	if r.calls.Add(1) == 1 {
		s, _ := r.st.GetScan(ctx, store.System(), id)
		if _, err := r.svc.Unclaim(ctx, id, s.Attempt, "no capacity"); err != nil {
			return err
		}
		_ = r.q.Send(ctx, queue.ScanMessage{ScanID: id}.Encode(), 0) // another delivery
		select {
		case <-r.started2:
		case <-time.After(time.Minute):
		}
		close(r.returned)
		return &dispatch.RetryError{Err: errors.New("no capacity")}
	}
	close(r.started2)
	<-r.release
	return r.inner.Run(ctx, id)
}

// TestSQSRunningKeepsAScanReclaimedWhileItsLastRunReturns: a run that handed
// its scan back (Unclaim) is still returning when another delivery claims and
// runs the scan in the same worker; the first one's leaving must not drop the
// scan from Running (the worker row's current scans).
func TestSQSRunningKeepsAScanReclaimedWhileItsLastRunReturns(t *testing.T) {
	ctx := context.Background()
	q := &deleteSignal{Memory: queue.NewMemory(30 * time.Second), deleted: make(chan struct{}, 16)}
	env, u, repo, r, _, known := setup(t, scans.Options{MaxActivePerUser: 50, DefaultEngines: []string{secrets.Name}})
	send := &dispatch.Sender{Q: q, Store: env.Store}
	svc := scans.New(env.Store, scans.Options{MaxActivePerUser: 50, DefaultEngines: []string{secrets.Name}, KnownEngines: known, Queue: send})
	run := &handBackThenRun{inner: r, svc: svc, st: env.Store, q: q.Memory,
		started2: make(chan struct{}), returned: make(chan struct{}), release: make(chan struct{})}
	d := dispatch.NewSQS(env.Store, q, send, run, svc, dispatch.SQSOptions{Options: dispatch.Options{Concurrency: 2,
		RecoverInterval: time.Hour}, Wait: 50 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	s, err := svc.Create(ctx, store.OwnedBy(u.ID), u.ID, repo.ID, scans.CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer d.Stop(time.Second)
	select {
	case <-run.returned:
	case <-time.After(time.Minute):
		t.Fatal("the first run did not return")
	}
	// The first handler deletes its message last, then leaves.
	select {
	case <-q.deleted:
	case <-time.After(time.Minute):
		t.Fatal("the first run's message was not deleted")
	}
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if got := d.Running(); len(got) != 1 || got[0] != s.ID {
			t.Fatalf("running while the second delivery runs %s: %v", s.ID, got)
		}
	}
	close(run.release)
	waitFor(t, "the scan", func() bool { return allDone(env, []string{s.ID}) })
	if n := run.calls.Load(); n != 2 {
		t.Fatalf("runner called %d times", n)
	}
}
