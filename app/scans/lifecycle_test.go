package scans_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// verbEnv is one store with a service whose clock, queue and event broker
// the test watches.
type verbEnv struct {
	t      *testing.T
	e      *scantest.Env
	user   *store.User
	repo   *store.Repository
	snap   *store.Snapshot
	clock  *clock
	queue  *recordingQueue
	broker *events.Broker
	svc    *scans.Service
}

func newVerbEnv(t *testing.T, open func(testing.TB) *scantest.Env) *verbEnv {
	e := open(t)
	u := e.User(t)
	repo, snap := e.Repo(t, u.ID, map[string]string{"a.go": "package a\n", "b/c.txt": "x"})
	v := &verbEnv{t: t, e: e, user: u, repo: repo, snap: snap, clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)},
		queue: &recordingQueue{}, broker: events.NewBroker()}
	v.svc = scans.New(e.Store, scans.Options{MaxActivePerUser: 10, MaxAttempts: 2, DefaultEngines: []string{"secrets"},
		KnownEngines: []string{"secrets"}, Queue: v.queue, Events: v.broker, Now: v.clock.now})
	return v
}

func (v *verbEnv) create() *store.Scan {
	v.t.Helper()
	// The fake clock gives every scan the same created_at, so the claim
	// order falls to the ID, a ULID: IDs made in one millisecond compare by
	// their random part, so each scan waits for the next one.
	time.Sleep(2 * time.Millisecond)
	s, err := v.svc.Create(context.Background(), store.OwnedBy(v.user.ID), v.user.ID, v.repo.ID, scans.CreateInput{})
	if err != nil {
		v.t.Fatal(err)
	}
	return s
}

// claimed creates a scan and claims it (the only queued one).
func (v *verbEnv) claimed() *store.Scan {
	v.t.Helper()
	s := v.create()
	c, err := v.svc.Claim(context.Background(), "wrk_test")
	if err != nil || c.ID != s.ID {
		v.t.Fatalf("claim: %+v %v", c, err)
	}
	return c
}

// running creates, claims and starts a scan.
func (v *verbEnv) running() *store.Scan {
	v.t.Helper()
	s := v.claimed()
	r, err := v.svc.Start(context.Background(), s.ID)
	if err != nil || r.Status != store.ScanRunning {
		v.t.Fatalf("start: %+v %v", r, err)
	}
	return r
}

func (v *verbEnv) get(id string) *store.Scan      { v.t.Helper(); return v.e.Scan(v.t, id) }
func (v *verbEnv) events(id string) []store.Event { v.t.Helper(); return v.e.Events(v.t, id) }

// last decodes the scan's last event, which must be of kind.
func (v *verbEnv) last(id string, kind store.EventKind) store.EventPayload {
	v.t.Helper()
	evs := v.events(id)
	if len(evs) == 0 || evs[len(evs)-1].Kind != kind {
		v.t.Fatalf("last event of %s is not %s: %+v", id, kind, evs)
	}
	p, err := evs[len(evs)-1].DecodePayload()
	if err != nil {
		v.t.Fatal(err)
	}
	return p
}

// watch subscribes to the scan's live wake-ups; the returned func reports
// whether one came.
func (v *verbEnv) watch(id string) func() bool {
	ch, unsub := v.broker.Subscribe(id)
	v.t.Cleanup(unsub)
	return func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
}

func (v *verbEnv) queued() []string {
	v.queue.mu.Lock()
	defer v.queue.mu.Unlock()
	return append([]string(nil), v.queue.ids...)
}

// handBackFunc is Release or Requeue: both give a claimed scan back by attempt,
// so their tests share the checks below.
type handBackFunc func(ctx context.Context, id string, attempt int, why string) (store.ScanStatus, error)

// expectLostClaim checks that a hand-back naming another attempt is refused.
func (v *verbEnv) expectLostClaim(s *store.Scan, handBack handBackFunc) {
	v.t.Helper()
	if _, err := handBack(context.Background(), s.ID, s.Attempt+1, "The runner shut down"); !errors.Is(err, scans.ErrLostClaim) {
		v.t.Fatalf("another attempt cannot hand the scan back: %v", err)
	}
}

