package scans

import (
	"context"
	"errors"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/store"
)

// The lifecycle verbs. Each verb is the whole of one step of a scan's life:
// it changes the scan and appends the event the step emits in one atomic
// store update (through Transition and step), then wakes live streams and
// tells the queue when the scan became queued. (Start's scan_started follows
// its update; a crash between the two leaves a running scan that recovery
// hands back, never a second run of one attempt.) Nobody else writes a status, a
// lifecycle event or a queue notification, so what a step does is changed
// here and only here. docs/scan-lifecycle.md has the table of verbs.
//
//	verb     called by                 move                                  event
//	enqueue  Create, Retry             → queued                              — (queue notified)
//	Claim    dispatch                  queued → claimed                      —
//	ClaimScan sqs dispatch (named scan)  queued → claimed                      —
//	Unclaim  ecs runner (no task)      claimed → queued, attempt not counted scan_log
//	Watch    ecs runner                held: claimed_by handed over          —
//	Abort    ecs runner (task stopped) held → failed|cancelled               scan_failed|scan_cancelled
//	Start    runner                    claimed → running                     scan_started
//	                                   claimed → cancelled (cancel asked)    scan_cancelled
//	Finish   runner                    running → completed|failed|cancelled  scan_completed|scan_failed|scan_cancelled
//	Cancel   API                       queued → cancelled                    scan_cancelled
//	                                   claimed|running: cancel requested     — (the runner stops, then Finish)
//	Release  Recover (stale scans)     claimed|running → queued              scan_log (queue notified)
//	                                                   → failed              scan_failed (interrupted)
//	                                                   → cancelled           scan_cancelled
//	Requeue  runner (process stopping) running → queued, attempt not counted scan_log (queue notified)
//	                                           → cancelled (cancel asked)    scan_cancelled
//
// Putting a scan back in the queue is Release's step while attempts remain,
// or Requeue's when the process running it was asked to stop (SIGTERM):
// that attempt was the operator's doing, not the scan's, so it does not
// count toward VEGA_SCAN_MAX_ATTEMPTS. Neither skips a cancel request.

// ErrNotClaimed is returned by Start when the scan is not claimed: another
// runner started it, it was cancelled, or it already ran.
var ErrNotClaimed = errors.New("scans: scan is not claimed")

// ErrLostClaim is returned by the runner's verbs when the scan no longer
// belongs to the caller's attempt (recovery handed it on); the caller must
// leave the scan alone.
var ErrLostClaim = errors.New("scans: the scan is no longer held by this run")

// Holds reports whether scan still belongs to the run of attempt: running,
// and not re-claimed since. Two runners never write one scan.
func Holds(scan *store.Scan, attempt int) bool {
	return scan.Status == store.ScanRunning && scan.Attempt == attempt
}

// enqueue stores the scan queued if the owner's quota has room and tells the
// queue. The store checks the quota and inserts in one atomic step, so it
// holds across every process sharing the database, not only this one.
func (s *Service) enqueue(ctx context.Context, scan *store.Scan) (*store.Scan, error) {
	scan.ID = store.NewID(store.PrefixScan)
	scan.Status = store.ScanQueued
	scan.CreatedAt = s.opt.Now().UTC()
	scan.Stages = []store.StageResult{}
	scan.Artifacts = []store.Artifact{}
	active, err := s.st.CreateScanWithin(ctx, scan, s.opt.MaxActivePerUser)
	if errors.Is(err, store.ErrLimitReached) {
		return nil, apperr.Quota(s.opt.MaxActivePerUser, active,
			"You already have %d active scans (the limit is %d); wait for one to finish or cancel one", active, s.opt.MaxActivePerUser)
	}
	if err != nil {
		return nil, err
	}
	s.notifyQueue(ctx, scan.ID)
	return scan, nil
}

