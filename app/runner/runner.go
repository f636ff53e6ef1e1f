// Package runner runs exactly one claimed scan (docs/scan-lifecycle.md): it
// starts the scan, heartbeats and watches for cancellation, unpacks the
// snapshot into a private temporary directory, runs the engines, turns their
// reports into events and findings, finishes the scan and uploads the
// artifacts. Every status change is a verb of app/scans (Start, Heartbeat,
// Finish, Release); the runner decides the outcome, not what it writes.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/redact"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// Unpacker materialises a snapshot's files under dest (an empty private
// directory). The real one is app/ingest's; it enforces the archive limits.
type Unpacker interface {
	Unpack(ctx context.Context, snap *store.Snapshot, dest string) error
}

// UnpackFunc adapts a function to Unpacker.
type UnpackFunc func(ctx context.Context, snap *store.Snapshot, dest string) error

func (f UnpackFunc) Unpack(ctx context.Context, snap *store.Snapshot, dest string) error {
	return f(ctx, snap, dest)
}

// TokenSource gives the scan its LLM endpoint (the proxy and a scan token).
type TokenSource interface {
	ScanToken(ctx context.Context, scanID string) (engine.LLM, error)
}

// LLMUser is implemented by engines that need model access; the runner only
// mints a scan token when one of the scan's engines says so.
type LLMUser interface {
	NeedsLLM() bool
}

// Config holds the runner's dependencies. Store, Scans, Blobs, Unpacker and
// Engines are required.
type Config struct {
	Store    store.Store
	Scans    *scans.Service // the lifecycle verbs
	Blobs    blob.Store     // artifacts
	Unpacker Unpacker
	Tokens   TokenSource // nil: engines that need a model fail their stage
	Engines  map[string]engine.Engine
	Version  string // Vega's version, stamped into report.json and report.sarif
	// StopCountsAttempt: a run stopped by its process shutting down is
	// Released (the attempt counts) instead of Requeued. Set for the runner
	// role (an ECS task): its worker watches the task by attempt number, so
	// the number must never be reused while that watch may still act.
	StopCountsAttempt bool

	Heartbeat time.Duration // VEGA_SCAN_HEARTBEAT_SECONDS (10s)
	// CancelPoll is how often the runner looks for cancel_requested_at
	// between heartbeats (default 1s, capped by Heartbeat).
	CancelPoll time.Duration
	TempDir    string // parent of the private scan directories ("" = os.TempDir)
	Events     events.Notifier
	EventOpts  events.Options
	Now        func() time.Time
	Logger     *slog.Logger
}

// Runner runs scans; one Runner serves many concurrent Runs.
type Runner struct {
	cfg Config
}

// ErrNotClaimed is returned when the scan is not in the claimed state: some
// other runner owns it, it was cancelled or it already ran.
var ErrNotClaimed = scans.ErrNotClaimed

// ErrLostClaim is returned when the scan stopped being this run's while it
// ran (recovery handed it to another runner); the run leaves it alone.
var ErrLostClaim = scans.ErrLostClaim

// errCancelRequested is the cause of a run's context cancellation when the
// user asked to stop (ErrLostClaim is the other).
var errCancelRequested = errors.New("runner: cancel requested")

