// Package dispatch moves queued scans to runners (docs/scan-lifecycle.md).
// The claim loop is the same everywhere: a bounded pool of goroutines claims
// the oldest queued scan (scans.Service.Claim, atomic in the store) and runs
// it.
//
//   - thread: the pool lives in the api process and is woken at once by
//     Notify when a scan is queued; a poll ticker covers everything else
//     (scans queued before a restart, scans re-queued by recovery).
//   - external: the same pool in `vega worker` processes polling a shared
//     Postgres store; Notify from the api process is not needed.
//
// Both register a store.Worker with a heartbeat and run stale-scan recovery
// periodically. An sqs dispatcher would replace the poll with a queue
// receive and reuse the pool.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

// Dispatcher takes queued scans to runners: the thread and external pools
// and the sqs worker (app/server picks one per process).
type Dispatcher interface {
	// Notify says scanID was queued; it never blocks on the scan.
	Notify(ctx context.Context, scanID string) error
	// Start recovers abandoned scans and starts taking work.
	Start(ctx context.Context) error
	// Stop stops taking work, waits up to grace for running scans, then
	// cancels them (they are handed back, not left half-written) and waits
	// for them to let go.
	Stop(grace time.Duration)
}

// Runner runs one claimed scan (app/runner.Runner).
type Runner interface {
	Run(ctx context.Context, scanID string) error
}

// Lifecycle is the part of app/scans the pool drives (*scans.Service):
// claiming queued scans and handing back stale ones.
type Lifecycle interface {
	Claim(ctx context.Context, workerID string) (*store.Scan, error)
	Recover(ctx context.Context, now time.Time) (scans.RecoverResult, error)
	RecoverAbandoned(ctx context.Context, now time.Time) (scans.RecoverResult, error)
}

// Options tune a Pool; zero values take defaults.
type Options struct {
	Concurrency     int           // VEGA_THREAD_CONCURRENCY (2)
	PollInterval    time.Duration // how often idle goroutines look for work (thread 5s, external 2s)
	RecoverInterval time.Duration // how often stale scans are recovered (30s)
	WorkerHeartbeat time.Duration // how often the worker row is refreshed (10s)
	// RecoverAbandonedAtStart treats every claimed/running scan as abandoned
	// at start. Only true when this process is the store's sole runner
	// (bolt in thread mode): nothing else can be running its scans.
	RecoverAbandonedAtStart bool
	Role                    string // worker row role: "api" or "worker"
	Mode                    string // worker row mode, e.g. "external+local"
	Version                 string
	// ReleaseTimeout bounds the wait for cancelled runs to hand their scans
	// back after the grace period (10s).
	ReleaseTimeout time.Duration
	Now            func() time.Time
	Logger         *slog.Logger
}

// Pool is the claim loop shared by the thread and external modes.
type Pool struct {
	st   store.Store // the worker row
	run  Runner
	lc   Lifecycle
	opt  Options
	id   string
	wake chan struct{}

	runState // wg: claim goroutines; bgWG: housekeeping
}

// runState is what Pool and SQS both keep while started: the runs' context,
// the set of scans running now, and the wait groups Stop drains.
type runState struct {
	mu       sync.Mutex
	started  bool
	stopping chan struct{}
	runCtx   context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // runs
	bgWG     sync.WaitGroup // background loops
	// current counts the handlers of each scan in this process. A run that
	// hands its scan back (scans.Unclaim, RetryError) is still returning when
	// another delivery may claim and run the scan here: a count, not a set,
	// so the first one's leaving does not hide the second from Running.
	current map[string]int
	startAt time.Time
}

func newRunState() runState {
	return runState{current: map[string]int{}, stopping: make(chan struct{})}
}

// begin marks the dispatcher started at now, with runs under a context that
// keeps ctx's values but is cancelled only by Stop; an error if already started.
func (r *runState) begin(ctx context.Context, now time.Time, already string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New(already)
	}
	r.started = true
	r.startAt = now.UTC()
	r.runCtx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return nil
}

// enter records a handler of scanID; the returned func records its leaving.
func (r *runState) enter(scanID string) (leave func()) {
	r.mu.Lock()
	r.current[scanID]++
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		if r.current[scanID]--; r.current[scanID] <= 0 {
			delete(r.current, scanID)
		}
		r.mu.Unlock()
	}
}

// busy reports whether a handler of scanID is in this process now.
func (r *runState) busy(scanID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current[scanID] > 0
}

