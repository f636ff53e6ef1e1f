package runner

import (
	"context"
	"errors"
	"os"
	"strconv"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

// finish settles what the run produced (usage, fixed findings, counts), then
// ends the scan through scans.Finish — or hands it back through
// scans.Release when the process is shutting down — and uploads the
// artifacts.
func (x *run) finish(parent context.Context, out outcome) error {
	cfg := x.r.cfg
	cause := context.Cause(x.ctx)
	if errors.Is(cause, ErrLostClaim) {
		_ = x.w.Close()
		cfg.Logger.Warn("scan was taken from this runner; stopping without touching it", "scan_id", x.scan.ID)
		return ErrLostClaim
	}
	if parent.Err() != nil && !errors.Is(cause, errCancelRequested) {
		return x.release(parent.Err())
	}

	// The LLM proxy writes usage in the background; settle it so the final
	// scan row and summary.json carry every model call.
	if f, ok := cfg.Tokens.(interface{ Flush(context.Context) error }); ok {
		if err := f.Flush(x.bg); err != nil {
			cfg.Logger.Warn("flush LLM usage", "scan_id", x.scan.ID, "err", err)
		}
	}
	cancelled := errors.Is(cause, errCancelRequested)
	if !cancelled && out.err == nil && out.stopReason == "" {
		// Only a complete scan may declare absent findings fixed.
		if n, err := x.rec.MarkFixed(x.bg); err != nil {
			cfg.Logger.Error("mark fixed findings", "scan_id", x.scan.ID, "err", err)
			x.stage(store.StageResult{Engine: "runner", Stage: "mark_fixed", Status: store.StageFailed, Message: "could not update findings no longer present"})
		} else if n > 0 {
			x.w.Emit(store.ScanLogPayload{Level: store.LogInfo, Message: plural(n, "finding was", "findings were") + " not found again and marked fixed"})
		}
	}
	counts, err := cfg.Store.CountFindings(x.bg, store.System(), store.FindingFilter{ScanID: x.scan.ID})
	if err != nil {
		cfg.Logger.Error("count scan findings", "scan_id", x.scan.ID, "err", err)
	}
	// Every event of the run is stored before the terminal one Finish appends.
	if err := x.w.Close(); err != nil {
		cfg.Logger.Error("scan events", "scan_id", x.scan.ID, "err", err)
	}
	x.mu.Lock()
	stages := append([]store.StageResult{}, x.stages...)
	x.mu.Unlock()
	progress := x.prog.current()
	final, err := cfg.Scans.Finish(x.bg, x.scan.ID, x.scan.Attempt, scans.Outcome{Cancelled: cancelled, Error: out.err,
		StopReason: out.stopReason, Stages: stages, Progress: progress, FindingCounts: counts})
	if err != nil {
		return err
	}
	x.uploadArtifacts(final)
	return nil
}

// release hands the scan back when this process is shutting down mid-run:
// re-queued without counting the attempt (Requeue), so it runs again after
// the restart, or cancelled if a cancel was requested; an ECS runner task
// Releases it instead (Config.StopCountsAttempt). Findings and events so far
// stay.
func (x *run) release(cause error) error {
	if err := x.w.Close(); err != nil {
		x.r.cfg.Logger.Warn("scan events", "scan_id", x.scan.ID, "err", err)
	}
	handBack := x.r.cfg.Scans.Requeue
	if x.r.cfg.StopCountsAttempt {
		handBack = x.r.cfg.Scans.Release
	}
	if _, err := handBack(x.bg, x.scan.ID, x.scan.Attempt, "The runner shut down"); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// cleanup removes the private directory and stops the event flusher. Run
// defers it, so it also happens when an engine panics.
func (x *run) cleanup() {
	_ = x.w.Close() // finish closed it already on every other path
	if x.tmp != "" {
		if err := os.RemoveAll(x.tmp); err != nil {
			x.r.cfg.Logger.Warn("remove scan directory", "scan_id", x.scan.ID, "err", err)
		}
	}
}