// New checks cfg and fills defaults.
func New(cfg Config) (*Runner, error) {
	if cfg.Store == nil || cfg.Scans == nil || cfg.Blobs == nil || cfg.Unpacker == nil || len(cfg.Engines) == 0 {
		return nil, errors.New("runner: Store, Scans, Blobs, Unpacker and at least one engine are required")
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 10 * time.Second
	}
	if cfg.CancelPoll <= 0 {
		cfg.CancelPoll = time.Second
	}
	if cfg.CancelPoll > cfg.Heartbeat {
		cfg.CancelPoll = cfg.Heartbeat
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Runner{cfg: cfg}, nil
}

// run is the state of one Run.
type run struct {
	r      *Runner
	scan   *store.Scan // as started
	ctx    context.Context
	cancel context.CancelCauseFunc
	bg     context.Context // outlives cancellation: final writes still land
	w      *events.Writer
	rec    *findings.Recorder
	tmp    string

	mu      sync.Mutex
	stages  []store.StageResult
	prog    *progressTracker
	recErr  error
	fileCnt int
}

// Run runs the claimed scan scanID to a terminal status. It returns nil when
// the scan reached completed, failed or cancelled; ErrNotClaimed when the
// scan was not claimed; the context's error when the process is shutting
// down (the scan is then released: re-queued or failed as interrupted).
func (r *Runner) Run(ctx context.Context, scanID string) error {
	bg := context.WithoutCancel(ctx)
	scan, err := r.cfg.Scans.Start(bg, scanID)
	if err != nil {
		return err
	}
	if scan.Status != store.ScanRunning {
		return nil // cancelled before it started; Start ended it
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	x := &run{r: r, scan: scan, ctx: runCtx, cancel: cancel, bg: bg,
		w:   events.NewWriter(bg, r.cfg.Store, r.cfg.Events, scanID, r.cfg.EventOpts),
		rec: findings.NewRecorder(r.cfg.Store, scan, r.cfg.Now), stages: []store.StageResult{},
		prog: newProgressTracker(scan.Engines)}
	defer x.cleanup()
	hbDone := make(chan struct{})
	hbStop := make(chan struct{})
	go func() { defer close(hbDone); x.heartbeat(hbStop) }()
	// Deferred so that a panicking engine (recovered by the dispatcher) does
	// not leave the heartbeat keeping an abandoned scan alive: the scan goes
	// stale and recovery hands it back.
	stopBeat := sync.OnceFunc(func() { close(hbStop); <-hbDone })
	defer stopBeat()
	out := x.execute()
	stopBeat()
	return x.finish(ctx, out)
}

// outcome is how the engines phase ended.
type outcome struct {
	err        *store.ScanError // failure, if any
	stopReason store.StopReason // budget_exceeded keeps status completed
}

func (x *run) stage(s store.StageResult) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.stages = append(x.stages, s)
}

func (x *run) hasStage(engineName string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, s := range x.stages {
		if s.Engine == engineName {
			return true
		}
	}
	return false
}

// clean removes the private directory from messages (paths on the runner's
// disk are nobody's business) and masks credentials an engine or an error
// might quote: scan_log and stage messages are events, in every export of
// them and in events.jsonl.
func (x *run) clean(msg string) string {
	if x.tmp != "" {
		msg = strings.ReplaceAll(msg, x.tmp+string(os.PathSeparator), "")
		msg = strings.ReplaceAll(msg, x.tmp, "")
	}
	msg = redact.Text(msg)
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// execute unpacks the snapshot and runs every engine.
func (x *run) execute() outcome {
	scan, cfg := x.scan, x.r.cfg
	snap, err := cfg.Store.GetSnapshot(x.bg, store.System(), scan.SnapshotID)
	if err != nil {
		x.stage(store.StageResult{Engine: "runner", Stage: "unpack", Status: store.StageFailed, Message: "snapshot not found"})
		return outcome{err: &store.ScanError{Code: store.ScanErrSnapshotMissing, Message: "The scan's snapshot no longer exists"}}
	}
	x.fileCnt = snap.FileCount

	x.tmp, err = os.MkdirTemp(cfg.TempDir, "vega-scan-")
	if err != nil {
		x.stage(store.StageResult{Engine: "runner", Stage: "unpack", Status: store.StageFailed, Message: "no temporary directory"})
		if apperr.IsDiskFull(err) {
			return outcome{err: diskFull("its working directory could not be created")}
		}
		return outcome{err: &store.ScanError{Code: store.ScanErrRunner, Message: "The runner could not create its working directory"}}
	}
	src, art := filepath.Join(x.tmp, "src"), filepath.Join(x.tmp, "artifacts")
	for _, d := range []string{src, art} {
		if err := os.Mkdir(d, 0o700); err != nil {
			if apperr.IsDiskFull(err) {
				return outcome{err: diskFull("its working directory could not be created")}
			}
			return outcome{err: &store.ScanError{Code: store.ScanErrRunner, Message: "The runner could not create its working directory"}}
		}
	}
	if err := cfg.Unpacker.Unpack(x.ctx, snap, src); err != nil {
		if x.ctx.Err() != nil {
			return outcome{}
		}
		if apperr.IsDiskFull(err) {
			cfg.Logger.Error("unpack snapshot: disk full", "scan_id", scan.ID, "err", err)
			x.stage(store.StageResult{Engine: "runner", Stage: "unpack", Status: store.StageFailed, Message: "no space left on the runner's disk"})
			return outcome{err: diskFull("the snapshot could not be unpacked")}
		}
		x.stage(store.StageResult{Engine: "runner", Stage: "unpack", Status: store.StageFailed, Message: x.clean(err.Error())})
		return outcome{err: &store.ScanError{Code: store.ScanErrUnpackFailed, Message: "The snapshot could not be unpacked: " + x.clean(err.Error())}}
	}
	x.stage(store.StageResult{Engine: "runner", Stage: "unpack", Status: store.StageSucceeded})

	var llm engine.LLM
	if x.needsLLM() {
		if cfg.Tokens == nil {
			x.stage(store.StageResult{Engine: "runner", Stage: "llm_token", Status: store.StageFailed, Message: "no LLM proxy configured"})
			return outcome{err: &store.ScanError{Code: store.ScanErrLLMUnavailable, Message: "An engine needs a model, but no LLM proxy is configured"}}
		}
		llm, err = cfg.Tokens.ScanToken(x.ctx, scan.ID)
		if err != nil {
			if x.ctx.Err() != nil {
				return outcome{}
			}
			x.stage(store.StageResult{Engine: "runner", Stage: "llm_token", Status: store.StageFailed, Message: "could not obtain a scan token"})
			cfg.Logger.Warn("scan token", "scan_id", scan.ID, "err", err)
			return outcome{err: &store.ScanError{Code: store.ScanErrLLMUnavailable, Message: "The LLM proxy did not issue a scan token"}}
		}
	}

	var failed []string
	var out outcome
	full := false
	for _, name := range scan.Engines {
		eng, ok := cfg.Engines[name]
		if !ok {
			x.stage(store.StageResult{Engine: name, Stage: "run", Status: store.StageFailed, Message: "engine not available in this runner"})
			failed = append(failed, name)
			continue
		}
		engDir := filepath.Join(art, name)
		if err := os.Mkdir(engDir, 0o700); err != nil {
			engDir = art
		}
		in := engine.Input{ScanID: scan.ID, SourceDir: src, Paths: scan.Paths, Profile: scan.ThreatProfile, LLM: llm, ArtifactDir: engDir}
		err := eng.Run(x.ctx, in, &emitter{x: x, engine: name})
		x.endEngine(name, err)
		switch {
		case err == nil:
			if !x.hasStage(name) {
				x.stage(store.StageResult{Engine: name, Stage: "run", Status: store.StageSucceeded})
			}
		case errors.Is(err, engine.ErrBudgetExceeded):
			x.stage(store.StageResult{Engine: name, Stage: "run", Status: store.StageFailed, Message: "LLM budget exceeded"})
			x.w.Emit(store.ScanLogPayload{Level: store.LogWarn, Engine: name, Message: "The scan's LLM budget is exhausted; stopping with the findings so far"})
			out.stopReason = store.StopBudgetExceeded
		case errors.Is(context.Cause(x.ctx), errCancelRequested):
			x.stage(store.StageResult{Engine: name, Stage: "run", Status: store.StageCancelled, Message: "cancelled on request"})
		case x.ctx.Err() != nil:
			x.stage(store.StageResult{Engine: name, Stage: "run", Status: store.StageFailed, Message: "stopped"})
		case apperr.IsDiskFull(err):
			full = true
			cfg.Logger.Error("engine: disk full", "scan_id", scan.ID, "engine", name, "err", err)
			x.stage(store.StageResult{Engine: name, Stage: "run", Status: store.StageFailed, Message: "no space left on the runner's disk"})
			x.w.Emit(store.ScanLogPayload{Level: store.LogError, Engine: name, Message: "Engine failed: no space left on the runner's disk"})
			failed = append(failed, name)
		default:
			x.stage(store.StageResult{Engine: name, Stage: "run", Status: store.StageFailed, Message: x.clean(err.Error())})
			x.w.Emit(store.ScanLogPayload{Level: store.LogError, Engine: name, Message: "Engine failed: " + x.clean(err.Error())})
			failed = append(failed, name)
		}
		if out.stopReason != "" || x.ctx.Err() != nil || full {
			break // a full disk fails the next engine too
		}
	}
	x.mu.Lock()
	recErr := x.recErr
	x.mu.Unlock()
	switch {
	case recErr != nil:
		cfg.Logger.Error("record findings", "scan_id", scan.ID, "err", recErr)
		out.err = &store.ScanError{Code: store.ScanErrStore, Message: "Findings could not be saved"}
	case full:
		out.err = diskFull(fmt.Sprintf("engine %s could not write its files", failed[len(failed)-1]))
	case len(failed) > 0:
		out.err = &store.ScanError{Code: store.ScanErrEngineFailed, Message: fmt.Sprintf("Engine(s) failed: %s", strings.Join(failed, ", "))}
	}
	return out
}

// endEngine publishes how an engine's run ended in the scan's progress.
func (x *run) endEngine(name string, err error) {
	state := store.EngineDone
	switch {
	case errors.Is(context.Cause(x.ctx), errCancelRequested):
		state = store.EngineCancelled
	case errors.Is(err, engine.ErrBudgetExceeded) || (err != nil && x.ctx.Err() != nil):
		state = store.EngineStopped
	case err != nil:
		state = store.EngineFailed
	}
	x.w.Emit(store.ScanProgressPayload(x.prog.finish(name, state)))
}

// diskFull is the scan error of a runner whose disk filled up; the scan's
// directory is removed on the way out (cleanup) like on every other end.
func diskFull(what string) *store.ScanError {
	return &store.ScanError{Code: store.ScanErrStorageFull, Message: "The runner ran out of disk space: " + what + ". Free space on the server, then scan again"}
}

func (x *run) needsLLM() bool {
	for _, name := range x.scan.Engines {
		if u, ok := x.r.cfg.Engines[name].(LLMUser); ok && u.NeedsLLM() {
			return true
		}
	}
	return false
}

// heartbeat records liveness and the latest progress every Heartbeat and
// looks for a cancel request every CancelPoll. It cancels the run when the
// user asked to stop or when the scan stopped being ours (recovered by
// someone else after a long stall): two runners never write one scan.
func (x *run) heartbeat(stop <-chan struct{}) {
	cfg := x.r.cfg
	poll := time.NewTicker(cfg.CancelPoll)
	defer poll.Stop()
	lastBeat := cfg.Now()
	for {
		select {
		case <-stop:
			return
		case <-poll.C:
		}
		now := cfg.Now()
		if now.Sub(lastBeat) < cfg.Heartbeat {
			s, err := cfg.Store.GetScan(x.bg, store.System(), x.scan.ID)
			if err == nil && !scans.Holds(s, x.scan.Attempt) {
				x.cancel(ErrLostClaim)
				return
			}
			if err == nil && s.CancelRequestedAt != nil {
				x.cancel(errCancelRequested)
				return
			}
			continue
		}
		lastBeat = now
		cancelReq, err := cfg.Scans.Heartbeat(x.bg, x.scan.ID, x.scan.Attempt, x.prog.current())
		switch {
		case errors.Is(err, ErrLostClaim):
			x.cancel(ErrLostClaim)
			return
		case err != nil:
			cfg.Logger.Warn("scan heartbeat", "scan_id", x.scan.ID, "err", err)
		case cancelReq:
			x.cancel(errCancelRequested)
			return
		}
	}
}

// SnapshotUnpacker is the real Unpacker: app/ingest.Unpack with the archive
// limits, so a tampered snapshot blob cannot write outside the scan directory.
func SnapshotUnpacker(blobs blob.Store, lim ingest.Limits) Unpacker {
	return UnpackFunc(func(ctx context.Context, snap *store.Snapshot, dest string) error {
		return ingest.Unpack(ctx, blobs, snap, dest, lim)
	})
}
