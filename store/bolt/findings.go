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
	stampCreated(&f.ID, &f.CreatedAt, &f.UpdatedAt, store.PrefixFinding, s.nowUTC())
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := parentExists(tx, repos, f.RepositoryID); err != nil {
			return err
		}
		if findings.has(tx, f.ID) {
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
	if f.Fingerprint != "" && (old == nil || old.Fingerprint != f.Fingerprint) {
		if err := idx.Put(fingerprintKey(f), []byte(f.ID)); err != nil {
			return err
		}
	}
	if err := putMeta(tx, f); err != nil {
		return err
	}
	return findings.put(tx, f)
}

func (s *Store) GetFinding(ctx context.Context, sc store.Scope, id string) (*store.Finding, error) {
	return findings.read(ctx, s, sc, id)
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
		out, err = findings.get(tx, id)
		return err
	})
	return out, err
}

func (s *Store) UpdateFinding(ctx context.Context, sc store.Scope, id string, fn func(*store.Finding) error) (*store.Finding, error) {
	return findings.update(ctx, s, sc, id, fn, putFinding)
}

func (s *Store) ListFindings(ctx context.Context, sc store.Scope, f store.FindingFilter, p store.Page) ([]store.Finding, string, error) {
	var out []store.Finding
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		out, next, err = listFindings(tx, sc, f, p)
		return err
	})
	return out, next, err
}

func (s *Store) CountFindings(ctx context.Context, sc store.Scope, f store.FindingFilter) (store.SeverityCounts, error) {
	var counts store.SeverityCounts
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return eachMeta(tx, prepareFilter(tx, sc, f), func(m *findingMeta, ok bool) {
			if ok {
				counts.Inc(string(m.severity))
			}
		})
	})
	return counts, err
}

func (s *Store) CountFindingsByStatus(ctx context.Context, sc store.Scope, f store.FindingFilter) (store.StatusCounts, error) {
	var counts store.StatusCounts
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return eachMeta(tx, prepareFilter(tx, sc, f), func(m *findingMeta, _ bool) { counts.Add(string(m.status), 1) })
	})
	return counts, err
}

func (s *Store) ListFindingRules(ctx context.Context, sc store.Scope, f store.FindingFilter) ([]store.RuleGroup, error) {
	groups := map[string]*store.RuleGroup{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return eachMeta(tx, prepareFilter(tx, sc, f), func(m *findingMeta, ok bool) {
			if !ok {
				return
			}
			g := groups[string(m.rule)]
			if g == nil {
				g = &store.RuleGroup{RuleID: string(m.rule)}
				groups[g.RuleID] = g
			}
			g.Add(string(m.severity), 1)
		})
	})
	out := make([]store.RuleGroup, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	store.SortRuleGroups(out)
	return out, err
}

func (s *Store) FindingIDs(ctx context.Context, sc store.Scope, f store.FindingFilter, limit int) ([]string, error) {
	out := []string{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return eachMeta(tx, prepareFilter(tx, sc, f), func(m *findingMeta, ok bool) {
			if ok {
				out = append(out, string(m.id))
			}
		})
	})
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(b, a) })
	if len(out) > limit {
		out = out[:max(limit, 0)]
	}
	return out, err
}

// TriageFindings applies fn to each finding in one write transaction (one
// fsync however many change). Each record is patched in place rather than
// decoded and re-encoded whole (findingpatch.go): fn sees the scalar fields
// (store.FindingStore.TriageFindings); a record that cannot be split is
// decoded in full instead.
func (s *Store) TriageFindings(ctx context.Context, sc store.Scope, ids []string, fn func(*store.Finding) *store.FindingHistory) (int, []string, error) {
	changed, missing := 0, []string{}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		changed, missing = 0, missing[:0]
		b, hist := tx.Bucket(bktFindings), tx.Bucket(bktFindingHistory)
		var members []jsonMember
		for _, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				missing = append(missing, id)
				continue
			}
			var old *store.Finding
			var err error
			if members, err = splitObject(v, members[:0]); err == nil {
				old, err = triageView(members)
			}
			whole := err != nil
			if whole {
				if old, err = findings.get(tx, id); err != nil {
					return err
				}
			}
			if !sc.Allows(old.OwnerUserID) {
				missing = append(missing, id)
				continue
			}
			f := *old
			h := fn(&f)
			if h == nil {
				continue
			}
			if err := saveTriage(tx, old, &f, members, len(v), whole); err != nil {
				return err
			}
			if h.ID == "" {
				h.ID = store.NewID(store.PrefixHistory)
			}
			h.FindingID = id
			if err := putJSON(hist, compositeKey(id, h.ID), h); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	return changed, missing, err
}

