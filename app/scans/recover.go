package scans

import (
	"context"
	"errors"
	"time"

	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/store"
)

// RecoverResult says what recovery did, by scan ID.
type RecoverResult struct {
	Requeued  []string `json:"requeued"`
	Failed    []string `json:"failed"`
	Cancelled []string `json:"cancelled"`
}

// Recover hands back claimed/running scans whose heartbeat is older than the
// TTL or that have run longer than the stale cap: re-queued while attempts
// remain, else failed with stop_reason=interrupted (SPEC §8.1).
func (s *Service) Recover(ctx context.Context, now time.Time) (RecoverResult, error) {
	hbBefore := now.Add(-s.opt.HeartbeatTTL)
	startedBefore := now.Add(-s.opt.RunningStale)
	return s.recover(ctx, now, hbBefore, startedBefore)
}

// RecoverAbandoned hands back every claimed/running scan regardless of its
// heartbeat. Only for a process that knows it is the sole runner of its store
// (bolt in thread mode) and has just started: nothing can be running then.
func (s *Service) RecoverAbandoned(ctx context.Context, now time.Time) (RecoverResult, error) {
	future := now.Add(100 * 365 * 24 * time.Hour)
	return s.recover(ctx, now, future, future)
}

func (s *Service) recover(ctx context.Context, now, hbBefore, startedBefore time.Time) (RecoverResult, error) {
	res := RecoverResult{Requeued: []string{}, Failed: []string{}, Cancelled: []string{}}
	stale, err := s.st.ListStaleScans(ctx, hbBefore, startedBefore)
	if err != nil {
		return res, err
	}
	for _, cand := range stale {
		var to string
		_, err := s.st.UpdateScan(ctx, store.System(), cand.ID, func(scan *store.Scan) error {
			to = ""
			// Re-check inside the update: the runner may have beaten or
			// finished since the list was read.
			if !isStale(scan, hbBefore, startedBefore) {
				return nil
			}
			var err error
			to, err = Release(scan, s.opt.MaxAttempts, now)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		switch to {
		case store.ScanQueued:
			res.Requeued = append(res.Requeued, cand.ID)
			s.appendEvent(ctx, cand.ID, store.EventScanLog, map[string]any{"level": "warn", "engine": "",
				"message": "The runner stopped responding; the scan was queued again"})
			s.notify(ctx, cand.ID)
		case store.ScanFailed:
			res.Failed = append(res.Failed, cand.ID)
			s.appendEvent(ctx, cand.ID, store.EventScanFailed, map[string]any{"code": "interrupted",
				"message": "The runner stopped responding and no attempts remain"})
		case store.ScanCancelled:
			res.Cancelled = append(res.Cancelled, cand.ID)
			s.appendEvent(ctx, cand.ID, store.EventScanCancelled, map[string]any{"by": "system"})
		}
		if to != "" {
			s.opt.Logger.Warn("recovered stale scan", "scan_id", cand.ID, "to", to, "attempt", cand.Attempt)
		}
	}
	return res, nil
}

func isStale(scan *store.Scan, hbBefore, startedBefore time.Time) bool {
	if scan.Status != store.ScanClaimed && scan.Status != store.ScanRunning {
		return false
	}
	beat := scan.HeartbeatAt
	if beat == nil {
		beat = scan.ClaimedAt
	}
	return beat == nil || beat.Before(hbBefore) || (scan.StartedAt != nil && scan.StartedAt.Before(startedBefore))
}

func (s *Service) appendEvent(ctx context.Context, scanID, kind string, payload map[string]any) {
	if _, err := events.Append(ctx, s.st, s.opt.Events, scanID, kind, payload); err != nil {
		s.opt.Logger.Warn("append recovery event", "scan_id", scanID, "kind", kind, "err", err)
	}
}
