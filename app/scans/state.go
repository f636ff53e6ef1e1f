// Package scans owns the scan lifecycle (SPEC §8.1): the state machine, the
// user-facing service (create, cancel, retry, list) and stale-scan recovery.
// Every status change in the product goes through Transition, called inside
// store.UpdateScan's fn, so the rules live in exactly one place.
package scans

import (
	"fmt"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// allowed lists, per status, the statuses a scan may move to.
//
//   - queued → claimed (a worker took it) or cancelled (cancel before start).
//   - claimed → running, queued (recovery/release), failed, cancelled.
//   - running → completed, failed, cancelled, queued (recovery/release).
//   - completed, failed and cancelled are final.
//
// ClaimNextScan performs queued → claimed inside the store for atomicity; it
// is listed here so the table documents the whole machine.
var allowed = map[string][]string{
	store.ScanQueued:  {store.ScanClaimed, store.ScanCancelled},
	store.ScanClaimed: {store.ScanRunning, store.ScanQueued, store.ScanFailed, store.ScanCancelled},
	store.ScanRunning: {store.ScanCompleted, store.ScanFailed, store.ScanCancelled, store.ScanQueued},
}

// Statuses lists every scan status.
var Statuses = []string{store.ScanQueued, store.ScanClaimed, store.ScanRunning, store.ScanCompleted, store.ScanFailed, store.ScanCancelled}

// CanTransition reports whether from → to is a legal move.
func CanTransition(from, to string) bool {
	for _, s := range allowed[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition moves s to status to and maintains the timestamps and claim
// fields that belong to each status. It returns an apperr conflict for an
// illegal move and leaves s untouched in that case.
func Transition(s *store.Scan, to string, now time.Time) error {
	if !CanTransition(s.Status, to) {
		return apperr.Conflictf("Scan %s cannot go from %s to %s", s.ID, s.Status, to).
			WithDetails(map[string]any{"status": s.Status, "requested": to})
	}
	now = now.UTC()
	switch to {
	case store.ScanClaimed:
		s.ClaimedAt = &now
		s.HeartbeatAt = &now
	case store.ScanRunning:
		s.StartedAt = &now
		s.HeartbeatAt = &now
	case store.ScanQueued:
		// Back in the queue: the claim is gone, the attempt count stays so
		// recovery can stop after VEGA_SCAN_MAX_ATTEMPTS.
		s.ClaimedBy = ""
		s.ClaimedAt = nil
		s.HeartbeatAt = nil
		s.StartedAt = nil
		s.Progress = store.ScanProgress{}
	case store.ScanCompleted, store.ScanFailed, store.ScanCancelled:
		s.FinishedAt = &now
		if to == store.ScanCancelled && s.StopReason == "" {
			s.StopReason = store.StopCancelled
		}
		if to == store.ScanFailed && s.StopReason == "" {
			s.StopReason = store.StopError
		}
	}
	s.Status = to
	return nil
}

// Fail moves s to failed with a code, a message and a stop reason.
func Fail(s *store.Scan, code, message, stopReason string, now time.Time) error {
	s.StopReason = stopReason
	if err := Transition(s, store.ScanFailed, now); err != nil {
		return err
	}
	s.Error = &store.ErrorInfo{Code: code, Message: message}
	return nil
}

// Release hands an abandoned claimed/running scan back: re-queued while
// attempts remain, otherwise failed with stop_reason=interrupted. Findings
// and events already written stay. It reports the status it moved to.
func Release(s *store.Scan, maxAttempts int, now time.Time) (string, error) {
	if s.Status != store.ScanClaimed && s.Status != store.ScanRunning {
		return "", apperr.Conflictf("Scan %s is %s, not claimed or running", s.ID, s.Status)
	}
	if s.CancelRequestedAt != nil {
		// The user asked to stop it; do not run it again.
		return store.ScanCancelled, Transition(s, store.ScanCancelled, now)
	}
	if s.Attempt < maxAttempts {
		return store.ScanQueued, Transition(s, store.ScanQueued, now)
	}
	msg := fmt.Sprintf("The scan was interrupted %d time(s) and is not retried again", s.Attempt)
	return store.ScanFailed, Fail(s, "interrupted", msg, store.StopInterrupted, now)
}
