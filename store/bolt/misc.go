package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func jobKey(scanID string, attempt int) []byte {
	return append(compositeKey(scanID, ""), uint64Key(uint64(attempt))...)
}

// CreateRunnerJob stores j; ErrConflict when the scan attempt already has a job.
func (s *Store) CreateRunnerJob(ctx context.Context, j *store.RunnerJob) error {
	if j.ID == "" {
		j.ID = store.NewID(store.PrefixJob)
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.nowUTC()
	}
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

func (s *Store) CreateUsageRecord(ctx context.Context, r *store.UsageRecord) error {
	if r.ID == "" {
		r.ID = store.NewID(store.PrefixUsage)
	}
	if r.At.IsZero() {
		r.At = s.nowUTC()
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktUsage)
		if b.Get([]byte(r.ID)) != nil {
			return store.ErrConflict
		}
		return putJSON(b, []byte(r.ID), r)
	})
}

// ListUsageRecords returns the user's records with From <= At < To, oldest
// first. A zero From or To leaves that side open.
func (s *Store) ListUsageRecords(ctx context.Context, f store.UsageFilter) ([]store.UsageRecord, error) {
	out := []store.UsageRecord{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if f.UserID == "" {
			return nil
		}
		return tx.Bucket(bktUsage).ForEach(func(k, v []byte) error {
			var r store.UsageRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("bolt: decode usage record %q: %w", k, err)
			}
			if r.UserID != f.UserID ||
				(!f.From.IsZero() && r.At.Before(f.From)) ||
				(!f.To.IsZero() && !r.At.Before(f.To)) {
				return nil
			}
			out = append(out, r)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

func (s *Store) UpsertWorker(ctx context.Context, w *store.Worker) error {
	if w.ID == "" {
		w.ID = store.NewID(store.PrefixWorker)
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bktWorkers), []byte(w.ID), w)
	})
}

// ListWorkers returns every registered worker ordered by ID.
func (s *Store) ListWorkers(ctx context.Context) ([]store.Worker, error) {
	out := []store.Worker{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bktWorkers).ForEach(func(k, v []byte) error {
			var w store.Worker
			if err := json.Unmarshal(v, &w); err != nil {
				return fmt.Errorf("bolt: decode worker %q: %w", k, err)
			}
			out = append(out, w)
			return nil
		})
	})
	return out, err
}

func (s *Store) DeleteWorker(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktWorkers)
		if id == "" || b.Get([]byte(id)) == nil {
			return store.ErrNotFound
		}
		return b.Delete([]byte(id))
	})
}

func (s *Store) CreateGitUpload(ctx context.Context, g *store.GitUpload) error {
	if g.ID == "" {
		g.ID = store.NewID(store.PrefixGitUpload)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.nowUTC()
	}
	if g.TokenHash == "" {
		return fmt.Errorf("bolt: git upload token hash is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b, idx := tx.Bucket(bktGitUploads), tx.Bucket(idxGitUploadToken)
		if b.Get([]byte(g.ID)) != nil || idx.Get([]byte(g.TokenHash)) != nil {
			return store.ErrConflict
		}
		if err := idx.Put([]byte(g.TokenHash), []byte(g.ID)); err != nil {
			return err
		}
		return putJSON(b, []byte(g.ID), gitUploadToRecord(g))
	})
}

func getGitUpload(tx *bolt.Tx, id string) (*store.GitUpload, error) {
	var r gitUploadRecord
	if err := getJSON(tx.Bucket(bktGitUploads), []byte(id), &r); err != nil {
		return nil, err
	}
	return r.gitUpload(), nil
}

func (s *Store) GetGitUpload(ctx context.Context, sc store.Scope, id string) (*store.GitUpload, error) {
	var out *store.GitUpload
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		if out, err = getGitUpload(tx, id); err != nil {
			return err
		}
		if !sc.Allows(out.UserID) {
			out = nil
			return store.ErrNotFound
		}
		return nil
	})
	return out, err
}

func (s *Store) GetGitUploadByTokenHash(ctx context.Context, hash string) (*store.GitUpload, error) {
	var out *store.GitUpload
	err := s.view(ctx, func(tx *bolt.Tx) error {
		id, err := idLookup(tx, idxGitUploadToken, []byte(hash))
		if err != nil {
			return err
		}
		out, err = getGitUpload(tx, id)
		return err
	})
	return out, err
}

func (s *Store) UpdateGitUpload(ctx context.Context, id string, fn func(*store.GitUpload) error) (*store.GitUpload, error) {
	var out *store.GitUpload
	err := s.update(ctx, func(tx *bolt.Tx) error {
		g, err := getGitUpload(tx, id)
		if err != nil {
			return err
		}
		hash, user := g.TokenHash, g.UserID
		if err := fn(g); err != nil {
			return err
		}
		// The token hash is indexed and the owner scopes reads; keep both fixed.
		g.ID, g.TokenHash, g.UserID = id, hash, user
		out = g
		return putJSON(tx.Bucket(bktGitUploads), []byte(id), gitUploadToRecord(g))
	})
	return out, err
}