// Running lists the scans running (or watched) now.
func (r *runState) Running() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return sortedIDs(r.current)
}

// NewThread is the in-process pool of the api role (VEGA_SCAN_EXECUTION_MODE=thread).
func NewThread(st store.Store, run Runner, lc Lifecycle, opt Options) *Pool {
	opt.PollInterval = positiveOr(opt.PollInterval, 5*time.Second)
	if opt.Role == "" {
		opt.Role = "api"
	}
	return newPool(st, run, lc, opt)
}

// NewExternal is the `vega worker` pool polling a shared store
// (VEGA_SCAN_EXECUTION_MODE=external). It never treats other workers' scans
// as abandoned; recovery goes by heartbeat age only.
func NewExternal(st store.Store, run Runner, lc Lifecycle, opt Options) *Pool {
	opt.PollInterval = positiveOr(opt.PollInterval, 2*time.Second)
	if opt.Role == "" {
		opt.Role = "worker"
	}
	opt.RecoverAbandonedAtStart = false
	return newPool(st, run, lc, opt)
}

// defaults fills the settings both dispatchers (Pool and SQS) share.
func (opt *Options) defaults() {
	opt.Concurrency = positiveOr(opt.Concurrency, 2)
	opt.RecoverInterval = positiveOr(opt.RecoverInterval, 30*time.Second)
	opt.WorkerHeartbeat = positiveOr(opt.WorkerHeartbeat, 10*time.Second)
	opt.ReleaseTimeout = positiveOr(opt.ReleaseTimeout, 10*time.Second)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
}

