package findings

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// Service is the user-facing side of findings: lists, triage and history.
type Service struct {
	st  store.Store
	now func() time.Time
}

// NewService returns the findings service; now nil means time.Now.
func NewService(st store.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, now: now}
}

// Query is the user's filter of a findings list (GET /v1/findings); empty fields match everything.
type Query struct {
	Severity   string `json:"severity,omitempty"` // comma list
	Status     string `json:"status,omitempty"`   // comma list
	Engine     string `json:"engine,omitempty"`   // comma list
	PathPrefix string `json:"path_prefix,omitempty"`
	CWE        string `json:"cwe,omitempty"`
	Q          string `json:"q,omitempty"`
	ScanID     string `json:"scan_id,omitempty"`
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var findingStatuses = []string{store.FindingOpen, store.FindingConfirmed, store.FindingDismissed, store.FindingFixed}

// Filter validates q into a store filter.
func (q Query) Filter() (store.FindingFilter, error) {
	problems := map[string]string{}
	f := store.FindingFilter{Severities: splitList(q.Severity), Statuses: splitList(q.Status), Engines: splitList(q.Engine),
		ScanID: strings.TrimSpace(q.ScanID), Query: strings.TrimSpace(q.Q)}
	for _, s := range f.Severities {
		if !slices.Contains(store.Severities, s) {
			problems["severity"] = "must be a comma list of critical, high, medium, low, info"
		}
	}
	for _, s := range f.Statuses {
		if !slices.Contains(findingStatuses, s) {
			problems["status"] = "must be a comma list of open, confirmed, dismissed, fixed"
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
	if len(problems) > 0 {
		return f, apperr.Validation(problems)
	}
	return f, nil
}

// ListForRepository lists the findings of a repository the scope may see.
func (s *Service) ListForRepository(ctx context.Context, sc store.Scope, repoID string, q Query, p store.Page) ([]store.Finding, string, error) {
	if _, err := s.st.GetRepository(ctx, sc, repoID); err != nil {
		return nil, "", apperr.NotFoundAs("Repository", repoID, err)
	}
	f, err := q.Filter()
	if err != nil {
		return nil, "", err
	}
	f.RepositoryID = repoID
	return s.st.ListFindings(ctx, sc, f, p)
}

// ListForProject lists the findings of every repository of a project.
func (s *Service) ListForProject(ctx context.Context, sc store.Scope, projectID string, q Query, p store.Page) ([]store.Finding, string, error) {
	if _, err := s.st.GetProject(ctx, sc, projectID); err != nil {
		return nil, "", apperr.NotFoundAs("Project", projectID, err)
	}
	f, err := q.Filter()
	if err != nil {
		return nil, "", err
	}
	f.ProjectID = projectID
	return s.st.ListFindings(ctx, sc, f, p)
}

// ListForScan lists the findings a scan reported.
func (s *Service) ListForScan(ctx context.Context, sc store.Scope, scanID string, q Query, p store.Page) ([]store.Finding, string, error) {
	if _, err := s.st.GetScan(ctx, sc, scanID); err != nil {
		return nil, "", apperr.NotFoundAs("Scan", scanID, err)
	}
	f, err := q.Filter()
	if err != nil {
		return nil, "", err
	}
	f.ScanID = scanID
	return s.st.ListFindings(ctx, sc, f, p)
}

// Get returns one finding.
func (s *Service) Get(ctx context.Context, sc store.Scope, id string) (*store.Finding, error) {
	f, err := s.st.GetFinding(ctx, sc, id)
	return f, apperr.NotFoundAs("Finding", id, err)
}

// History lists every status change of a finding, oldest first.
func (s *Service) History(ctx context.Context, sc store.Scope, id string) ([]store.FindingHistory, error) {
	if _, err := s.st.GetFinding(ctx, sc, id); err != nil {
		return nil, apperr.NotFoundAs("Finding", id, err)
	}
	return s.st.ListFindingHistory(ctx, id)
}

// Triage is a user's decision on a finding (PATCH /v1/findings/:id).
type Triage struct {
	Status          string  `json:"status"`
	DismissedReason string  `json:"dismissed_reason,omitempty"`
	Note            *string `json:"note,omitempty"`
}

var dismissReasons = []string{store.DismissFalsePositive, store.DismissWontFix, store.DismissAcceptedRisk, store.DismissUsedInTests}

func (t Triage) validate() error {
	problems := map[string]string{}
	switch t.Status {
	case store.FindingOpen, store.FindingConfirmed:
		if t.DismissedReason != "" {
			problems["dismissed_reason"] = "is only allowed with status dismissed"
		}
	case store.FindingDismissed:
		if !slices.Contains(dismissReasons, t.DismissedReason) {
			problems["dismissed_reason"] = "is required to dismiss: false_positive, wont_fix, accepted_risk or used_in_tests"
		}
	default:
		problems["status"] = "must be open, confirmed or dismissed"
	}
	if t.Note != nil && len(*t.Note) > 5000 {
		problems["note"] = "must be at most 5000 characters"
	}
	if len(problems) > 0 {
		return apperr.Validation(problems)
	}
	return nil
}

// Triage applies t to one finding and records the change in its history.
func (s *Service) Triage(ctx context.Context, sc store.Scope, actor, id string, t Triage) (*store.Finding, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	return s.triage(ctx, sc, actor, id, t)
}

func (s *Service) triage(ctx context.Context, sc store.Scope, actor, id string, t Triage) (*store.Finding, error) {
	var h store.FindingHistory
	f, err := s.st.UpdateFinding(ctx, sc, id, func(f *store.Finding) error {
		now := s.now().UTC()
		h = store.FindingHistory{ID: store.NewID(store.PrefixHistory), FindingID: f.ID, Actor: actor,
			FromStatus: f.Status, ToStatus: t.Status, Reason: t.DismissedReason, At: now}
		f.Status = t.Status
		f.DismissedReason = t.DismissedReason
		if t.Note != nil {
			f.TriageNote = strings.TrimSpace(*t.Note)
			h.Note = f.TriageNote
		}
		f.UpdatedAt = now
		return nil
	})
	if err != nil {
		return nil, apperr.NotFoundAs("Finding", id, err)
	}
	if err := s.st.AppendFindingHistory(ctx, &h); err != nil {
		return nil, err
	}
	return f, nil
}

// BulkTriage applies one decision to many findings (at most store.MaxLimit).
type BulkTriage struct {
	IDs []string `json:"ids"`
	Triage
}

// BulkResult lists what changed and which IDs were not found (or not yours).
type BulkResult struct {
	Items    []store.Finding `json:"items"`
	NotFound []string        `json:"not_found"`
}

// BulkTriage triages every listed finding the scope may see.
func (s *Service) BulkTriage(ctx context.Context, sc store.Scope, actor string, b BulkTriage) (*BulkResult, error) {
	if len(b.IDs) == 0 || len(b.IDs) > store.MaxLimit {
		return nil, apperr.Validation(map[string]string{"ids": "must list 1 to 500 finding IDs"})
	}
	if err := b.Triage.validate(); err != nil {
		return nil, err
	}
	out := &BulkResult{Items: []store.Finding{}, NotFound: []string{}}
	seen := map[string]bool{}
	for _, id := range b.IDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		f, err := s.triage(ctx, sc, actor, id, b.Triage)
		if apperr.IsCode(err, apperr.NotFound) {
			out.NotFound = append(out.NotFound, id)
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, *f)
	}
	return out, nil
}