// saveTriage stores f's triage fields over old: a patch of the split record
// (and of the meta record's status when it changed), or, for a record decoded
// whole, putFinding.
func saveTriage(tx *bolt.Tx, old, f *store.Finding, members []jsonMember, size int, whole bool) error {
	if whole {
		saved := *old
		saved.Status, saved.DismissedReason, saved.TriageNote, saved.UpdatedAt = f.Status, f.DismissedReason, f.TriageNote, f.UpdatedAt
		return putFinding(tx, old, &saved)
	}
	data, err := patchTriage(members, size, f)
	if err != nil {
		return err
	}
	if f.Status != old.Status {
		meta := tx.Bucket(idxFindingMeta)
		key := metaKey(old)
		m, err := metaWithStatus(meta.Get(key), f.Status)
		if err != nil {
			return fmt.Errorf("bolt: finding %q: %w", old.ID, err)
		}
		if err := meta.Put(key, m); err != nil {
			return err
		}
	}
	return tx.Bucket(bktFindings).Put([]byte(old.ID), data)
}

// PutScanFinding links a scan to a finding under key; repeating it is a no-op
// and re-pointing the key moves the link. ErrNotFound when the scan is missing.
func (s *Store) PutScanFinding(ctx context.Context, sf store.ScanFinding) error {
	if sf.Key == "" || sf.FindingID == "" {
		return fmt.Errorf("bolt: scan finding needs a key and a finding ID")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if !scans.has(tx, sf.ScanID) {
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
		if !findings.has(tx, h.FindingID) {
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

// deleteFinding removes a finding, its fingerprint index entry and its history.
func deleteFinding(tx *bolt.Tx, f *store.Finding) error {
	if f.Fingerprint != "" {
		if err := tx.Bucket(idxFindingFP).Delete(fingerprintKey(f)); err != nil {
			return err
		}
	}
	if err := tx.Bucket(idxFindingMeta).Delete(metaKey(f)); err != nil {
		return err
	}
	if err := deletePrefix(tx.Bucket(bktFindingHistory), compositeKey(f.ID, "")); err != nil {
		return err
	}
	return findings.delete(tx, f.ID)
}

// FindingTimelines returns the findings matching f with their status changes
// at or after since, oldest first (store.FindingStore).
func (s *Store) FindingTimelines(ctx context.Context, sc store.Scope, f store.FindingFilter, since time.Time) ([]store.FindingTimeline, error) {
	out := []store.FindingTimeline{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var ids []string
		err := eachMeta(tx, prepareFilter(tx, sc, f), func(m *findingMeta, statusOK bool) {
			if statusOK {
				out = append(out, store.FindingTimeline{ID: string(m.id), RepositoryID: string(m.repo),
					Severity: string(m.severity), Status: string(m.status)})
				ids = append(ids, string(m.id))
			}
		})
		if err != nil {
			return err
		}
		c := tx.Bucket(bktFindingHistory).Cursor()
		for i, id := range ids {
			prefix := compositeKey(id, "")
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				var h historyStatus // the three fields a timeline needs, not the note
				if err := json.Unmarshal(v, &h); err != nil {
					return fmt.Errorf("bolt: decode finding history %q: %w", k, err)
				}
				if !h.At.Before(since) {
					out[i].Changes = append(out[i].Changes, store.StatusChange{From: h.From, To: h.To, At: h.At})
				}
			}
			slices.SortStableFunc(out[i].Changes, func(a, b store.StatusChange) int { return a.At.Compare(b.At) })
		}
		return nil
	})
	return out, err
}

// historyStatus is the part of a stored store.FindingHistory a timeline reads.
type historyStatus struct {
	From string    `json:"from_status"`
	To   string    `json:"to_status"`
	At   time.Time `json:"at"`
}
