package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/dispatch/queue"
	"github.com/vegasec/vega/store"
)

// The sqs mode (docs/aws.md, "SQS dispatch"). The database is the source of
// truth and a message only wakes a worker:
//
//   - Sender (the scans service's queue in every process of the mode) sends
//     {"scan_id"} when a scan becomes queued and records when; a failed send
//     leaves the scan queued and unsent.
//   - SQS (`vega worker`) long-polls, claims the named scan in the database
//     (scans.ClaimScan), keeps the message hidden while the run lasts and
//     deletes it at the end. A message for a scan that is not queued any more
//     (a duplicate delivery, a scan that ran or was cancelled) is deleted
//     without running anything; a malformed one, or one naming no scan, is
//     logged and deleted. Nothing a message says can stop the worker.
//   - Its sweeper sends again what was never sent or has waited too long, and
//     logs the queue's depth once a minute for the CloudWatch metric filter
//     (deploy/aws/lib/contract.ts).

// ScanSender is the store side of Sender.
type ScanSender interface {
	MarkScanSent(ctx context.Context, scanID string, at time.Time) error
}

// Sender sends scan messages and records when (scans.Queue).
type Sender struct {
	Q     queue.Queue
	Store ScanSender
	Now   func() time.Time
}

// Notify sends {"scan_id": id}. On failure the scan stays queued and unsent,
// and a worker's sweeper sends it once the queue answers.
func (s *Sender) Notify(ctx context.Context, scanID string) error {
	return s.send(ctx, queue.ScanMessage{ScanID: scanID}, 0)
}

func (s *Sender) send(ctx context.Context, m queue.ScanMessage, delay time.Duration) error {
	if err := s.Q.Send(ctx, m.Encode(), delay); err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	// A delayed message counts as sent when it becomes visible, so the
	// sweeper does not send it again meanwhile.
	return s.Store.MarkScanSent(ctx, m.ScanID, now().Add(delay))
}

// RetryError is what a Runner returns when it could not start the run and
// handed the scan back to the queue (scans.Unclaim): the dispatcher offers
// it again after a backoff.
type RetryError struct{ Err error }