// handBackQueued hands the running scan s back and checks it is queued
// again: unclaimed, not started, at attempt, with the warning log msg,
// announced to the queue and to live streams.
func (v *verbEnv) handBackQueued(what string, s *store.Scan, handBack handBackFunc, attempt int, msg string) {
	v.t.Helper()
	woke := v.watch(s.ID)
	if to, err := handBack(context.Background(), s.ID, s.Attempt, "The runner shut down"); err != nil || to != store.ScanQueued {
		v.t.Fatalf("%s: %s %v", what, to, err)
	}
	if got := v.get(s.ID); got.Status != store.ScanQueued || got.ClaimedBy != "" || got.Attempt != attempt || got.StartedAt != nil {
		v.t.Fatalf("%s: re-queued scan: %+v", what, got)
	}
	if p := v.last(s.ID, store.EventScanLog).(*store.ScanLogPayload); p.Level != store.LogWarn || p.Message != msg || p.Engine != "" {
		v.t.Fatalf("%s: scan_log: %+v", what, p)
	}
	if q := v.queued(); q[len(q)-1] != s.ID || !woke() {
		v.t.Fatalf("%s: a re-queued scan is announced to the queue and to live streams: %v", what, q)
	}
}

// reclaim claims the queued scan id as another runner, expecting attempt,
// and starts it again.
func (v *verbEnv) reclaim(id string, attempt int) *store.Scan {
	v.t.Helper()
	ctx := context.Background()
	again, err := v.svc.Claim(ctx, "wrk_2")
	if err != nil || again.ID != id || again.Attempt != attempt {
		v.t.Fatalf("re-claim: %+v %v", again, err)
	}
	r, err := v.svc.Start(ctx, id)
	if err != nil {
		v.t.Fatal(err)
	}
	return r
}

// requestCancel asks, as the scan's owner, to cancel scan id.
func (v *verbEnv) requestCancel(id string) {
	v.t.Helper()
	if _, err := v.svc.Cancel(context.Background(), store.OwnedBy(v.user.ID), v.user.ID, id); err != nil {
		v.t.Fatal(err)
	}
}

// expectCancelledByOwner checks that scan id's last event is a
// scan_cancelled naming its owner as the one who asked.
func (v *verbEnv) expectCancelledByOwner(id string) {
	v.t.Helper()
	if p := v.last(id, store.EventScanCancelled).(*store.ScanCancelledPayload); p.By != store.CancelledByUser || p.UserID != v.user.ID {
		v.t.Fatalf("scan_cancelled: %+v", p)
	}
}

// expectCancelWins checks that a pending cancel request beats re-queueing:
// handing the running scan s back cancels it instead.
func (v *verbEnv) expectCancelWins(s *store.Scan, handBack handBackFunc) {
	v.t.Helper()
	v.requestCancel(s.ID)
	if to, err := handBack(context.Background(), s.ID, s.Attempt, "The runner shut down"); err != nil || to != store.ScanCancelled {
		v.t.Fatalf("hand back after a cancel request: %s %v", to, err)
	}
	v.expectCancelledByOwner(s.ID)
}

func TestVerbClaim(t *testing.T) { scantest.Stores(t, verbClaim) }

func verbClaim(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()
	if _, err := v.svc.Claim(ctx, "wrk_a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("nothing queued: want ErrNotFound, got %v", err)
	}
	first, second := v.create(), v.create()
	if q := v.queued(); len(q) != 2 || q[0] != first.ID || q[1] != second.ID {
		t.Fatalf("creating queues and notifies: %v", q)
	}
	woke := v.watch(first.ID)
	got, err := v.svc.Claim(ctx, "wrk_a")
	if err != nil || got.ID != first.ID {
		t.Fatalf("the oldest queued scan is claimed first: %+v %v", got, err)
	}
	if got.Status != store.ScanClaimed || got.ClaimedBy != "wrk_a" || got.Attempt != 1 || got.ClaimedAt == nil ||
		!got.ClaimedAt.Equal(v.clock.t) || got.HeartbeatAt == nil {
		t.Fatalf("claimed scan: %+v", got)
	}
	if stored := v.get(first.ID); stored.Status != store.ScanClaimed || stored.ClaimedBy != "wrk_a" || stored.Attempt != 1 {
		t.Fatalf("the claim is stored: %+v", stored)
	}
	if len(v.events(first.ID)) != 0 || woke() || len(v.queued()) != 2 {
		t.Fatal("a claim emits no event and notifies nobody")
	}
	if got, err := v.svc.Claim(ctx, "wrk_b"); err != nil || got.ID != second.ID {
		t.Fatalf("second claim: %+v %v", got, err)
	}
}

