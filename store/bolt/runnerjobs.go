package bolt

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func jobKey(scanID string, attempt int) []byte {
	return append(compositeKey(scanID, ""), uint64Key(uint64(attempt))...)
}

// CreateRunnerJob stores j; ErrConflict when the scan attempt already has a job.
func (s *Store) CreateRunnerJob(ctx context.Context, j *store.RunnerJob) error {
	store.Stamp(&j.ID, &j.CreatedAt, store.PrefixJob, s.nowUTC())
	if j.Attempt < 0 {
		return fmt.Errorf("bolt: negative runner job attempt")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		jobs, idx := tx.Bucket(bktJobs), tx.Bucket(idxJobScanAttempt)
		if jobs.Get([]byte(j.ID)) != nil || idx.Get(jobKey(j.ScanID, j.Attempt)) != nil {
			return store.ErrConflict
		}
		if err := idx.Put(jobKey(j.ScanID, j.Attempt), []byte(j.ID)); err != nil {
			return err
		}
		return putJSON(jobs, []byte(j.ID), j)
	})
}

func (s *Store) GetRunnerJob(ctx context.Context, scanID string, attempt int) (*store.RunnerJob, error) {
	var out store.RunnerJob
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if attempt < 0 {
			return store.ErrNotFound
		}
		id, err := idLookup(tx, idxJobScanAttempt, jobKey(scanID, attempt))
		if err != nil {
			return err
		}
		return getJSON(tx.Bucket(bktJobs), []byte(id), &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (s *Store) UpdateRunnerJob(ctx context.Context, id string, fn func(*store.RunnerJob) error) (*store.RunnerJob, error) {
	var out *store.RunnerJob
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var j store.RunnerJob
		if err := getJSON(tx.Bucket(bktJobs), []byte(id), &j); err != nil {
			return err
		}
		scanID, attempt := j.ScanID, j.Attempt
		if err := fn(&j); err != nil {
			return err
		}
		// The (scan, attempt) identity is indexed; keep it fixed.
		j.ID, j.ScanID, j.Attempt = id, scanID, attempt
		out = &j
		return putJSON(tx.Bucket(bktJobs), []byte(id), &j)
	})
	return out, err
}

func deleteJobsOfScan(tx *bolt.Tx, scanID string) error {
	idx, jobs := tx.Bucket(idxJobScanAttempt), tx.Bucket(bktJobs)
	prefix := compositeKey(scanID, "")
	c := idx.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
		if err := jobs.Delete(v); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}