func (e *RetryError) Error() string { return "retry later: " + e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// Adopter is a Runner whose runs outlive the worker that started them (ECS
// tasks). Orphans lists held scans it can re-attach to, whose watcher is gone;
// Run then re-attaches instead of starting a second run.
type Adopter interface {
	Orphans(ctx context.Context) ([]string, error)
}

// Detacher is a Runner that lets go of a run without ending it when the
// worker stops (the task keeps running, a successor re-attaches).
type Detacher interface{ Detaches() bool }

// SQSLifecycle is the part of app/scans the sqs dispatcher drives.
type SQSLifecycle interface {
	ClaimScan(ctx context.Context, id, workerID string) (*store.Scan, error)
	Recover(ctx context.Context, now time.Time) (scans.RecoverResult, error)
}

// SQSStore is what the sqs dispatcher reads and writes directly.
type SQSStore interface {
	ScanSender
	ListUnsentScans(ctx context.Context, createdBefore, sentBefore time.Time, limit int) ([]string, error)
	QueuedScanStats(ctx context.Context) (int, time.Time, error)
	UpsertWorker(ctx context.Context, w *store.Worker) error
	DeleteWorker(ctx context.Context, id string) error
}

// SQSOptions tune SQS; zero values take defaults.
type SQSOptions struct {
	Options
	Wait           time.Duration // long poll (20s)
	SweepInterval  time.Duration // how often unsent scans are looked for (RecoverInterval)
	NeverSentGrace time.Duration // a never-sent scan younger than this may still be in its sender's hands (5s)
	ResendAfter    time.Duration // a queued scan sent longer ago is sent again (5m)
	StatsInterval  time.Duration // the "scan queue stats" line (60s)
	// MaxBackoff caps the delay before a scan whose runner could not be
	// launched is offered again (5m; SQS allows 15m).
	MaxBackoff time.Duration
}

// SQS is the `vega worker` dispatcher of the sqs mode.
type SQS struct {
	st    SQSStore
	q     queue.Queue
	send  *Sender
	run   Runner
	lc    SQSLifecycle
	opt   SQSOptions
	id    string
	vis   time.Duration
	slots chan struct{}
	log   *slog.Logger

	runState // wg: runs; bgWG: receive loop and housekeeping
}

// NewSQS builds the sqs dispatcher; send is the process's Sender.
func NewSQS(st SQSStore, q queue.Queue, send *Sender, run Runner, lc SQSLifecycle, opt SQSOptions) *SQS {
	opt.defaults()
	opt.Wait = positiveOr(opt.Wait, 20*time.Second)
	opt.SweepInterval = positiveOr(opt.SweepInterval, opt.RecoverInterval)
	opt.NeverSentGrace = positiveOr(opt.NeverSentGrace, 5*time.Second)
	opt.ResendAfter = positiveOr(opt.ResendAfter, 5*time.Minute)
	opt.StatsInterval = positiveOr(opt.StatsInterval, time.Minute)
	opt.MaxBackoff = positiveOr(opt.MaxBackoff, 5*time.Minute)
	if opt.Role == "" {
		opt.Role = "worker"
	}
	return &SQS{st: st, q: q, send: send, run: run, lc: lc, opt: opt, id: store.NewID(store.PrefixWorker),
		slots: make(chan struct{}, opt.Concurrency), log: opt.Logger, runState: newRunState()}
}

// ID is the worker ID this dispatcher claims scans as.
func (d *SQS) ID() string { return d.id }

// Notify sends the scan's message (a recovered scan, queued again).
func (d *SQS) Notify(ctx context.Context, scanID string) error { return d.send.Notify(ctx, scanID) }

// Start reads the queue's visibility timeout, registers the worker,
// re-attaches to orphaned runs and starts receiving.
func (d *SQS) Start(ctx context.Context) error {
	if err := d.begin(ctx, d.opt.Now(), "dispatch: already started"); err != nil {
		return err
	}
	vis, err := d.q.VisibilityTimeout(ctx)
	if err != nil {
		// The queue may come back; runs are kept hidden on the deployment's
		// timeout meanwhile (deploy/aws/lib/contract.ts).
		d.log.Warn("scan queue: cannot read the visibility timeout; assuming 120s", "err", err)
		vis = 120 * time.Second
	}
	d.vis = vis
	d.beat(ctx)
	d.adopt()
	d.bgWG.Add(2)
	go d.receiveLoop()
	go d.housekeeping()
	d.log.Info("scan dispatcher started", "worker_id", d.id, "mode", d.opt.Mode, "concurrency", d.opt.Concurrency,
		"visibility_timeout_seconds", int(vis.Seconds()))
	return nil
}

func (d *SQS) stopped() bool {
	select {
	case <-d.stopping:
		return true
	default:
		return false
	}
}

// receiveLoop takes a free slot, then long-polls for as many messages as
// there are free slots.
func (d *SQS) receiveLoop() {
	defer d.bgWG.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-d.stopping; cancel() }()
	backoff := time.Second
	for !d.stopped() {
		select {
		case d.slots <- struct{}{}:
		case <-d.stopping:
			return
		}
		free := 1
		for free < 10 && len(d.slots) < cap(d.slots) {
			d.slots <- struct{}{}
			free++
		}
		msgs, err := d.q.Receive(ctx, free, d.opt.Wait)
		if err != nil && !d.stopped() {
			d.log.Error("scan queue receive", "err", err)
			d.sleep(backoff)
			backoff = min(backoff*2, 30*time.Second)
		} else if err == nil {
			backoff = time.Second
		}
		for _, m := range msgs {
			free--
			d.wg.Add(1)
			go func(m queue.Message) {
				defer d.wg.Done()
				defer func() { <-d.slots }()
				d.handle(m)
			}(m)
		}
		for ; free > 0; free-- {
			<-d.slots
		}
	}
}

func (d *SQS) sleep(t time.Duration) {
	select {
	case <-time.After(t):
	case <-d.stopping:
	}
}