// Claim takes the oldest queued scan for workerID: claimed, attempt+1. The
// store picks the scan and makes the pick atomic (FOR UPDATE SKIP LOCKED on
// Postgres, the single writer on bbolt); what a claim writes is claim's rule.
// A claim emits no event: scan_started follows when the run begins.
// store.ErrNotFound when nothing is queued.
func (s *Service) Claim(ctx context.Context, workerID string) (*store.Scan, error) {
	now := s.opt.Now()
	return s.st.ClaimNextScan(ctx, func(scan *store.Scan) error { return claim(scan, workerID, now) })
}

// Start begins the run of a claimed scan: running, then scan_started with the
// snapshot's file count. A scan whose cancel was requested before it started
// ends cancelled instead (scan_cancelled) and is returned so; the caller runs
// the returned scan only when it is running. ErrNotClaimed when the scan is
// not claimed.
func (s *Service) Start(ctx context.Context, id string) (*store.Scan, error) {
	scan, err := s.step(ctx, store.System(), id, func(scan *store.Scan) (store.EventPayload, error) {
		if scan.Status != store.ScanClaimed {
			return nil, ErrNotClaimed
		}
		if scan.CancelRequestedAt != nil {
			return cancelled(scan), Transition(scan, store.ScanCancelled, s.opt.Now())
		}
		return nil, Transition(scan, store.ScanRunning, s.opt.Now())
	})
	if err != nil {
		return nil, err
	}
	if scan.Status == store.ScanCancelled {
		return scan, nil
	}
	started := store.ScanStartedPayload{Engines: scan.Engines, SnapshotID: scan.SnapshotID, Attempt: scan.Attempt}
	// A missing snapshot fails the run right after (snapshot_missing); the
	// attempt still started.
	if snap, err := s.st.GetSnapshot(ctx, store.System(), scan.SnapshotID); err == nil {
		started.FileCount = snap.FileCount
	}
	s.emit(ctx, scan.ID, started)
	return scan, nil
}

