package scans

import (
	"context"
	"errors"
	"time"

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
// remain, else failed with stop_reason=interrupted (docs/scan-lifecycle.md).
func (s *Service) Recover(ctx context.Context, now time.Time) (RecoverResult, error) {
	return s.recover(ctx, staleness{heartbeatBefore: now.Add(-s.opt.HeartbeatTTL), startedBefore: now.Add(-s.opt.RunningStale)})
}

// RecoverAbandoned hands back every claimed/running scan regardless of its
// heartbeat. Only for a process that knows it is the sole runner of its store
// (bolt in thread mode) and has just started: nothing can be running then.
func (s *Service) RecoverAbandoned(ctx context.Context, now time.Time) (RecoverResult, error) {
	future := now.Add(100 * 365 * 24 * time.Hour)
	return s.recover(ctx, staleness{heartbeatBefore: future, startedBefore: future})
}

// errFresh: the scan beat or finished between the list and its update.
var errFresh = errors.New("scans: scan is no longer stale")

func (s *Service) recover(ctx context.Context, rule staleness) (RecoverResult, error) {
	res := RecoverResult{Requeued: []string{}, Failed: []string{}, Cancelled: []string{}}
	held, err := s.st.ListHeldScans(ctx)
	if err != nil {
		return res, err
	}
	for _, cand := range held {
		if !rule.stale(&cand) {
			continue
		}
		to, err := s.release(ctx, cand.ID, func(scan *store.Scan) error {
			// Re-checked inside the update: the runner may have beaten or
			// finished since the list was read.
			if !rule.stale(scan) {
				return errFresh
			}
			return nil
		}, "The runner stopped responding")
		if errors.Is(err, errFresh) || errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		switch to {
		case store.ScanQueued:
			res.Requeued = append(res.Requeued, cand.ID)
		case store.ScanFailed:
			res.Failed = append(res.Failed, cand.ID)
		case store.ScanCancelled:
			res.Cancelled = append(res.Cancelled, cand.ID)
		}
		s.opt.Logger.Warn("recovered stale scan", "scan_id", cand.ID, "to", to, "attempt", cand.Attempt)
	}
	return res, nil
}