// handle is one delivery: claim the named scan, run it with the message
// hidden, delete the message.
func (d *SQS) handle(m queue.Message) {
	ctx := context.Background()
	log := d.log.With("message_id", m.ID, "receive_count", m.ReceiveCount)
	msg, err := queue.DecodeScanMessage(m.Body)
	if err != nil {
		log.Warn("scan queue: dropping a malformed message", "err", err)
		d.delete(log, m)
		return
	}
	log = log.With("scan_id", msg.ScanID, "worker_id", d.id)
	scan, err := d.lc.ClaimScan(ctx, msg.ScanID, d.id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		log.Warn("scan queue: dropping a message for an unknown scan")
		d.delete(log, m)
		return
	case errors.Is(err, scans.ErrNotQueued):
		// A duplicate delivery, a re-send, or a scan cancelled meanwhile:
		// whoever holds the scan runs it.
		log.Info("scan queue: the scan is not queued any more; dropping the message")
		d.delete(log, m)
		return
	case err != nil:
		// The database did not answer: leave the message; it comes back
		// after the visibility timeout.
		log.Error("scan queue: claim", "err", err)
		return
	}
	d.runClaimed(log, scan.ID, m, msg)
}

// runClaimed runs a scan this worker holds, keeping its message hidden
// (m is empty for a re-attached run, which has no message).
func (d *SQS) runClaimed(log *slog.Logger, scanID string, m queue.Message, msg queue.ScanMessage) {
	defer d.enter(scanID)()
	stopExtend := make(chan struct{})
	extended := make(chan struct{})
	go func() { defer close(extended); d.extend(log, m, stopExtend) }()
	defer func() { close(stopExtend); <-extended }()
	defer func() {
		if r := recover(); r != nil {
			log.Error("scan runner panicked", "panic", r)
		}
	}()

	log.Info("scan claimed")
	err := d.run.Run(d.runCtx, scanID)
	var retry *RetryError
	switch {
	case errors.As(err, &retry):
		next := queue.ScanMessage{ScanID: scanID, Retry: msg.Retry + 1}
		delay := d.backoff(next.Retry)
		log.Warn("runner not started; the scan is offered again later", "err", err, "retry", next.Retry, "delay_seconds", int(delay.Seconds()))
		if err := d.send.send(context.Background(), next, delay); err != nil {
			// The sweeper sends it once the queue answers.
			log.Error("scan queue: send the retry", "err", err)
		}
	case err != nil && d.stopped():
		log.Info("worker stopping: run left", "err", err)
	case err != nil:
		log.Warn("scan run ended early", "err", err)
	default:
		log.Info("scan finished")
	}
	if m.Receipt != "" {
		d.delete(log, m)
	}
}

// backoff is the delay before the n-th retry: 5s doubling, jittered by the
// queue's own delivery, capped by MaxBackoff.
func (d *SQS) backoff(n int) time.Duration {
	b := 5 * time.Second * time.Duration(math.Pow(2, float64(min(n-1, 10))))
	return min(b, d.opt.MaxBackoff)
}

// extend keeps m hidden while its scan runs: every third of the visibility
// timeout, back to the full timeout (deploy/aws/lib/contract.ts).
func (d *SQS) extend(log *slog.Logger, m queue.Message, stop chan struct{}) {
	if m.Receipt == "" {
		return
	}
	t := time.NewTicker(max(d.vis/3, time.Second))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := d.q.Extend(context.Background(), m, d.vis); err != nil {
				log.Warn("scan queue: extend visibility", "err", err)
			}
		}
	}
}

func (d *SQS) delete(log *slog.Logger, m queue.Message) {
	if err := d.q.Delete(context.Background(), m); err != nil {
		log.Warn("scan queue: delete message", "err", err)
	}
}

// adopt re-attaches to runs whose watcher is gone (Adopter runners).
func (d *SQS) adopt() {
	a, ok := d.run.(Adopter)
	if !ok || d.stopped() {
		return
	}
	ids, err := a.Orphans(context.Background())
	if err != nil {
		d.log.Error("look for runner tasks to re-attach to", "err", err)
		return
	}
	for _, id := range ids {
		if d.busy(id) {
			continue
		}
		log := d.log.With("scan_id", id, "worker_id", d.id)
		log.Info("re-attaching to the runner of a scan whose worker went away")
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.runClaimed(log, id, queue.Message{}, queue.ScanMessage{ScanID: id})
		}()
	}
}