func TestVerbStart(t *testing.T) { scantest.Stores(t, verbStart) }

func verbStart(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()
	s := v.claimed()
	woke := v.watch(s.ID)
	v.clock.t = v.clock.t.Add(time.Second)
	got, err := v.svc.Start(ctx, s.ID)
	if err != nil || got.Status != store.ScanRunning || got.StartedAt == nil || !got.StartedAt.Equal(v.clock.t) {
		t.Fatalf("start: %+v %v", got, err)
	}
	p := v.last(s.ID, store.EventScanStarted).(*store.ScanStartedPayload)
	if p.SnapshotID != v.snap.ID || p.FileCount != v.snap.FileCount || p.FileCount != 2 || p.Attempt != 1 ||
		len(p.Engines) != 1 || p.Engines[0] != "secrets" {
		t.Fatalf("scan_started: %+v", p)
	}
	if !woke() {
		t.Fatal("scan_started must wake live streams")
	}
	if _, err := v.svc.Start(ctx, s.ID); !errors.Is(err, scans.ErrNotClaimed) {
		t.Fatalf("a running scan cannot start again: %v", err)
	}
	if len(v.events(s.ID)) != 1 {
		t.Fatal("a refused start writes nothing")
	}

	// A cancel requested while claimed ends the scan at start.
	c := v.claimed()
	v.requestCancel(c.ID)
	got, err = v.svc.Start(ctx, c.ID)
	if err != nil || got.Status != store.ScanCancelled || got.StopReason != store.StopCancelled || got.FinishedAt == nil {
		t.Fatalf("start after a cancel request: %+v %v", got, err)
	}
	v.expectCancelledByOwner(c.ID)
	if n := len(v.events(c.ID)); n != 1 {
		t.Fatalf("a scan cancelled at start has only scan_cancelled, got %d events", n)
	}
}

func TestVerbHeartbeat(t *testing.T) { scantest.Stores(t, verbHeartbeat) }

func verbHeartbeat(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()
	s := v.running()
	v.clock.t = v.clock.t.Add(5 * time.Second)
	prog := store.ScanProgress{Percent: 30, Message: "auditing", Component: "api", ComponentsDone: 1, ComponentsTotal: 3}
	cancel, err := v.svc.Heartbeat(ctx, s.ID, s.Attempt, prog)
	if err != nil || cancel {
		t.Fatalf("heartbeat: %v %v", cancel, err)
	}
	got := v.get(s.ID)
	if got.HeartbeatAt == nil || !got.HeartbeatAt.Equal(v.clock.t) || !reflect.DeepEqual(got.Progress, prog) {
		t.Fatalf("heartbeat stores liveness and progress: %+v", got)
	}
	v.requestCancel(s.ID)
	if cancel, err := v.svc.Heartbeat(ctx, s.ID, s.Attempt, prog); err != nil || !cancel {
		t.Fatalf("heartbeat reports the cancel request: %v %v", cancel, err)
	}
	if _, err := v.svc.Heartbeat(ctx, s.ID, s.Attempt+1, prog); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("another attempt's heartbeat: %v", err)
	}
	if _, err := v.svc.Heartbeat(ctx, store.NewID(store.PrefixScan), 1, prog); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("a deleted scan is lost: %v", err)
	}
}

func TestVerbFinish(t *testing.T) { scantest.Stores(t, verbFinish) }

