package findings

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// Actor of changes Vega makes on its own (new, reappeared, fixed).
const ActorSystem = "system"

// Recorder turns the reports of one scan into findings. Reports are
// serialised so two reports of one key never race into two findings.
type Recorder struct {
	st        store.Store
	scan      store.Scan
	now       func() time.Time
	threshold int // lowest severity rank reported; -1 = everything

	mu sync.Mutex

	honorOnce sync.Once
	honor     bool // the project honours in-source suppressions (suppress.go)
}

// NewRecorder prepares recording for scan. The threat profile copied onto the
// scan decides the severity threshold.
func NewRecorder(st store.Store, scan *store.Scan, now func() time.Time) *Recorder {
	if now == nil {
		now = time.Now
	}
	th := -1
	if scan.ThreatProfile != nil && scan.ThreatProfile.SeverityThreshold != "" {
		th = store.SeverityRank(scan.ThreatProfile.SeverityThreshold)
	}
	return &Recorder{st: st, scan: *scan, now: now, threshold: th}
}

// Record upserts one report. It returns the stored finding, or nil when the
// report is below the profile's severity threshold.
func (r *Recorder) Record(ctx context.Context, engineName string, rep engine.Report) (*store.Finding, error) {
	rep = sanitize(rep)
	if r.threshold >= 0 && store.SeverityRank(rep.Severity) < r.threshold {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	key := scanKey(engineName, rep)
	id, err := r.st.GetScanFinding(ctx, r.scan.ID, key)
	switch {
	case err == nil:
		// A later report of the same finding in this scan refines it.
		var hist *store.FindingHistory
		f, err := r.st.UpdateFinding(ctx, store.System(), id, func(f *store.Finding) error {
			r.apply(f, rep)
			hist = r.suppress(ctx, f, rep)
			return nil
		})
		if err == nil {
			if err := r.appendHistory(ctx, hist); err != nil {
				return nil, err
			}
			return f, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		// The finding vanished (repository deleted meanwhile): fall through.
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	f, err := r.link(ctx, engineName, rep)
	if err != nil {
		return nil, err
	}
	if err := r.st.PutScanFinding(ctx, store.ScanFinding{ScanID: r.scan.ID, Key: key, FindingID: f.ID}); err != nil {
		return nil, err
	}
	return f, nil
}

// link attaches a report new to this scan to the repository's finding with
// the same fingerprint, or creates one.
func (r *Recorder) link(ctx context.Context, engineName string, rep engine.Report) (*store.Finding, error) {
	fp := Fingerprint(engineName, rep)
	for attempt := 0; attempt < 3; attempt++ {
		existing, err := r.st.GetFindingByFingerprint(ctx, r.scan.RepositoryID, fp)
		if old, ok := formerFingerprint(engineName, rep); ok && errors.Is(err, store.ErrNotFound) {
			// Stored before fingerprints v2, or before Codex titles lost
			// their path: found by the old fingerprint, and re-keyed below
			// so it keeps its triage (docs/findings.md).
			existing, err = r.st.GetFindingByFingerprint(ctx, r.scan.RepositoryID, old)
		}
		if err == nil {
			var hist *store.FindingHistory
			f, err := r.st.UpdateFinding(ctx, store.System(), existing.ID, func(f *store.Finding) error {
				hist = nil
				f.Fingerprint = fp
				r.apply(f, rep)
				if hist = r.suppress(ctx, f, rep); hist != nil {
					return nil
				}
				if f.Status == store.FindingFixed {
					// It came back. A dismissal is a human decision and stands;
					// a fix that did not hold reopens.
					hist = r.history(f, store.FindingOpen, "reappeared")
					f.Status = store.FindingOpen
				}
				return nil
			})
			if errors.Is(err, store.ErrConflict) {
				continue // another finding took fp meanwhile: link to that one
			}
			if err != nil {
				return nil, err
			}
			if err := r.appendHistory(ctx, hist); err != nil {
				return nil, err
			}
			return f, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		now := r.now().UTC()
		f := &store.Finding{
			ID: store.NewID(store.PrefixFinding), RepositoryID: r.scan.RepositoryID, ProjectID: r.scan.ProjectID,
			OwnerUserID: r.scan.OwnerUserID, Fingerprint: fp, Engine: engineName, Status: store.FindingOpen,
			FirstSeenScanID: r.scan.ID, CreatedAt: now,
		}
		r.apply(f, rep)
		suppressed := r.suppress(ctx, f, rep)
		err = r.st.CreateFinding(ctx, f)
		if errors.Is(err, store.ErrConflict) {
			continue // another scan of this repository created it first: link to it
		}
		if err != nil {
			return nil, err
		}
		h := r.history(f, store.FindingOpen, "detected")
		h.FromStatus = ""
		if err := r.st.AppendFindingHistory(ctx, h); err != nil {
			return nil, err
		}
		if suppressed != nil {
			// After "detected", in time and in ID order.
			suppressed.ID, suppressed.At = store.NewID(store.PrefixHistory), r.now().UTC()
			if err := r.st.AppendFindingHistory(ctx, suppressed); err != nil {
				return nil, err
			}
		}
		return f, nil
	}
	return nil, fmt.Errorf("findings: fingerprint %s kept conflicting", fp)
}

// appendHistory records h, the status change an update decided on; nil when
// the update changed no status.
func (r *Recorder) appendHistory(ctx context.Context, h *store.FindingHistory) error {
	if h == nil {
		return nil
	}
	return r.st.AppendFindingHistory(ctx, h)
}

// apply copies what the engine says onto the finding; triage fields stay.
func (r *Recorder) apply(f *store.Finding, rep engine.Report) {
	f.ScanID = r.scan.ID
	f.LastSeenScanID = r.scan.ID
	f.Title = rep.Title
	f.Severity = rep.Severity
	f.Confidence = rep.Confidence
	f.Category = rep.Category
	// The secrets engine reports its gitleaks rule as category, Codex its
	// category: either is the finding's rule (docs/findings.md).
	f.RuleID = rep.Category
	f.CWE = rep.CWE
	f.FilePath = rep.FilePath
	f.StartLine, f.EndLine = rep.StartLine, rep.EndLine
	f.Description = rep.Description
	f.Evidence = rep.Evidence
	f.Recommendation = rep.Recommendation
	f.Locations = rep.Locations
	f.UpdatedAt = r.now().UTC()
}

func (r *Recorder) history(f *store.Finding, to, reason string) *store.FindingHistory {
	return &store.FindingHistory{ID: store.NewID(store.PrefixHistory), FindingID: f.ID, Actor: ActorSystem,
		FromStatus: f.Status, ToStatus: to, Reason: reason, Note: "scan " + r.scan.ID, At: r.now().UTC()}
}

// MarkFixed runs after a complete scan: open or confirmed findings of the
// same repository, produced by the scan's engines, inside its scope, and last
// seen by an older scan were not found again, so they become fixed (by
// system). Findings a newer scan saw are left alone. It returns how many
// changed.
func (r *Recorder) MarkFixed(ctx context.Context) (int, error) {
	if len(r.scan.Engines) == 0 {
		return 0, nil
	}
	filter := store.FindingFilter{RepositoryID: r.scan.RepositoryID, Engines: r.scan.Engines,
		Statuses: []string{store.FindingOpen, store.FindingConfirmed}}
	var stale []string
	page := store.Page{Limit: store.MaxLimit}
	older := map[string]bool{} // last-seen scan ID → created no later than this scan
	for {
		items, next, err := r.st.ListFindings(ctx, store.System(), filter, page)
		if err != nil {
			return 0, err
		}
		for _, f := range items {
			if f.LastSeenScanID == r.scan.ID || !InScope(f.FilePath, r.scan.Paths) {
				continue
			}
			o, ok := older[f.LastSeenScanID]
			if !ok {
				o = r.olderScan(ctx, f.LastSeenScanID)
				older[f.LastSeenScanID] = o
			}
			if o {
				stale = append(stale, f.ID)
			}
		}
		if next == "" {
			break
		}
		page.Cursor = next
	}
	changed := 0
	for _, id := range stale {
		var hist *store.FindingHistory
		_, err := r.st.UpdateFinding(ctx, store.System(), id, func(f *store.Finding) error {
			hist = nil
			if !older[f.LastSeenScanID] || f.LastSeenScanID == r.scan.ID || (f.Status != store.FindingOpen && f.Status != store.FindingConfirmed) {
				return nil // changed meanwhile
			}
			hist = r.history(f, store.FindingFixed, "not_seen")
			f.Status = store.FindingFixed
			f.UpdatedAt = r.now().UTC()
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return changed, err
		}
		if hist != nil {
			if err := r.st.AppendFindingHistory(ctx, hist); err != nil {
				return changed, err
			}
			changed++
		}
	}
	return changed, nil
}

// olderScan reports whether scan id was created no later than this scan (a
// deleted scan counts as older). IDs are time-ordered only to the
// millisecond, so creation times decide.
func (r *Recorder) olderScan(ctx context.Context, id string) bool {
	other, err := r.st.GetScan(ctx, store.System(), id)
	if err != nil {
		return errors.Is(err, store.ErrNotFound)
	}
	return !other.CreatedAt.After(r.scan.CreatedAt)
}
