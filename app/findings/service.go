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
	st    store.Store
	now   func() time.Time
	files Files // reads snapshot files for Occurrences and Reveal (UseFiles)
}

// NewService returns the findings service; now nil means time.Now.
func NewService(st store.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, now: now}
}

// allPages follows list's cursors, a full page at a time, and returns every
// item (never nil): for the readers here that need a whole listing at once.
func allPages[T any](list func(store.Page) ([]T, string, error)) ([]T, error) {
	all := []T{}
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		items, next, err := list(p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		p.Cursor = next
	}
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
	if problems := t.problems(); len(problems) > 0 {
		return apperr.Validation(problems)
	}
	return nil
}

func (t Triage) problems() map[string]string {
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
	return problems
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
