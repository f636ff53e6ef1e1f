package findings

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// Query is the user's filter of a findings list (README, "Findings lists");
// empty fields match everything. Severity, Status, Engine and Rule are comma
// lists; Sort is a key of store.FindingSortKeys, "-" first for descending.
type Query struct {
	Severity   string `json:"severity,omitempty"`
	Status     string `json:"status,omitempty"`
	Engine     string `json:"engine,omitempty"`
	Rule       string `json:"rule,omitempty"`
	PathPrefix string `json:"path_prefix,omitempty"`
	CWE        string `json:"cwe,omitempty"`
	Q          string `json:"q,omitempty"`
	ScanID     string `json:"scan_id,omitempty"`
	Sort       string `json:"sort,omitempty"`
	// Change narrows a scan's findings to those new since the previous
	// complete scan of the repository, fixed since, or unchanged.
	Change string `json:"change,omitempty"`
}

// DefaultSort is the order of a list without ?sort=: most severe first, then path.
const DefaultSort = "-severity"

// Bounds of hostile list parameters.
const (
	maxListValues = 50  // values of one comma list
	maxRuleLen    = 200 // one rule ID
)

// Changes a scan's findings can be narrowed to.
const (
	ChangeNew       = "new"
	ChangeFixed     = "fixed"
	ChangeUnchanged = "unchanged"
)

func splitList(s string, lower bool) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if lower {
			p = strings.ToLower(p)
		}
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Filter validates q into a store filter and sort.
func (q Query) Filter() (store.FindingFilter, error) {
	problems := map[string]string{}
	f := store.FindingFilter{Severities: splitList(q.Severity, true), Statuses: splitList(q.Status, true),
		Engines: splitList(q.Engine, true), Rules: splitList(q.Rule, false),
		ScanID: strings.TrimSpace(q.ScanID), Query: strings.TrimSpace(q.Q)}
	lists := map[string][]string{"severity": f.Severities, "status": f.Statuses, "engine": f.Engines, "rule": f.Rules}
	for name, vs := range lists {
		if len(vs) > maxListValues {
			problems[name] = fmt.Sprintf("must list at most %d values", maxListValues)
		}
	}
	for _, s := range f.Severities {
		if !slices.Contains(store.Severities, s) {
			problems["severity"] = "must be a comma list of critical, high, medium, low, info"
		}
	}
	for _, s := range f.Statuses {
		if !slices.Contains(store.FindingStatuses, s) {
			problems["status"] = "must be a comma list of open, confirmed, dismissed, fixed"
		}
	}
	for _, s := range f.Engines {
		if !slices.Contains(store.FindingEngines, s) {
			problems["engine"] = "must be a comma list of " + strings.Join(store.FindingEngines, ", ")
		}
	}
	for _, r := range f.Rules {
		if len(r) > maxRuleLen {
			problems["rule"] = fmt.Sprintf("must be a comma list of rule IDs of at most %d characters", maxRuleLen)
		}
	}
	if q.PathPrefix != "" {
		f.PathPrefix = NormalizePath(q.PathPrefix)
		if f.PathPrefix == "" {
			problems["path_prefix"] = "must be a path inside the repository"
		}
	}
	if q.CWE != "" {
		c := normalizeCWE([]string{q.CWE})
		if len(c) == 0 {
			problems["cwe"] = "must look like CWE-79"
		} else {
			f.CWE = c[0]
		}
	}
	if len(f.Query) > 200 {
		problems["q"] = "must be at most 200 characters"
	}
	sortBy := strings.TrimSpace(q.Sort)
	if sortBy == "" {
		sortBy = DefaultSort
	}
	srt, ok := store.ParseFindingSort(sortBy)
	if !ok {
		problems["sort"] = "must be one of " + strings.Join(store.FindingSortKeys, ", ") + ", each optionally prefixed by - for descending"
	}
	f.Sort = srt
	switch q.Change {
	case "", ChangeNew, ChangeFixed, ChangeUnchanged:
	default:
		problems["change"] = "must be new, fixed or unchanged"
	}
	if len(problems) > 0 {
		return f, apperr.Validation(problems)
	}
	return f, nil
}

// Target is the scope of a list: exactly one of its fields.
type Target struct {
	RepositoryID string `json:"repository_id,omitempty"`
	ProjectID    string `json:"project_id,omitempty"`
	ScanID       string `json:"scan_id,omitempty"`
}

// List is one page of a findings list with what its controls need.
type List struct {
	Items      []store.Finding `json:"items"`
	NextCursor *string         `json:"next_cursor"`
	// Total counts the findings matching every filter, over all pages.
	Total int `json:"total"`
	// Counts counts per status the findings matching every filter but
	// status: the numbers on the status tabs.
	Counts store.StatusCounts `json:"counts"`
	// BaseScanID is, for ?change=, the previous complete scan of the
	// repository that the scan is compared with; absent when there is none
	// (every finding of the scan is then new).
	BaseScanID string `json:"base_scan_id,omitempty"`
}

// RuleList is a findings list grouped by rule.
type RuleList struct {
	Items []store.RuleGroup `json:"items"`
	// Total counts the findings of every group.
	Total int `json:"total"`
}