// housekeeping: worker heartbeat, stale-scan recovery, re-attaching,
// sweeping unsent scans and the queue stats line.
func (d *SQS) housekeeping() {
	defer d.bgWG.Done()
	beat := time.NewTicker(d.opt.WorkerHeartbeat)
	defer beat.Stop()
	rec := time.NewTicker(d.opt.RecoverInterval)
	defer rec.Stop()
	sweep := time.NewTicker(d.opt.SweepInterval)
	defer sweep.Stop()
	stats := time.NewTicker(d.opt.StatsInterval)
	defer stats.Stop()
	ctx := context.Background()
	d.stats(ctx)
	for {
		select {
		case <-d.stopping:
			return
		case <-beat.C:
			d.beat(ctx)
		case <-rec.C:
			if res, err := d.lc.Recover(ctx, d.opt.Now()); err != nil {
				d.log.Error("stale scan recovery", "err", err)
			} else if len(res.Requeued)+len(res.Failed)+len(res.Cancelled) > 0 {
				d.log.Info("recovered scans", "requeued", len(res.Requeued), "failed", len(res.Failed), "cancelled", len(res.Cancelled))
			}
			d.adopt()
		case <-sweep.C:
			d.Sweep(ctx)
		case <-stats.C:
			d.stats(ctx)
		}
	}
}

// Sweep sends again the queued scans that were never sent (the queue was
// unreachable) or have waited longer than ResendAfter since they were sent
// (their message went to the dead-letter queue, or was lost). Duplicates are
// harmless: a claim happens once.
func (d *SQS) Sweep(ctx context.Context) int {
	now := d.opt.Now()
	ids, err := d.st.ListUnsentScans(ctx, now.Add(-d.opt.NeverSentGrace), now.Add(-d.opt.ResendAfter), 100)
	if err != nil {
		d.log.Error("scan queue sweep", "err", err)
		return 0
	}
	n := 0
	for _, id := range ids {
		if err := d.send.Notify(ctx, id); err != nil {
			d.log.Warn("scan queue sweep: send", "scan_id", id, "err", err)
			return n // the queue is down; the next sweep tries again
		}
		n++
	}
	if n > 0 {
		d.log.Info("scan queue sweep: sent queued scans again", "scans", n)
	}
	return n
}

// stats writes the line the deployment's metric filter reads
// (deploy/aws/lib/contract.ts, QUEUE_STATS_MESSAGE).
func (d *SQS) stats(ctx context.Context) {
	n, oldest, err := d.st.QueuedScanStats(ctx)
	if err != nil {
		d.log.Warn("scan queue stats", "err", err)
		return
	}
	age := 0
	if !oldest.IsZero() {
		age = int(d.opt.Now().Sub(oldest).Seconds())
	}
	d.log.Info("scan queue stats", "queued_scans", n, "oldest_queued_scan_age_seconds", age)
}

func (d *SQS) beat(ctx context.Context) {
	writeWorkerRow(ctx, d.st, d.opt.Options, d.id, d.startAt, d.Running())
}

// Stop stops receiving, waits up to grace for runs, then cancels them: a
// local run hands its scan back (queued again, and sent), a runner task is
// left running for a successor to re-attach to. Messages of unfinished runs
// stay in the queue and come back after the visibility timeout, when they
// are dropped as duplicates or claimed again.
func (d *SQS) Stop(grace time.Duration) {
	d.mu.Lock()
	if !d.started || d.stopped() {
		d.mu.Unlock()
		return
	}
	close(d.stopping)
	d.mu.Unlock()
	d.bgWG.Wait()
	if dt, ok := d.run.(Detacher); ok && dt.Detaches() {
		grace = 0 // nothing to wait for: the tasks run on
	}
	drainRuns(&d.wg, grace, d.opt.Options, d.cancel, d.Running)
	removeWorkerRow(d.st, d.log, d.id)
}

// String names the dispatcher in logs.
func (d *SQS) String() string { return fmt.Sprintf("sqs dispatcher %s", d.id) }