// Heartbeat records that the run of attempt is alive, with its latest
// progress, and reports whether a cancel was requested. ErrLostClaim when the
// scan is no longer the run's (or is gone).
func (s *Service) Heartbeat(ctx context.Context, id string, attempt int, progress store.ScanProgress) (cancelRequested bool, err error) {
	_, err = s.st.UpdateScan(ctx, store.System(), id, func(scan *store.Scan) error {
		if !Holds(scan, attempt) {
			return ErrLostClaim
		}
		now := s.opt.Now().UTC()
		scan.HeartbeatAt = &now
		scan.Progress = progress
		cancelRequested = scan.CancelRequestedAt != nil
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, ErrLostClaim
	}
	return cancelRequested, err
}

// Outcome is how a run ended, as its runner saw it.
type Outcome struct {
	// Cancelled: the run stopped on a cancel request. It wins over Error.
	Cancelled bool
	// Error: the run failed.
	Error *store.ScanError
	// StopReason of a completed run that stopped early and kept its
	// findings (budget_exceeded).
	StopReason    store.StopReason
	Stages        []store.StageResult
	Progress      store.ScanProgress
	FindingCounts store.SeverityCounts
}

// Finish ends the run of attempt: completed, failed or cancelled by out, with
// its stages, progress and counts, then the terminal event. The caller must
// have stored every other event of the run first: the terminal event is the
// last of a scan's log. ErrLostClaim when the scan is no longer the run's.
func (s *Service) Finish(ctx context.Context, id string, attempt int, out Outcome) (*store.Scan, error) {
	scan, err := s.step(ctx, store.System(), id, func(scan *store.Scan) (store.EventPayload, error) {
		if !Holds(scan, attempt) {
			return nil, ErrLostClaim
		}
		now := s.opt.Now()
		scan.Stages, scan.FindingCounts, scan.Progress = out.Stages, out.FindingCounts, out.Progress
		switch {
		case out.Cancelled:
			scan.StopReason = store.StopCancelled
			return cancelled(scan), Transition(scan, store.ScanCancelled, now)
		case out.Error != nil:
			if err := fail(scan, out.Error.Code, out.Error.Message, store.StopError, now); err != nil {
				return nil, err
			}
			return store.ScanFailedPayload{Code: scan.Error.Code, Message: scan.Error.Message}, nil
		}
		scan.StopReason = out.StopReason
		scan.Progress.Percent = 100
		if err := Transition(scan, store.ScanCompleted, now); err != nil {
			return nil, err
		}
		return store.ScanCompletedPayload{FindingCounts: scan.FindingCounts,
			DurationMS: scan.FinishedAt.Sub(*scan.StartedAt).Milliseconds(), StopReason: scan.StopReason}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLostClaim
	}
	if err != nil {
		return nil, err
	}
	return scan, nil
}

// Cancel is a user's request to stop a scan: a queued one is cancelled at
// once (scan_cancelled); a claimed or running one records who asked and when,
// and its runner stops cooperatively and ends it through Start, Finish or
// Release. Cancelling a finished scan is a conflict.
func (s *Service) Cancel(ctx context.Context, sc store.Scope, actor, id string) (*store.Scan, error) {
	scan, err := s.step(ctx, sc, id, func(scan *store.Scan) (store.EventPayload, error) {
		if scan.Terminal() {
			return nil, apperr.Conflictf("Scan %s already finished (%s)", scan.ID, scan.Status)
		}
		now := s.opt.Now().UTC()
		if scan.CancelRequestedAt == nil {
			scan.CancelRequestedAt, scan.CancelRequestedBy = &now, actor
		}
		if scan.Status == store.ScanQueued {
			return cancelled(scan), Transition(scan, store.ScanCancelled, now)
		}
		return nil, nil
	})
	if err != nil {
		return nil, apperr.NotFoundAs("Scan", id, err)
	}
	return scan, nil
}

// cancelled is the scan_cancelled payload of a scan that ends cancelled.
// Every cancellation today starts with a user's request (Cancel).
func cancelled(scan *store.Scan) store.ScanCancelledPayload {
	return store.ScanCancelledPayload{By: store.CancelledByUser, UserID: scan.CancelRequestedBy}
}

// Release hands back the scan of the run of attempt when its runner stops
// before the end (the process is shutting down): why says what happened, for
// the event. The scan goes where handBack says — queued (scan_log, queue
// notified), failed as interrupted (scan_failed) or cancelled
// (scan_cancelled) — and Release reports which. ErrLostClaim when the scan is
// no longer the run's.
func (s *Service) Release(ctx context.Context, id string, attempt int, why string) (store.ScanStatus, error) {
	return s.release(ctx, id, func(scan *store.Scan) error {
		if !Holds(scan, attempt) {
			return ErrLostClaim
		}
		return nil
	}, why)
}

// Requeue hands the scan of the run of attempt back to the queue because this
// process is shutting down (SIGTERM): queued again with the attempt not
// counted (the next claim gets the same attempt number), or cancelled when a
// cancel was requested. Findings and events so far stay. The caller's run
// has stopped, so no write of the old attempt can follow the next claim's.
// ErrLostClaim when the scan is no longer the run's.
func (s *Service) Requeue(ctx context.Context, id string, attempt int, why string) (store.ScanStatus, error) {
	status, err := s.putBack(ctx, id, func(scan *store.Scan) bool { return Holds(scan, attempt) },
		why+"; the scan was queued again (this attempt does not count)")
	if err != nil {
		return "", err
	}
	if status == store.ScanQueued {
		s.notifyQueue(ctx, id)
	}
	return status, nil
}

// putBack is Requeue and Unclaim: the scan goes back to the queue with its
// attempt not counted (note goes to its log), or ends cancelled when a cancel
// was requested. ErrLostClaim when held says the scan is no longer the
// caller's, or it is gone.
func (s *Service) putBack(ctx context.Context, id string, held func(*store.Scan) bool, note string) (store.ScanStatus, error) {
	scan, err := s.step(ctx, store.System(), id, func(scan *store.Scan) (store.EventPayload, error) {
		if !held(scan) {
			return nil, ErrLostClaim
		}
		if scan.CancelRequestedAt != nil {
			return cancelled(scan), Transition(scan, store.ScanCancelled, s.opt.Now())
		}
		if err := Transition(scan, store.ScanQueued, s.opt.Now()); err != nil {
			return nil, err
		}
		scan.Attempt--
		return store.ScanLogPayload{Level: store.LogWarn, Message: note}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrLostClaim
	}
	if err != nil {
		return "", err
	}
	return scan.Status, nil
}

// release is Release for any holder: still decides, inside the update,
// whether the scan is still the caller's to hand back.
func (s *Service) release(ctx context.Context, id string, still func(*store.Scan) error, why string) (store.ScanStatus, error) {
	scan, err := s.step(ctx, store.System(), id, func(scan *store.Scan) (store.EventPayload, error) {
		if err := still(scan); err != nil {
			return nil, err
		}
		to, err := handBack(scan, s.opt.MaxAttempts, s.opt.Now())
		switch {
		case err != nil:
			return nil, err
		case to == store.ScanQueued:
			return store.ScanLogPayload{Level: store.LogWarn, Message: why + "; the scan was queued again"}, nil
		case to == store.ScanFailed:
			return store.ScanFailedPayload{Code: store.ScanErrInterrupted, Message: why + " and no attempts remain"}, nil
		default:
			return cancelled(scan), nil
		}
	})
	if err != nil {
		return "", err
	}
	if scan.Status == store.ScanQueued {
		s.notifyQueue(ctx, id)
	}
	return scan.Status, nil
}

// step is one verb's store update: fn changes the scan (through Transition)
// and returns the payload the step emits, or nil. The scan and its event are
// stored in one transaction (store.UpdateScanEmit), so a crash between the
// two can never leave, say, a completed scan without scan_completed; live
// streams are woken and a completed or failed scan is announced (announceEnd)
// after. fn's payload is ignored when it returns an error.
func (s *Service) step(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) (store.EventPayload, error)) (*store.Scan, error) {
	var emitted store.EventPayload
	scan, evs, err := s.st.UpdateScanEmit(ctx, sc, id, func(scan *store.Scan) ([]store.Event, error) {
		p, err := fn(scan)
		if err != nil || p == nil {
			emitted = nil
			return nil, err
		}
		ev, err := events.New(scan.ID, p)
		if err != nil {
			return nil, err
		}
		emitted = p
		return []store.Event{ev}, nil
	})
	if err != nil {
		return nil, err
	}
	if len(evs) > 0 {
		if s.opt.Events != nil {
			s.opt.Events.Notify(id)
		}
		s.announceEnd(ctx, id, emitted)
	}
	return scan, nil
}

// emit appends one lifecycle event and wakes live streams. The status change
// is already stored, so a failed append is logged, not returned: the scan is
// right and only its log misses a line.
func (s *Service) emit(ctx context.Context, scanID string, p store.EventPayload) {
	if _, err := events.Append(ctx, s.st, s.opt.Events, scanID, p); err != nil {
		s.opt.Logger.Warn("append scan event", "scan_id", scanID, "kind", p.EventKind(), "err", err)
	}
	s.announceEnd(ctx, scanID, p)
}

// announceEnd tells the Ended hook about a scan whose terminal event p is
// completed or failed. Every path to those statuses (Finish, Abort,
// attempts exhausted on release or recovery) emits that event through step
// (or emit), which call this once it is stored, so the hook is called once
// per scan, whichever verb ended it.
func (s *Service) announceEnd(ctx context.Context, scanID string, p store.EventPayload) {
	if s.opt.Ended == nil {
		return
	}
	switch p.(type) {
	case store.ScanCompletedPayload, store.ScanFailedPayload:
	default:
		return
	}
	scan, err := s.st.GetScan(ctx, store.System(), scanID)
	if err != nil {
		s.opt.Logger.Warn("read ended scan for its hooks", "scan_id", scanID, "err", err)
		return
	}
	s.opt.Ended.ScanEnded(ctx, scan)
}

// notifyQueue tells the queue a scan became queued. The scan is in the store
// first, so a lost notification only delays it until the next poll.
func (s *Service) notifyQueue(ctx context.Context, scanID string) {
	if s.opt.Queue == nil {
		return
	}
	if err := s.opt.Queue.Notify(ctx, scanID); err != nil {
		s.opt.Logger.Warn("scan queue notification failed", "scan_id", scanID, "err", err)
	}
}

// ErrNotQueued is returned by ClaimScan when the scan exists but is not
// queued: another worker claimed it, it ran, or it was cancelled.
var ErrNotQueued = errors.New("scans: scan is not queued")

// ClaimScan claims one named queued scan for workerID (claimed, attempt+1),
// as Claim does for the oldest. The sqs dispatcher uses it: a queue message
// names its scan (docs/aws.md). ErrNotQueued when the scan is not queued,
// store.ErrNotFound when there is no such scan.
func (s *Service) ClaimScan(ctx context.Context, id, workerID string) (*store.Scan, error) {
	now := s.opt.Now()
	return s.st.UpdateScan(ctx, store.System(), id, func(scan *store.Scan) error {
		if scan.Status != store.ScanQueued {
			return ErrNotQueued
		}
		return claim(scan, workerID, now)
	})
}

// Unclaim puts a claimed scan of attempt back in the queue without counting
// the attempt, because its run never began: the runner task could not be
// launched (no capacity, throttling). why goes to the scan's log. The caller
// tells the queue when to try again; a cancel requested meanwhile ends the
// scan cancelled instead. ErrLostClaim when the scan is no longer claimed by
// that attempt.
func (s *Service) Unclaim(ctx context.Context, id string, attempt int, why string) (store.ScanStatus, error) {
	return s.putBack(ctx, id, func(scan *store.Scan) bool {
		return scan.Status == store.ScanClaimed && scan.Attempt == attempt
	}, why+"; the scan stays queued and is tried again")
}

// Abort ends the claimed or running scan of attempt whose runner went away
// without finishing it (its ECS task stopped): cancelled when a cancel was
// requested (the task was stopped for it), otherwise failed with code and
// message. ErrLostClaim when the scan is no longer that attempt's (the
// runner finished it, or recovery handed it on).
func (s *Service) Abort(ctx context.Context, id string, attempt int, code store.ScanErrorCode, message string) (*store.Scan, error) {
	scan, err := s.step(ctx, store.System(), id, func(scan *store.Scan) (store.EventPayload, error) {
		if !scan.Status.Held() || scan.Attempt != attempt {
			return nil, ErrLostClaim
		}
		if scan.CancelRequestedAt != nil {
			return cancelled(scan), Transition(scan, store.ScanCancelled, s.opt.Now())
		}
		if err := fail(scan, code, message, store.StopError, s.opt.Now()); err != nil {
			return nil, err
		}
		return store.ScanFailedPayload{Code: scan.Error.Code, Message: scan.Error.Message}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLostClaim
	}
	if err != nil {
		return nil, err
	}
	return scan, nil
}

// Watch records that worker `to` watches the runner task of the held scan
// of attempt, if the scan's claimed_by is still `from`: it becomes the
// scan's claimed_by (a worker that restarted takes over, once, the tasks of
// one that died; two survivors never both take one), and a scan still claimed — its task is
// starting, so no runner heartbeats yet — gets a fresh heartbeat, so
// recovery does not hand back a scan whose task is only slow to start.
// It returns the scan as stored (with its cancel request, if any).
// ErrLostClaim when the scan is no longer held by that attempt.
func (s *Service) Watch(ctx context.Context, id string, attempt int, from, to string) (*store.Scan, error) {
	scan, err := s.st.UpdateScan(ctx, store.System(), id, func(scan *store.Scan) error {
		if !scan.Status.Held() || scan.Attempt != attempt || scan.ClaimedBy != from {
			return ErrLostClaim
		}
		scan.ClaimedBy = to
		if scan.Status == store.ScanClaimed {
			now := s.opt.Now().UTC()
			scan.HeartbeatAt = &now
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLostClaim
	}
	return scan, err
}
