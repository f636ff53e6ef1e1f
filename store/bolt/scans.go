package bolt

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// CreateScan stores sc (queued when no status is given); ErrNotFound when its
// repository does not exist.
func (s *Store) CreateScan(ctx context.Context, sc *store.Scan) error {
	_, err := s.createScan(ctx, sc, false, 0)
	return err
}

// CreateScanWithin counts and inserts in one write transaction; bolt's single
// writer (and its file lock: one process per store) makes that atomic.
func (s *Store) CreateScanWithin(ctx context.Context, sc *store.Scan, maxActive int) (int, error) {
	return s.createScan(ctx, sc, true, maxActive)
}

// createScan is CreateScan that, when limited, first counts the owner's
// active scans and refuses the scan at maxActive.
func (s *Store) createScan(ctx context.Context, sc *store.Scan, limited bool, maxActive int) (int, error) {
	store.Stamp(&sc.ID, &sc.CreatedAt, store.PrefixScan, s.nowUTC())
	if sc.Status == "" {
		sc.Status = store.ScanQueued
	}
	return valueIn(ctx, s.update, func(tx *bolt.Tx) (int, error) {
		active := 0
		if limited {
			if err := scansWithStatus(tx, store.ActiveScanStatuses, func(x *store.Scan) (bool, error) {
				if x.OwnerUserID == sc.OwnerUserID {
					active++
				}
				return false, nil
			}); err != nil {
				return 0, err
			}
			if active >= maxActive {
				return active, store.ErrLimitReached
			}
		}
		if err := parentExists(tx, repos, sc.RepositoryID); err != nil {
			return active, err
		}
		if scans.has(tx, sc.ID) {
			return active, store.ErrConflict
		}
		return active, putScan(tx, nil, sc)
	})
}

// putScan writes sc and moves its status index entry from old's (nil on create).
func putScan(tx *bolt.Tx, old, sc *store.Scan) error {
	idx := tx.Bucket(idxScanStatus)
	if old != nil && old.Status != sc.Status {
		if err := idx.Delete(compositeKey(string(old.Status), sc.ID)); err != nil {
			return err
		}
	}
	if err := idx.Put(compositeKey(string(sc.Status), sc.ID), nil); err != nil {
		return err
	}
	return scans.put(tx, sc)
}

func (s *Store) GetScan(ctx context.Context, sc store.Scope, id string) (*store.Scan, error) {
	return scans.read(ctx, s, sc, id)
}

func (s *Store) ListScans(ctx context.Context, sc store.Scope, f store.ScanFilter, p store.Page) ([]store.Scan, string, error) {
	return scans.page(ctx, s, sc, p, func(x *store.Scan) bool {
		return (f.ProjectID == "" || x.ProjectID == f.ProjectID) &&
			(f.RepositoryID == "" || x.RepositoryID == f.RepositoryID) &&
			(len(f.Statuses) == 0 || slices.Contains(f.Statuses, x.Status))
	})
}

// scansWithStatus walks the status index, oldest first, for each status in turn.
func scansWithStatus(tx *bolt.Tx, statuses []store.ScanStatus, fn func(*store.Scan) (stop bool, err error)) error {
	c := tx.Bucket(idxScanStatus).Cursor()
	for _, st := range statuses {
		prefix := compositeKey(string(st), "")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			sc, err := scans.get(tx, string(k[len(prefix):]))
			if err != nil {
				return fmt.Errorf("bolt: status index points at scan %q: %w", k[len(prefix):], err)
			}
			stop, err := fn(sc)
			if err != nil || stop {
				return err
			}
		}
	}
	return nil
}

// CountActiveScans counts the user's queued, claimed and running scans.
func (s *Store) CountActiveScans(ctx context.Context, userID string) (int, error) {
	n := 0
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return scansWithStatus(tx, store.ActiveScanStatuses, func(sc *store.Scan) (bool, error) {
			if userID != "" && sc.OwnerUserID == userID {
				n++
			}
			return false, nil
		})
	})
	return n, err
}

// UpdateScan is UpdateScanEmit without events.
func (s *Store) UpdateScan(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) error) (*store.Scan, error) {
	out, _, err := s.UpdateScanEmit(ctx, sc, id, func(x *store.Scan) ([]store.Event, error) { return nil, fn(x) })
	return out, err
}

// UpdateScanEmit runs fn, saves the scan and appends fn's events in one
// write transaction.
func (s *Store) UpdateScanEmit(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) ([]store.Event, error)) (*store.Scan, []store.Event, error) {
	var out *store.Scan
	var evs []store.Event
	now := s.nowUTC()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var pending []store.Event
		cur, err := scans.updateTx(tx, sc, id, func(x *store.Scan) (err error) {
			pending, err = fn(x)
			return err
		}, putScan)
		if err != nil {
			return err
		}
		if evs, err = appendEventsTx(tx, id, pending, now); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, evs, nil
}

// ClaimNextScan runs claim on the oldest queued scan (smallest ID: IDs are
// time-ordered like created_at). The whole read-modify-write is one bbolt
// write transaction, and bbolt has one writer at a time, so two claimers can
// never take the same scan.
func (s *Store) ClaimNextScan(ctx context.Context, claim func(*store.Scan) error) (*store.Scan, error) {
	var out *store.Scan
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var next *store.Scan
		if err := scansWithStatus(tx, []store.ScanStatus{store.ScanQueued}, func(sc *store.Scan) (bool, error) {
			next = sc
			return true, nil
		}); err != nil {
			return err
		}
		if next == nil {
			return store.ErrNotFound
		}
		old := *next
		if err := claim(next); err != nil {
			return err
		}
		scans.fixed(&old, next)
		out = next
		return putScan(tx, &old, next)
	})
	return out, err
}

// ListHeldScans returns every claimed or running scan, oldest first.
func (s *Store) ListHeldScans(ctx context.Context) ([]store.Scan, error) {
	out := []store.Scan{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return scansWithStatus(tx, store.HeldScanStatuses, func(sc *store.Scan) (bool, error) {
			out = append(out, *sc)
			return false, nil
		})
	})
	slices.SortFunc(out, func(a, b store.Scan) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}

// deleteScan removes a scan with its events, scan-finding links and runner jobs.
func deleteScan(tx *bolt.Tx, id string) error {
	sc, err := scans.get(tx, id)
	if err != nil {
		return err
	}
	if err := tx.Bucket(idxScanStatus).Delete(compositeKey(string(sc.Status), id)); err != nil {
		return err
	}
	if err := deleteSubBucket(tx.Bucket(bktEvents), []byte(id)); err != nil {
		return err
	}
	if err := deleteSubBucket(tx.Bucket(bktScanFindings), []byte(id)); err != nil {
		return err
	}
	if err := deleteJobsOfScan(tx, id); err != nil {
		return err
	}
	return scans.delete(tx, id)
}