func verbFinish(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()
	stages := []store.StageResult{{Engine: "secrets", Stage: "detect", Status: store.StageSucceeded}}
	counts := store.SeverityCounts{High: 2}

	done := v.running()
	woke := v.watch(done.ID)
	v.clock.t = v.clock.t.Add(1500 * time.Millisecond)
	if _, err := v.svc.Finish(ctx, done.ID, done.Attempt+1, scans.Outcome{}); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("another attempt cannot finish the scan: %v", err)
	}
	if got := v.get(done.ID); got.Status != store.ScanRunning {
		t.Fatalf("a refused finish changed the scan: %+v", got)
	}
	got, err := v.svc.Finish(ctx, done.ID, done.Attempt, scans.Outcome{StopReason: store.StopBudgetExceeded, Stages: stages,
		Progress: store.ScanProgress{Percent: 60}, FindingCounts: counts})
	if err != nil || got.Status != store.ScanCompleted || got.StopReason != store.StopBudgetExceeded || got.Progress.Percent != 100 ||
		got.FindingCounts != counts || len(got.Stages) != 1 || got.FinishedAt == nil || got.Error != nil {
		t.Fatalf("completed: %+v %v", got, err)
	}
	cp := v.last(done.ID, store.EventScanCompleted).(*store.ScanCompletedPayload)
	if cp.FindingCounts != counts || cp.DurationMS != 1500 || cp.StopReason != store.StopBudgetExceeded {
		t.Fatalf("scan_completed: %+v", cp)
	}
	if !woke() {
		t.Fatal("the terminal event must wake live streams")
	}
	if _, err := v.svc.Finish(ctx, done.ID, done.Attempt, scans.Outcome{}); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("a finished scan cannot finish again: %v", err)
	}

	failed := v.running()
	got, err = v.svc.Finish(ctx, failed.ID, failed.Attempt, scans.Outcome{Stages: stages,
		Error: &store.ScanError{Code: store.ScanErrEngineFailed, Message: "Engine(s) failed: codex"}})
	if err != nil || got.Status != store.ScanFailed || got.StopReason != store.StopError || got.Error == nil ||
		got.Error.Code != store.ScanErrEngineFailed {
		t.Fatalf("failed: %+v %v", got, err)
	}
	if fp := v.last(failed.ID, store.EventScanFailed).(*store.ScanFailedPayload); fp.Code != store.ScanErrEngineFailed || fp.Message != "Engine(s) failed: codex" {
		t.Fatalf("scan_failed: %+v", fp)
	}

	// Cancelled wins over an error: the failure was the stop itself.
	stopped := v.running()
	other := v.e.User(t)
	if _, err := v.svc.Cancel(ctx, store.System(), other.ID, stopped.ID); err != nil {
		t.Fatal(err)
	}
	got, err = v.svc.Finish(ctx, stopped.ID, stopped.Attempt, scans.Outcome{Cancelled: true,
		Error: &store.ScanError{Code: store.ScanErrEngineFailed, Message: "stopped"}})
	if err != nil || got.Status != store.ScanCancelled || got.StopReason != store.StopCancelled || got.Error != nil {
		t.Fatalf("cancelled: %+v %v", got, err)
	}
	if p := v.last(stopped.ID, store.EventScanCancelled).(*store.ScanCancelledPayload); p.By != store.CancelledByUser || p.UserID != other.ID {
		t.Fatalf("scan_cancelled names who asked: %+v", p)
	}
}

func TestVerbCancel(t *testing.T) { scantest.Stores(t, verbCancel) }

func verbCancel(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()
	sc := store.OwnedBy(v.user.ID)

	queued := v.create()
	woke := v.watch(queued.ID)
	got, err := v.svc.Cancel(ctx, sc, v.user.ID, queued.ID)
	if err != nil || got.Status != store.ScanCancelled || got.CancelRequestedBy != v.user.ID || got.CancelRequestedAt == nil {
		t.Fatalf("queued scan: %+v %v", got, err)
	}
	if p := v.last(queued.ID, store.EventScanCancelled).(*store.ScanCancelledPayload); p.By != store.CancelledByUser || p.UserID != v.user.ID || p.Reason != "" {
		t.Fatalf("scan_cancelled: %+v", p)
	}
	if !woke() {
		t.Fatal("scan_cancelled must wake live streams")
	}

	running := v.running()
	got, err = v.svc.Cancel(ctx, sc, v.user.ID, running.ID)
	if err != nil || got.Status != store.ScanRunning || got.CancelRequestedBy != v.user.ID {
		t.Fatalf("running scan only records the request: %+v %v", got, err)
	}
	// Asking twice keeps the first request.
	first := *got.CancelRequestedAt
	v.clock.t = v.clock.t.Add(time.Minute)
	if got, err = v.svc.Cancel(ctx, store.System(), "usr_admin", running.ID); err != nil || !got.CancelRequestedAt.Equal(first) || got.CancelRequestedBy != v.user.ID {
		t.Fatalf("second request: %+v %v", got, err)
	}
	if evs := v.events(running.ID); len(evs) != 1 || evs[0].Kind != store.EventScanStarted {
		t.Fatalf("a cancel request emits nothing until the runner stops: %+v", evs)
	}
}

