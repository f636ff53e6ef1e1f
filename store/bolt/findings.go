package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

// CreateFinding stores f. ErrConflict when the repository already has a
// finding with the same fingerprint; ErrNotFound when the repository is missing.
func (s *Store) CreateFinding(ctx context.Context, f *store.Finding) error {
	if f.ID == "" {
		f.ID = store.NewID(store.PrefixFinding)
	}
	now := s.nowUTC()
	if f.CreatedAt.IsZero() {
		f.CreatedAt = now
	}
	if f.UpdatedAt.IsZero() {
		f.UpdatedAt = f.CreatedAt
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if _, err := getRepository(tx, store.System(), f.RepositoryID); err != nil {
			return fmt.Errorf("repository %q: %w", f.RepositoryID, err)
		}
		if tx.Bucket(bktFindings).Get([]byte(f.ID)) != nil {
			return store.ErrConflict
		}
		return putFinding(tx, nil, f)
	})
}

func fingerprintKey(f *store.Finding) []byte { return compositeKey(f.RepositoryID, f.Fingerprint) }

// putFinding writes f and keeps the fingerprint index in step with old (nil on create).
func putFinding(tx *bolt.Tx, old, f *store.Finding) error {
	idx := tx.Bucket(idxFindingFP)
	if f.Fingerprint != "" {
		if owner := idx.Get(fingerprintKey(f)); owner != nil && string(owner) != f.ID {
			return store.ErrConflict
		}
	}
	if old != nil && old.Fingerprint != "" && old.Fingerprint != f.Fingerprint {
		if err := idx.Delete(fingerprintKey(old)); err != nil {
			return err
		}
	}
	if f.Fingerprint != "" {
		if err := idx.Put(fingerprintKey(f), []byte(f.ID)); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bktFindings), []byte(f.ID), findingToRecord(f))
}

func getFinding(tx *bolt.Tx, sc store.Scope, id string) (*store.Finding, error) {
	var r findingRecord
	if err := getJSON(tx.Bucket(bktFindings), []byte(id), &r); err != nil {
		return nil, err
	}
	if !sc.Allows(r.OwnerUserID) {
		return nil, store.ErrNotFound
	}
	return r.finding(), nil
}

func (s *Store) GetFinding(ctx context.Context, sc store.Scope, id string) (*store.Finding, error) {
	var out *store.Finding
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, err = getFinding(tx, sc, id)
		return err
	})
	return out, err
}

func (s *Store) GetFindingByFingerprint(ctx context.Context, repositoryID, fingerprint string) (*store.Finding, error) {
	var out *store.Finding
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if fingerprint == "" {
			return store.ErrNotFound
		}
		id, err := idLookup(tx, idxFindingFP, compositeKey(repositoryID, fingerprint))
		if err != nil {
			return err
		}
		out, err = getFinding(tx, store.System(), id)
		return err
	})
	return out, err
}

func (s *Store) UpdateFinding(ctx context.Context, sc store.Scope, id string, fn func(*store.Finding) error) (*store.Finding, error) {
	var out *store.Finding
	err := s.update(ctx, func(tx *bolt.Tx) error {
		old, err := getFinding(tx, sc, id)
		if err != nil {
			return err
		}
		f := *old
		f.CWE = append([]string(nil), old.CWE...)
		f.Locations = append([]store.Location(nil), old.Locations...)
		if err := fn(&f); err != nil {
			return err
		}
		f.ID, f.OwnerUserID, f.RepositoryID, f.ProjectID = id, old.OwnerUserID, old.RepositoryID, old.ProjectID
		out = &f
		return putFinding(tx, old, &f)
	})
	return out, err
}

// findingMatcher turns a filter into a predicate. The scan membership set is
// read from the scan's link bucket once, up front.
func findingMatcher(tx *bolt.Tx, sc store.Scope, f store.FindingFilter) func(*store.Finding) bool {
	var inScan map[string]bool
	if f.ScanID != "" {
		inScan = map[string]bool{}
		if b := tx.Bucket(bktScanFindings).Bucket([]byte(f.ScanID)); b != nil {
			_ = b.ForEach(func(_, v []byte) error { inScan[string(v)] = true; return nil })
		}
	}
	query := strings.ToLower(f.Query)
	return func(x *store.Finding) bool {
		if !sc.Allows(x.OwnerUserID) {
			return false
		}
		if (f.ProjectID != "" && x.ProjectID != f.ProjectID) ||
			(f.RepositoryID != "" && x.RepositoryID != f.RepositoryID) ||
			(inScan != nil && !inScan[x.ID]) ||
			(len(f.Severities) > 0 && !slices.Contains(f.Severities, x.Severity)) ||
			(len(f.Statuses) > 0 && !slices.Contains(f.Statuses, x.Status)) ||
			(len(f.Engines) > 0 && !slices.Contains(f.Engines, x.Engine)) ||
			(f.PathPrefix != "" && !strings.HasPrefix(x.FilePath, f.PathPrefix)) ||
			(f.CWE != "" && !slices.Contains(x.CWE, f.CWE)) {
			return false
		}
		if query != "" &&
			!strings.Contains(strings.ToLower(x.Title), query) &&
			!strings.Contains(strings.ToLower(x.Description), query) &&
			!strings.Contains(strings.ToLower(x.FilePath), query) {
			return false
		}
		return true
	}
}