// resolve checks the target is visible in sc and turns target and q into a
// store filter. empty is set when the filter can match nothing (a change
// that needs a previous scan there is none of); base is the compared scan.
func (s *Service) resolve(ctx context.Context, sc store.Scope, t Target, q Query) (f store.FindingFilter, empty bool, base string, err error) {
	f, err = q.Filter()
	if err != nil {
		return f, false, "", err
	}
	switch {
	case t.ScanID != "":
		scan, err := s.st.GetScan(ctx, sc, t.ScanID)
		if err != nil {
			return f, false, "", apperr.NotFoundAs("Scan", t.ScanID, err)
		}
		f.ScanID = scan.ID
		if t.RepositoryID != "" && t.RepositoryID != scan.RepositoryID {
			return f, true, "", nil
		}
		if q.Change != "" {
			prev, err := s.previousCompleteScan(ctx, sc, scan)
			if err != nil {
				return f, false, "", err
			}
			if prev != nil {
				base = prev.ID
			}
			switch {
			case q.Change == ChangeNew && prev != nil:
				f.NotInScanID = prev.ID
			case q.Change == ChangeFixed && prev != nil:
				f.ScanID, f.NotInScanID = prev.ID, scan.ID
			case q.Change == ChangeUnchanged && prev != nil:
				f.AlsoInScanID = prev.ID
			case q.Change != ChangeNew: // fixed or unchanged without a previous scan
				empty = true
			}
		}
		return f, empty, base, nil
	case q.Change != "":
		return f, false, "", apperr.Validation(map[string]string{"change": "applies to a scan's findings only"})
	case t.RepositoryID != "":
		if _, err := s.st.GetRepository(ctx, sc, t.RepositoryID); err != nil {
			return f, false, "", apperr.NotFoundAs("Repository", t.RepositoryID, err)
		}
		f.RepositoryID = t.RepositoryID
	case t.ProjectID != "":
		if _, err := s.st.GetProject(ctx, sc, t.ProjectID); err != nil {
			return f, false, "", apperr.NotFoundAs("Project", t.ProjectID, err)
		}
		f.ProjectID = t.ProjectID
	default:
		return f, false, "", apperr.Validation(map[string]string{"scope": "needs repository_id, project_id or scan_id"})
	}
	return f, false, "", nil
}

// previousCompleteScan is the newest completed scan of the repository
// created before scan, or nil.
func (s *Service) previousCompleteScan(ctx context.Context, sc store.Scope, scan *store.Scan) (*store.Scan, error) {
	p := store.Page{Limit: store.MaxLimit}
	for {
		scans, next, err := s.st.ListScans(ctx, sc, store.ScanFilter{RepositoryID: scan.RepositoryID,
			Statuses: []store.ScanStatus{store.ScanCompleted}}, p)
		if err != nil {
			return nil, err
		}
		for i := range scans {
			o := &scans[i]
			if o.ID != scan.ID && (o.CreatedAt.Before(scan.CreatedAt) || (o.CreatedAt.Equal(scan.CreatedAt) && o.ID < scan.ID)) {
				return o, nil
			}
		}
		if next == "" {
			return nil, nil
		}
		p.Cursor = next
	}
}

// List answers one page of the target's findings, sorted before paging,
// with the total and the per-status counts of the filter.
func (s *Service) List(ctx context.Context, sc store.Scope, t Target, q Query, p store.Page) (*List, error) {
	f, empty, base, err := s.resolve(ctx, sc, t, q)
	if err != nil {
		return nil, err
	}
	out := &List{Items: []store.Finding{}, BaseScanID: base}
	if empty {
		return out, nil
	}
	if p.Cursor != "" {
		if _, err := f.Sort.ParseCursor(p.Cursor); err != nil {
			return nil, apperr.Validation(map[string]string{"cursor": "is not a cursor of this list (sort and cursor must come from the same list)"})
		}
	}
	items, next, err := s.st.ListFindings(ctx, sc, f, p)
	if err != nil {
		return nil, err
	}
	counts, err := s.st.CountFindingsByStatus(ctx, sc, f)
	if err != nil {
		return nil, err
	}
	out.Items, out.Counts = items, counts
	if next != "" {
		out.NextCursor = &next
	}
	for _, st := range store.FindingStatuses {
		if len(f.Statuses) == 0 || slices.Contains(f.Statuses, st) {
			out.Total += counts.Get(st)
		}
	}
	return out, nil
}

// Rules groups the target's findings matching q by rule: one row per rule
// with its count and highest severity.
func (s *Service) Rules(ctx context.Context, sc store.Scope, t Target, q Query) (*RuleList, error) {
	f, empty, _, err := s.resolve(ctx, sc, t, q)
	if err != nil {
		return nil, err
	}
	out := &RuleList{Items: []store.RuleGroup{}}
	if empty {
		return out, nil
	}
	if out.Items, err = s.st.ListFindingRules(ctx, sc, f); err != nil {
		return nil, err
	}
	for _, g := range out.Items {
		out.Total += g.Count
	}
	return out, nil
}

// ListForRepository lists the findings of a repository the scope may see.
func (s *Service) ListForRepository(ctx context.Context, sc store.Scope, repoID string, q Query, p store.Page) (*List, error) {
	return s.List(ctx, sc, Target{RepositoryID: repoID}, q, p)
}

// ListForProject lists the findings of every repository of a project.
func (s *Service) ListForProject(ctx context.Context, sc store.Scope, projectID string, q Query, p store.Page) (*List, error) {
	return s.List(ctx, sc, Target{ProjectID: projectID}, q, p)
}

// ListForScan lists the findings a scan reported (or, with q.Change, its
// changes since the previous complete scan).
func (s *Service) ListForScan(ctx context.Context, sc store.Scope, scanID string, q Query, p store.Page) (*List, error) {
	return s.List(ctx, sc, Target{ScanID: scanID}, q, p)
}