func TestVerbRelease(t *testing.T) { scantest.Stores(t, verbRelease) }

func verbRelease(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()

	s := v.running()
	v.expectLostClaim(s, v.svc.Release)
	v.handBackQueued("attempt 1 of 2 is re-queued", s, v.svc.Release, 1, "The runner shut down; the scan was queued again")

	// Its second attempt is the last one: released again, it fails.
	v.reclaim(s.ID, 2)
	notified := len(v.queued())
	if to, err := v.svc.Release(ctx, s.ID, 2, "The runner shut down"); err != nil || to != store.ScanFailed {
		t.Fatalf("last attempt fails: %s %v", to, err)
	}
	got := v.get(s.ID)
	if got.Status != store.ScanFailed || got.StopReason != store.StopInterrupted || got.Error == nil || got.Error.Code != store.ScanErrInterrupted {
		t.Fatalf("interrupted scan: %+v", got)
	}
	if p := v.last(s.ID, store.EventScanFailed).(*store.ScanFailedPayload); p.Code != store.ScanErrInterrupted ||
		p.Message != "The runner shut down and no attempts remain" {
		t.Fatalf("scan_failed: %+v", p)
	}
	if len(v.queued()) != notified {
		t.Fatal("a failed scan is not queued")
	}

	// A cancel request wins over re-queueing.
	v.expectCancelWins(v.running(), v.svc.Release)
}

// TestRecoverUsesRelease: recovery hands stale scans back by the same rule
// and with the same events as a runner letting go, and leaves fresh ones.
func TestRecoverUsesRelease(t *testing.T) { scantest.Stores(t, recoverUsesRelease) }

func recoverUsesRelease(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()
	stale, cancelled := v.running(), v.running()
	v.requestCancel(cancelled.ID)
	v.clock.t = v.clock.t.Add(10 * time.Minute)
	fresh := v.running()
	res, err := v.svc.Recover(ctx, v.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Requeued) != 1 || res.Requeued[0] != stale.ID || len(res.Cancelled) != 1 || res.Cancelled[0] != cancelled.ID || len(res.Failed) != 0 {
		t.Fatalf("recovery: %+v", res)
	}
	if p := v.last(stale.ID, store.EventScanLog).(*store.ScanLogPayload); !strings.HasSuffix(p.Message, "; the scan was queued again") {
		t.Fatalf("scan_log: %+v", p)
	}
	v.expectCancelledByOwner(cancelled.ID)
	if got := v.get(fresh.ID); got.Status != store.ScanRunning {
		t.Fatalf("a fresh scan is left alone: %+v", got)
	}
}

func TestVerbRequeue(t *testing.T) { scantest.Stores(t, verbRequeue) }

// Requeue (a process stopping on SIGTERM) never uses up an attempt: the last
// attempt handed back this way is queued again, not failed.
func verbRequeue(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	s := v.running()
	v.expectLostClaim(s, v.svc.Requeue)
	for round := range 3 { // more rounds than VEGA_SCAN_MAX_ATTEMPTS (2)
		v.handBackQueued(fmt.Sprintf("round %d", round), s, v.svc.Requeue, 0,
			"The runner shut down; the scan was queued again (this attempt does not count)")
		s = v.reclaim(s.ID, 1)
	}

	// A cancel request wins over re-queueing.
	v.expectCancelWins(s, v.svc.Requeue)
}
