// Package scans owns the scan lifecycle (docs/scan-lifecycle.md): the state
// machine (this file), the verbs that move a scan through it together with
// their events and notifications (lifecycle.go), stale-scan recovery
// (recover.go) and the user-facing service (create, cancel, retry, list).
// Every status change in the product is made by a verb of lifecycle.go,
// through Transition; nothing else writes a scan's status.
package scans

import (
	"fmt"
	"slices"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// allowed lists, per status, the statuses a scan may move to.
//
//   - queued → claimed (Claim) or cancelled (Cancel before start).
//   - claimed → running (Start), queued (Release), failed (Release on the
//     last attempt), cancelled (Start or Release after a cancel request).
//   - running → completed, failed, cancelled (Finish), queued (Release).
//   - completed, failed and cancelled are final.
var allowed = map[store.ScanStatus][]store.ScanStatus{
	store.ScanQueued:  {store.ScanClaimed, store.ScanCancelled},
	store.ScanClaimed: {store.ScanRunning, store.ScanQueued, store.ScanFailed, store.ScanCancelled},
	store.ScanRunning: {store.ScanCompleted, store.ScanFailed, store.ScanCancelled, store.ScanQueued},
}

// CanTransition reports whether from → to is a legal move.
func CanTransition(from, to store.ScanStatus) bool {
	return slices.Contains(allowed[from], to)
}

// Transition moves s to status to and maintains the timestamps and claim
// fields that belong to each status. It returns an apperr conflict for an
// illegal move and leaves s untouched in that case.
func Transition(s *store.Scan, to store.ScanStatus, now time.Time) error {
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

// claim moves a queued scan to claimed by workerID; each claim is one attempt.
func claim(s *store.Scan, workerID string, now time.Time) error {
	if err := Transition(s, store.ScanClaimed, now); err != nil {
		return err
	}
	s.ClaimedBy = workerID
	s.Attempt++
	return nil
}

// fail moves s to failed with an error and a stop reason.
func fail(s *store.Scan, code store.ScanErrorCode, message string, stopReason store.StopReason, now time.Time) error {
	s.StopReason = stopReason
	if err := Transition(s, store.ScanFailed, now); err != nil {
		return err
	}
	s.Error = &store.ScanError{Code: code, Message: message}
	return nil
}

// handBack is the rule for a claimed/running scan whose runner let go of it
// or went away: cancelled when a cancel was requested (do not run it again),
// re-queued while attempts remain, otherwise failed with
// stop_reason=interrupted. Findings and events already written stay. It
// reports the status it moved to.
func handBack(s *store.Scan, maxAttempts int, now time.Time) (store.ScanStatus, error) {
	if !s.Status.Held() {
		return "", apperr.Conflictf("Scan %s is %s, not claimed or running", s.ID, s.Status)
	}
	if s.CancelRequestedAt != nil {
		return store.ScanCancelled, Transition(s, store.ScanCancelled, now)
	}
	if s.Attempt < maxAttempts {
		return store.ScanQueued, Transition(s, store.ScanQueued, now)
	}
	msg := fmt.Sprintf("The scan was interrupted %d time(s) and is not retried again", s.Attempt)
	return store.ScanFailed, fail(s, store.ScanErrInterrupted, msg, store.StopInterrupted, now)
}

// staleness is when a held scan counts as abandoned: its heartbeat (or,
// lacking one, its claim) is older than heartbeatBefore, or it started
// before startedBefore (VEGA_SCAN_RUNNING_STALE_SECONDS).
type staleness struct {
	heartbeatBefore time.Time
	startedBefore   time.Time
}

// stale reports whether scan is held and abandoned by the rule above. This
// is the only place the rule is written: the stores list held scans and
// recovery filters them here.
func (r staleness) stale(scan *store.Scan) bool {
	if !scan.Status.Held() {
		return false
	}
	beat := scan.HeartbeatAt
	if beat == nil {
		beat = scan.ClaimedAt
	}
	return beat == nil || beat.Before(r.heartbeatBefore) ||
		(scan.StartedAt != nil && scan.StartedAt.Before(r.startedBefore))
}