// positiveOr is v, or def when v is unset (zero) or negative: the rule for
// every numeric option of the dispatchers.
func positiveOr[T ~int | ~int64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func newPool(st store.Store, run Runner, lc Lifecycle, opt Options) *Pool {
	opt.defaults()
	return &Pool{st: st, run: run, lc: lc, opt: opt, id: store.NewID(store.PrefixWorker),
		wake: make(chan struct{}, opt.Concurrency), runState: newRunState()}
}

// ID is the worker ID this pool claims scans as.
func (p *Pool) ID() string { return p.id }

// Notify wakes an idle goroutine; the scan itself is found by claiming.
func (p *Pool) Notify(ctx context.Context, scanID string) error {
	select {
	case p.wake <- struct{}{}:
	default: // every goroutine already has a wake-up pending
	}
	return nil
}

// Start registers the worker, recovers abandoned scans and starts the pool.
// Scans run under a context derived from ctx's values but cancelled only by Stop.
func (p *Pool) Start(ctx context.Context) error {
	if err := p.begin(ctx, p.opt.Now(), "dispatch: pool already started"); err != nil {
		return err
	}
	p.beat(ctx)
	p.recover(ctx, p.opt.RecoverAbandonedAtStart)
	for i := 0; i < p.opt.Concurrency; i++ {
		p.wg.Add(1)
		go p.loop()
	}
	p.bgWG.Add(1)
	go p.housekeeping()
	p.opt.Logger.Info("scan dispatcher started", "worker_id", p.id, "role", p.opt.Role, "concurrency", p.opt.Concurrency)
	return nil
}

func (p *Pool) recover(ctx context.Context, abandoned bool) {
	var res scans.RecoverResult
	var err error
	if abandoned {
		res, err = p.lc.RecoverAbandoned(ctx, p.opt.Now())
	} else {
		res, err = p.lc.Recover(ctx, p.opt.Now())
	}
	if err != nil {
		p.opt.Logger.Error("stale scan recovery", "err", err)
		return
	}
	if n := len(res.Requeued); n > 0 {
		p.opt.Logger.Info("recovered scans", "requeued", n, "failed", len(res.Failed), "cancelled", len(res.Cancelled))
		for i := 0; i < n && i < p.opt.Concurrency; i++ {
			_ = p.Notify(ctx, "")
		}
	}
}

// loop claims and runs scans until Stop.
func (p *Pool) loop() {
	defer p.wg.Done()
	poll := time.NewTicker(p.opt.PollInterval)
	defer poll.Stop()
	for {
		select {
		case <-p.stopping:
			return
		default:
		}
		scan, err := p.lc.Claim(context.Background(), p.id)
		if err == nil {
			if !p.runOne(scan.ID) {
				continue // more may be waiting
			}
			// The runner could not start and handed the scan back
			// (RetryError): wait for the next poll instead of spinning.
			err = store.ErrNotFound
		}
		if !errors.Is(err, store.ErrNotFound) {
			p.opt.Logger.Error("claim scan", "err", err)
		}
		select {
		case <-p.stopping:
			return
		case <-p.wake:
		case <-poll.C:
		}
	}
}

// runOne runs one claimed scan; retry says the runner could not start it
// and handed it back to the queue.
func (p *Pool) runOne(scanID string) (retry bool) {
	defer p.enter(scanID)()
	defer func() {
		// A panicking engine must not take the process down; the scan is
		// left running and recovery hands it back after the heartbeat TTL.
		if r := recover(); r != nil {
			p.opt.Logger.Error("scan runner panicked", "scan_id", scanID, "panic", r)
		}
	}()
	log := p.opt.Logger.With("scan_id", scanID, "worker_id", p.id)
	log.Info("scan claimed")
	if err := p.run.Run(p.runCtx, scanID); err != nil {
		var r *RetryError
		log.Warn("scan run ended early", "err", err)
		return errors.As(err, &r)
	}
	log.Info("scan finished")
	return false
}

// housekeeping refreshes the worker row and recovers stale scans.
func (p *Pool) housekeeping() {
	defer p.bgWG.Done()
	beat := time.NewTicker(p.opt.WorkerHeartbeat)
	defer beat.Stop()
	rec := time.NewTicker(p.opt.RecoverInterval)
	defer rec.Stop()
	ctx := context.Background()
	for {
		select {
		case <-p.stopping:
			return
		case <-beat.C:
			p.beat(ctx)
		case <-rec.C:
			p.recover(ctx, false)
		}
	}
}

func (p *Pool) beat(ctx context.Context) {
	writeWorkerRow(ctx, p.st, p.opt, p.id, p.startAt, p.Running())
}

// Stop stops claiming, lets running scans finish for up to grace, then
// cancels them so each hands its scan back (re-queued or failed as
// interrupted) and waits for that, bounded by ReleaseTimeout.
func (p *Pool) Stop(grace time.Duration) {
	p.mu.Lock()
	if !p.started {
		p.mu.Unlock()
		return
	}
	select {
	case <-p.stopping:
		p.mu.Unlock()
		return
	default:
	}
	close(p.stopping)
	p.mu.Unlock()
	p.bgWG.Wait()

	drainRuns(&p.wg, grace, p.opt, p.cancel, p.Running)
	removeWorkerRow(p.st, p.opt.Logger, p.id)
}

// sortedIDs lists the keys of a dispatcher's current-runs set in order.
func sortedIDs(current map[string]int) []string {
	ids := make([]string, 0, len(current))
	for id := range current {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// workerRows is the part of the store that keeps a dispatcher's worker row.
type workerRows interface {
	UpsertWorker(ctx context.Context, w *store.Worker) error
	DeleteWorker(ctx context.Context, id string) error
}

// writeWorkerRow refreshes the worker row (the heartbeat ops reads).
func writeWorkerRow(ctx context.Context, st workerRows, opt Options, id string, startAt time.Time, running []string) {
	host, _ := os.Hostname()
	w := &store.Worker{ID: id, Hostname: host, Role: opt.Role, Mode: opt.Mode, Version: opt.Version,
		StartedAt: startAt, LastHeartbeatAt: opt.Now().UTC(), CurrentScanIDs: running}
	if err := st.UpsertWorker(ctx, w); err != nil {
		opt.Logger.Warn("worker heartbeat", "worker_id", id, "err", err)
	}
}

// drainRuns waits up to grace for the runs in wg, then cancels them and waits
// up to ReleaseTimeout more for them to hand their scans back; a zero grace
// cancels at once without the "grace period over" warning.
func drainRuns(wg *sync.WaitGroup, grace time.Duration, opt Options, cancel func(), running func() []string) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		if grace > 0 {
			opt.Logger.Warn("grace period over; handing running scans back", "scans", running())
		}
		cancel()
		select {
		case <-done:
		case <-time.After(opt.ReleaseTimeout):
			opt.Logger.Error("scans did not stop in time; recovery will hand them back", "scans", running())
		}
	}
	cancel()
}

// removeWorkerRow deletes the worker row on a clean stop.
func removeWorkerRow(st workerRows, log *slog.Logger, id string) {
	if err := st.DeleteWorker(context.Background(), id); err != nil && !errors.Is(err, store.ErrNotFound) {
		log.Warn("remove worker row", "worker_id", id, "err", err)
	}
}
