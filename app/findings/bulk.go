package findings

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// MaxBulk is the most findings one bulk triage changes (README, "Findings lists").
const MaxBulk = 10_000

// BulkFilter selects findings as a list does: the list's query parameters
// plus its scope (repository_id, project_id or scan_id).
type BulkFilter struct {
	RepositoryID string `json:"repository_id,omitempty"`
	ProjectID    string `json:"project_id,omitempty"`
	Query
}

// BulkTriage applies one decision to the findings listed in IDs or matching
// Filter (exactly one of them), at most MaxBulk.
type BulkTriage struct {
	IDs    []string    `json:"ids,omitempty"`
	Filter *BulkFilter `json:"filter,omitempty"`
	Triage
}

// BulkResult says what a bulk triage did.
type BulkResult struct {
	// Matched findings were selected (by ID or filter) and visible.
	Matched int `json:"matched"`
	// Changed findings got the new status, reason or note (and a history entry).
	Changed int `json:"changed"`
	// Unchanged findings already had it.
	Unchanged int `json:"unchanged"`
	// NotFound lists requested IDs that do not exist or are not yours.
	NotFound []string `json:"not_found"`
	// Previous groups the changed findings by the triage each had before,
	// read in the transaction that changed them: what undoes this triage
	// (docs/findings.md, "Dashboard findings list").
	Previous []BulkPrevious `json:"previous"`
}

// BulkPrevious is a group of findings a bulk triage changed that had the
// same status and reason before it (and the same note, when the triage set
// one). Sent back as a bulk triage by ids, it puts them back, when
// Restorable.
type BulkPrevious struct {
	IDs             []string `json:"ids"`
	Status          string   `json:"status"`
	DismissedReason string   `json:"dismissed_reason,omitempty"`
	// Note is the note they had, only when the triage set a note (otherwise
	// their notes were left alone).
	Note *string `json:"note,omitempty"`
	// Restorable is false for a state only Vega sets (fixed, or dismissed as
	// suppressed_in_source): a triage cannot set it back.
	Restorable bool `json:"restorable"`
}

// previousKey is what a BulkPrevious group shares.
type previousKey struct{ status, reason, note string }

func (b *BulkTriage) validate() error {
	problems := map[string]string{}
	switch {
	case len(b.IDs) > 0 && b.Filter != nil:
		problems["ids"] = "send either ids or filter, not both"
	case len(b.IDs) == 0 && b.Filter == nil:
		problems["ids"] = "send ids (1 to 10000 finding IDs) or a filter"
	case len(b.IDs) > MaxBulk:
		problems["ids"] = fmt.Sprintf("must list at most %d finding IDs", MaxBulk)
	}
	for _, id := range b.IDs {
		if id == "" || len(id) > 64 {
			problems["ids"] = "must be finding IDs"
			break
		}
	}
	if b.Filter != nil {
		n := 0
		for _, v := range []string{b.Filter.RepositoryID, b.Filter.ProjectID, b.Filter.ScanID} {
			if v != "" {
				n++
			}
		}
		if n == 0 {
			problems["filter"] = "needs a scope: repository_id, project_id or scan_id"
		} else if b.Filter.ProjectID != "" && n > 1 {
			problems["filter"] = "project_id cannot be combined with repository_id or scan_id"
		}
	}
	for k, v := range b.Triage.problems() {
		problems[k] = v
	}
	if len(problems) > 0 {
		return apperr.Validation(problems)
	}
	return nil
}

// BulkTriage applies b in one store transaction: each finding whose status,
// reason or note changes gets a history entry by actor, as PATCH does;
// findings already in that state are left alone. The result groups the
// changed findings by the triage they had (Previous), read in that same
// transaction. A filter matching more than MaxBulk findings changes nothing
// and answers validation_failed.
func (s *Service) BulkTriage(ctx context.Context, sc store.Scope, actor string, b BulkTriage) (*BulkResult, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	ids := b.IDs
	if b.Filter != nil {
		t := Target{RepositoryID: b.Filter.RepositoryID, ProjectID: b.Filter.ProjectID, ScanID: b.Filter.ScanID}
		f, empty, _, err := s.resolve(ctx, sc, t, b.Filter.Query)
		if err != nil {
			return nil, err
		}
		if ids = []string{}; !empty {
			if ids, err = s.st.FindingIDs(ctx, sc, f, MaxBulk+1); err != nil {
				return nil, err
			}
		}
		if len(ids) > MaxBulk {
			return nil, apperr.Validation(map[string]string{"filter": fmt.Sprintf(
				"matches more than %d findings; narrow it (by severity, status, rule, path…) and triage in parts", MaxBulk)})
		}
	} else {
		ids = dedupe(ids)
	}
	now := s.now().UTC()
	note := ""
	if b.Note != nil {
		note = strings.TrimSpace(*b.Note)
	}
	// fn runs inside the store's transaction on each finding as that
	// transaction read (and, on Postgres, locked) it, so what it records as
	// previous is exactly what the change replaced.
	previous := map[previousKey][]string{}
	changed, missing, err := s.st.TriageFindings(ctx, sc, ids, func(f *store.Finding) *store.FindingHistory {
		if f.Status == b.Status && f.DismissedReason == b.DismissedReason && (b.Note == nil || f.TriageNote == note) {
			return nil
		}
		k := previousKey{status: f.Status, reason: f.DismissedReason}
		if b.Note != nil {
			k.note = f.TriageNote
		}
		previous[k] = append(previous[k], f.ID)
		h := &store.FindingHistory{ID: store.NewID(store.PrefixHistory), FindingID: f.ID, Actor: actor,
			FromStatus: f.Status, ToStatus: b.Status, Reason: b.DismissedReason, At: now}
		f.Status, f.DismissedReason, f.UpdatedAt = b.Status, b.DismissedReason, now
		if b.Note != nil {
			f.TriageNote, h.Note = note, note
		}
		return h
	})
	if err != nil {
		return nil, err
	}
	matched := len(ids) - len(missing)
	return &BulkResult{Matched: matched, Changed: changed, Unchanged: matched - changed, NotFound: missing,
		Previous: previousGroups(previous, b.Note != nil)}, nil
}

// previousGroups orders the groups by status (workflow order), reason and
// note, each group's IDs ascending.
func previousGroups(m map[previousKey][]string, withNote bool) []BulkPrevious {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b previousKey) int {
		return cmp.Or(cmp.Compare(store.FindingStatusRank(a.status), store.FindingStatusRank(b.status)),
			strings.Compare(a.status, b.status), strings.Compare(a.reason, b.reason), strings.Compare(a.note, b.note))
	})
	out := make([]BulkPrevious, 0, len(keys))
	for _, k := range keys {
		ids := m[k]
		slices.Sort(ids)
		g := BulkPrevious{IDs: ids, Status: k.status, DismissedReason: k.reason}
		t := Triage{Status: k.status, DismissedReason: k.reason}
		if withNote {
			note := k.note
			g.Note, t.Note = &note, &note
		}
		g.Restorable = len(t.problems()) == 0
		out = append(out, g)
	}
	return out
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
