package bolt

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// The bolt store runs only in thread mode (no scan queue), so these keep the
// contract for the shared suite rather than serve a dispatcher: send times
// live in their own bucket, keyed by scan ID, and are read beside the status
// index of queued scans.

// MarkScanSent records when a queued scan's message went to the scan queue.
func (s *Store) MarkScanSent(ctx context.Context, scanID string, at time.Time) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		sc, err := scans.get(tx, scanID)
		if err != nil || sc.Status != store.ScanQueued {
			return nil
		}
		v, err := at.UTC().MarshalText()
		if err != nil {
			return err
		}
		return tx.Bucket(bktScanQueueSent).Put([]byte(scanID), v)
	})
}

func sentAt(tx *bolt.Tx, scanID string) (time.Time, bool) {
	v := tx.Bucket(bktScanQueueSent).Get([]byte(scanID))
	if v == nil {
		return time.Time{}, false
	}
	var t time.Time
	if t.UnmarshalText(v) != nil {
		return time.Time{}, false
	}
	return t, true
}

// ListUnsentScans lists queued scans never sent (created before
// createdBefore) or last sent before sentBefore, oldest first.
func (s *Store) ListUnsentScans(ctx context.Context, createdBefore, sentBefore time.Time, limit int) ([]string, error) {
	var queued []store.Scan
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return scansWithStatus(tx, []store.ScanStatus{store.ScanQueued}, func(sc *store.Scan) (bool, error) {
			at, sent := sentAt(tx, sc.ID)
			if (!sent && sc.CreatedAt.Before(createdBefore)) || (sent && at.Before(sentBefore)) {
				queued = append(queued, *sc)
			}
			return false, nil
		})
	})
	if err != nil {
		return nil, err
	}
	sortScansByAge(queued)
	out := []string{}
	for i := 0; i < len(queued) && i < limit; i++ {
		out = append(out, queued[i].ID)
	}
	return out, nil
}

// QueuedScanStats counts queued scans and finds the oldest.
func (s *Store) QueuedScanStats(ctx context.Context) (int, time.Time, error) {
	n, oldest := 0, time.Time{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return scansWithStatus(tx, []store.ScanStatus{store.ScanQueued}, func(sc *store.Scan) (bool, error) {
			n++
			if oldest.IsZero() || sc.CreatedAt.Before(oldest) {
				oldest = sc.CreatedAt
			}
			return false, nil
		})
	})
	return n, oldest.UTC(), err
}

func sortScansByAge(scans []store.Scan) {
	for i := 1; i < len(scans); i++ {
		for j := i; j > 0 && (scans[j].CreatedAt.Before(scans[j-1].CreatedAt) ||
			(scans[j].CreatedAt.Equal(scans[j-1].CreatedAt) && scans[j].ID < scans[j-1].ID)); j-- {
			scans[j], scans[j-1] = scans[j-1], scans[j]
		}
	}
}
