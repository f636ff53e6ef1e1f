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
		return runnerJobs.insertIndexed(tx, j, idxJobScanAttempt, jobKey(j.ScanID, j.Attempt))
	})
}

func (s *Store) GetRunnerJob(ctx context.Context, scanID string, attempt int) (*store.RunnerJob, error) {
	if attempt < 0 {
		return nil, store.ErrNotFound
	}
	return viewByIndex(ctx, s, idxJobScanAttempt, jobKey(scanID, attempt), runnerJobs.get)
}

func (s *Store) UpdateRunnerJob(ctx context.Context, id string, fn func(*store.RunnerJob) error) (*store.RunnerJob, error) {
	return runnerJobs.update(ctx, s, store.System(), id, fn, nil)
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