func (s *Store) ListFindings(ctx context.Context, sc store.Scope, f store.FindingFilter, p store.Page) ([]store.Finding, string, error) {
	var out []store.Finding
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listDesc(tx.Bucket(bktFindings), p, decodeAs((*findingRecord).finding, findingMatcher(tx, sc, f)))
		return err
	})
	return out, next, err
}

func (s *Store) CountFindings(ctx context.Context, sc store.Scope, f store.FindingFilter) (store.SeverityCounts, error) {
	var counts store.SeverityCounts
	err := s.view(ctx, func(tx *bolt.Tx) error {
		match := findingMatcher(tx, sc, f)
		return forEachFinding(tx, func(x *store.Finding) error {
			if match(x) {
				counts.Inc(x.Severity)
			}
			return nil
		})
	})
	return counts, err
}

// PutScanFinding links a scan to a finding under key; repeating it is a no-op
// and re-pointing the key moves the link. ErrNotFound when the scan is missing.
func (s *Store) PutScanFinding(ctx context.Context, sf store.ScanFinding) error {
	if sf.Key == "" || sf.FindingID == "" {
		return fmt.Errorf("bolt: scan finding needs a key and a finding ID")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bktScans).Get([]byte(sf.ScanID)) == nil {
			return store.ErrNotFound
		}
		b, err := tx.Bucket(bktScanFindings).CreateBucketIfNotExists([]byte(sf.ScanID))
		if err != nil {
			return err
		}
		return b.Put([]byte(sf.Key), []byte(sf.FindingID))
	})
}

func (s *Store) GetScanFinding(ctx context.Context, scanID, key string) (string, error) {
	var id string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bktScanFindings).Bucket([]byte(scanID))
		if b == nil || key == "" {
			return store.ErrNotFound
		}
		v := b.Get([]byte(key))
		if v == nil {
			return store.ErrNotFound
		}
		id = string(v)
		return nil
	})
	return id, err
}

// AppendFindingHistory stores h; ErrNotFound when the finding does not exist.
func (s *Store) AppendFindingHistory(ctx context.Context, h *store.FindingHistory) error {
	if h.ID == "" {
		h.ID = store.NewID(store.PrefixHistory)
	}
	if h.At.IsZero() {
		h.At = s.nowUTC()
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bktFindings).Get([]byte(h.FindingID)) == nil {
			return store.ErrNotFound
		}
		return putJSON(tx.Bucket(bktFindingHistory), compositeKey(h.FindingID, h.ID), h)
	})
}

// ListFindingHistory returns the finding's history oldest first (by At, then ID).
func (s *Store) ListFindingHistory(ctx context.Context, findingID string) ([]store.FindingHistory, error) {
	out := []store.FindingHistory{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if findingID == "" {
			return nil
		}
		prefix := compositeKey(findingID, "")
		c := tx.Bucket(bktFindingHistory).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var h store.FindingHistory
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("bolt: decode finding history %q: %w", k, err)
			}
			out = append(out, h)
		}
		return nil
	})
	sortOldestFirst(out, func(x *store.FindingHistory) (time.Time, string) { return x.At, x.ID })
	return out, err
}

func forEachFinding(tx *bolt.Tx, fn func(*store.Finding) error) error {
	return tx.Bucket(bktFindings).ForEach(func(k, v []byte) error {
		var r findingRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("bolt: decode finding %q: %w", k, err)
		}
		return fn(r.finding())
	})
}

// deleteFinding removes a finding, its fingerprint index entry and its history.
func deleteFinding(tx *bolt.Tx, f *store.Finding) error {
	if f.Fingerprint != "" {
		if err := tx.Bucket(idxFindingFP).Delete(fingerprintKey(f)); err != nil {
			return err
		}
	}
	if err := deletePrefix(tx.Bucket(bktFindingHistory), compositeKey(f.ID, "")); err != nil {
		return err
	}
	return tx.Bucket(bktFindings).Delete([]byte(f.ID))
}
