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
	store.Stamp(&sc.ID, &sc.CreatedAt, store.PrefixScan, s.nowUTC())
	if sc.Status == "" {
		sc.Status = store.ScanQueued
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getRepository(tx, store.System(), sc.RepositoryID); err != nil {
			return fmt.Errorf("repository %q: %w", sc.RepositoryID, err)
		}
		if tx.Bucket(bktScans).Get([]byte(sc.ID)) != nil {
			return store.ErrConflict
		}
		return putScan(tx, "", sc)
	})
}

// CreateScanWithin counts and inserts in one write transaction; bolt's single
// writer (and its file lock: one process per store) makes that atomic.
func (s *Store) CreateScanWithin(ctx context.Context, sc *store.Scan, maxActive int) (int, error) {
	store.Stamp(&sc.ID, &sc.CreatedAt, store.PrefixScan, s.nowUTC())
	if sc.Status == "" {
		sc.Status = store.ScanQueued
	}
	var active int
	err := s.update(ctx, func(tx *bolt.Tx) error {
		active = 0
		if err := scansWithStatus(tx, store.ActiveScanStatuses, func(x *store.Scan) (bool, error) {
			if x.OwnerUserID == sc.OwnerUserID {
				active++
			}
			return false, nil
		}); err != nil {
			return err
		}
		if active >= maxActive {
			return store.ErrLimitReached
		}
		if _, err := getRepository(tx, store.System(), sc.RepositoryID); err != nil {
			return fmt.Errorf("repository %q: %w", sc.RepositoryID, err)
		}
		if tx.Bucket(bktScans).Get([]byte(sc.ID)) != nil {
			return store.ErrConflict
		}
		return putScan(tx, "", sc)
	})
	return active, err
}

// putScan writes sc and moves its status index entry from oldStatus ("" on create).
func putScan(tx *bolt.Tx, oldStatus store.ScanStatus, sc *store.Scan) error {
	idx := tx.Bucket(idxScanStatus)
	if oldStatus != "" && oldStatus != sc.Status {
		if err := idx.Delete(compositeKey(string(oldStatus), sc.ID)); err != nil {
			return err
		}
	}
	if err := idx.Put(compositeKey(string(sc.Status), sc.ID), nil); err != nil {
		return err
	}
	return putJSON(tx.Bucket(bktScans), []byte(sc.ID), scanToRecord(sc))
}

func getScan(tx *bolt.Tx, sc store.Scope, id string) (*store.Scan, error) {
	var r scanRecord
	if err := getJSON(tx.Bucket(bktScans), []byte(id), &r); err != nil {
		return nil, err
	}
	if !sc.Allows(r.OwnerUserID) {
		return nil, store.ErrNotFound
	}
	return r.scan(), nil
}

func (s *Store) GetScan(ctx context.Context, sc store.Scope, id string) (*store.Scan, error) {
	var out *store.Scan
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = getScan(tx, sc, id)
		return err
	})
	return out, err
}

func (s *Store) ListScans(ctx context.Context, sc store.Scope, f store.ScanFilter, p store.Page) ([]store.Scan, string, error) {
	var out []store.Scan
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listDesc(tx.Bucket(bktScans), p, decodeAs((*scanRecord).scan, func(x *store.Scan) bool {
			return sc.Allows(x.OwnerUserID) &&
				(f.ProjectID == "" || x.ProjectID == f.ProjectID) &&
				(f.RepositoryID == "" || x.RepositoryID == f.RepositoryID) &&
				(len(f.Statuses) == 0 || slices.Contains(f.Statuses, x.Status))
		}))
		return err
	})
	return out, next, err
}

// scansWithStatus walks the status index, oldest first, for each status in turn.
func scansWithStatus(tx *bolt.Tx, statuses []store.ScanStatus, fn func(*store.Scan) (stop bool, err error)) error {
	c := tx.Bucket(idxScanStatus).Cursor()
	for _, st := range statuses {
		prefix := compositeKey(string(st), "")
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			sc, err := getScan(tx, store.System(), string(k[len(prefix):]))
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

func (s *Store) UpdateScan(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) error) (*store.Scan, error) {
	var out *store.Scan
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cur, err := getScan(tx, sc, id)
		if err != nil {
			return err
		}
		oldStatus, owner := cur.Status, cur.OwnerUserID
		if err := fn(cur); err != nil {
			return err
		}
		cur.ID, cur.OwnerUserID = id, owner
		out = cur
		return putScan(tx, oldStatus, cur)
	})
	return out, err
}

// UpdateScanEmit runs fn, saves the scan and appends fn's events in one
// write transaction.
func (s *Store) UpdateScanEmit(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) ([]store.Event, error)) (*store.Scan, []store.Event, error) {
	var out *store.Scan
	var evs []store.Event
	now := s.nowUTC()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cur, err := getScan(tx, sc, id)
		if err != nil {
			return err
		}
		oldStatus, owner := cur.Status, cur.OwnerUserID
		pending, err := fn(cur)
		if err != nil {
			return err
		}
		cur.ID, cur.OwnerUserID = id, owner
		if err := putScan(tx, oldStatus, cur); err != nil {
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
		id, owner := next.ID, next.OwnerUserID
		if err := claim(next); err != nil {
			return err
		}
		next.ID, next.OwnerUserID = id, owner
		out = next
		return putScan(tx, store.ScanQueued, next)
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

func forEachScan(tx *bolt.Tx, fn func(*store.Scan) error) error {
	return eachJSON(tx.Bucket(bktScans), "scan", func(r *scanRecord) error {
		return fn(r.scan())
	})
}

// deleteScan removes a scan with its events, scan-finding links and runner jobs.
func deleteScan(tx *bolt.Tx, id string) error {
	sc, err := getScan(tx, store.System(), id)
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
	return tx.Bucket(bktScans).Delete([]byte(id))
}
