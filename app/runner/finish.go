package runner

import (
	"context"
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

// finish turns the outcome into the terminal status, the terminal event and
// the artifacts, and removes the private directory.
func (x *run) finish(parent context.Context, out outcome) error {
	cfg := x.r.cfg
	defer func() {
		if x.tmp != "" {
			if err := os.RemoveAll(x.tmp); err != nil {
				cfg.Logger.Warn("remove scan directory", "scan_id", x.scan.ID, "err", err)
			}
		}
	}()
	cause := context.Cause(x.ctx)
	if errors.Is(cause, errLostClaim) {
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
	status := store.ScanCompleted
	switch {
	case errors.Is(cause, errCancelRequested):
		status = store.ScanCancelled
	case out.err != nil:
		status = store.ScanFailed
	}
	if status == store.ScanCompleted && out.stopReason == "" {
		// Only a complete scan may declare absent findings fixed.
		if n, err := x.rec.MarkFixed(x.bg); err != nil {
			cfg.Logger.Error("mark fixed findings", "scan_id", x.scan.ID, "err", err)
			x.stage(store.StageResult{Engine: "runner", Stage: "mark_fixed", Status: "failed", Message: "could not update findings no longer present"})
		} else if n > 0 {
			x.w.Emit(store.EventScanLog, map[string]any{"level": "info", "engine": "", "message": plural(n, "finding was", "findings were") + " not found again and marked fixed"})
		}
	}
	counts, err := cfg.Store.CountFindings(x.bg, store.System(), store.FindingFilter{ScanID: x.scan.ID})
	if err != nil {
		cfg.Logger.Error("count scan findings", "scan_id", x.scan.ID, "err", err)
	}
	x.mu.Lock()
	stages := append([]store.StageResult{}, x.stages...)
	progress := x.progress
	x.mu.Unlock()
	final, err := cfg.Store.UpdateScan(x.bg, store.System(), x.scan.ID, func(s *store.Scan) error {
		if !x.ours(s) {
			return errLostClaim
		}
		now := cfg.Now()
		s.Stages, s.FindingCounts, s.Progress = stages, counts, progress
		switch status {
		case store.ScanCancelled:
			s.StopReason = store.StopCancelled
			return scans.Transition(s, store.ScanCancelled, now)
		case store.ScanFailed:
			return scans.Fail(s, out.err.Code, out.err.Message, store.StopError, now)
		}
		s.StopReason = out.stopReason
		s.Progress.Percent = 100
		return scans.Transition(s, store.ScanCompleted, now)
	})
	if err != nil {
		_ = x.w.Close()
		if errors.Is(err, errLostClaim) {
			return ErrLostClaim
		}
		return err
	}
	switch status {
	case store.ScanCompleted:
		payload := map[string]any{"finding_counts": counts, "duration_ms": time.Since(x.started).Milliseconds()}
		if out.stopReason != "" {
			payload["stop_reason"] = out.stopReason
		}
		x.w.Emit(store.EventScanCompleted, payload)
	case store.ScanFailed:
		x.w.Emit(store.EventScanFailed, map[string]any{"code": out.err.Code, "message": out.err.Message})
	case store.ScanCancelled:
		x.w.Emit(store.EventScanCancelled, map[string]any{"by": "user"})
	}
	if err := x.w.Close(); err != nil {
		cfg.Logger.Error("scan events", "scan_id", x.scan.ID, "err", err)
	}
	x.uploadArtifacts(final)
	return nil
}

// release hands the scan back when this process is shutting down mid-run:
// re-queued if attempts remain (another start picks it up), else failed as
// interrupted. Findings and events so far stay.
func (x *run) release(cause error) error {
	cfg := x.r.cfg
	x.w.Emit(store.EventScanLog, map[string]any{"level": "warn", "engine": "", "message": "The runner is shutting down; the scan is handed back"})
	_ = x.w.Close()
	var to string
	_, err := cfg.Store.UpdateScan(x.bg, store.System(), x.scan.ID, func(s *store.Scan) error {
		if !x.ours(s) {
			return errLostClaim
		}
		var err error
		to, err = scans.Release(s, cfg.MaxAttempts, cfg.Now())
		return err
	})
	if err != nil {
		return errors.Join(cause, err)
	}
	switch to {
	case store.ScanFailed:
		_, err = events.Append(x.bg, cfg.Store, cfg.Events, x.scan.ID, store.EventScanFailed,
			map[string]any{"code": "interrupted", "message": "The runner shut down and no attempts remain"})
	case store.ScanCancelled:
		_, err = events.Append(x.bg, cfg.Store, cfg.Events, x.scan.ID, store.EventScanCancelled, map[string]any{"by": "user"})
	}
	if err != nil {
		cfg.Logger.Warn("release event", "scan_id", x.scan.ID, "err", err)
	}
	return cause
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
