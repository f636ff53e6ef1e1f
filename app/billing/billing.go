// Package billing reports model usage and its estimated cost per user,
// grouped by day, project or scan (GET /v1/billing/usage, the dashboard's Usage screen). The
// numbers come from the usage records the LLM proxy writes per model call.
package billing

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// Grouping keys.
const (
	GroupDay     = "day"
	GroupProject = "project"
	GroupScan    = "scan"
)

// Range limits: a default window that answers "this month", and a cap so one
// request cannot scan years of records.
const (
	DefaultWindow = 30 * 24 * time.Hour
	MaxWindow     = 366 * 24 * time.Hour
)

// Store is what the service reads; any store.Store fits.
type Store interface {
	ListUsageRecords(ctx context.Context, f store.UsageFilter) ([]store.UsageRecord, error)
	GetProject(ctx context.Context, sc store.Scope, id string) (*store.Project, error)
	GetScan(ctx context.Context, sc store.Scope, id string) (*store.Scan, error)
	GetRepository(ctx context.Context, sc store.Scope, id string) (*store.Repository, error)
}

// Row is one group: a day (YYYY-MM-DD, UTC), a project or a scan.
type Row struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	store.Usage
}

// Report is the answer of GET /v1/billing/usage.
type Report struct {
	From    time.Time   `json:"from"`
	To      time.Time   `json:"to"`
	GroupBy string      `json:"group_by"`
	Totals  store.Usage `json:"totals"`
	Rows    []Row       `json:"rows"`
}

// Service computes usage reports.
type Service struct {
	st  Store
	now func() time.Time
}

// New builds the service; now is time.Now unless a clock is given.
func New(st Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, now: now}
}

// Usage sums userID's usage in [from, to) grouped by groupBy ("" = day).
// A zero to means now; a zero from means DefaultWindow before to.
func (s *Service) Usage(ctx context.Context, userID string, from, to time.Time, groupBy string) (*Report, error) {
	if userID == "" {
		return nil, apperr.Unauthorizedf("Sign in to see usage")
	}
	if groupBy == "" {
		groupBy = GroupDay
	}
	bad := map[string]string{}
	if groupBy != GroupDay && groupBy != GroupProject && groupBy != GroupScan {
		bad["group_by"] = "must be day, project or scan"
	}
	if to.IsZero() {
		to = s.now()
	}
	if from.IsZero() {
		from = to.Add(-DefaultWindow)
	}
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		bad["from"] = "must be before to"
	} else if to.Sub(from) > MaxWindow {
		bad["from"] = "the range may span at most 366 days"
	}
	if len(bad) > 0 {
		return nil, apperr.Validation(bad)
	}
	recs, err := s.st.ListUsageRecords(ctx, store.UsageFilter{UserID: userID, From: from, To: to})
	if err != nil {
		return nil, apperr.From(err)
	}
	rep := &Report{From: from, To: to, GroupBy: groupBy, Rows: []Row{}}
	rows := map[string]*Row{}
	for _, r := range recs {
		rep.Totals.Add(r.Usage)
		key := groupKey(r, groupBy)
		row := rows[key]
		if row == nil {
			row = &Row{Key: key}
			rows[key] = row
		}
		row.Add(r.Usage)
	}
	labeler := labeler{st: s.st, scope: store.OwnedBy(userID)}
	for _, row := range rows {
		row.Label = labeler.label(ctx, groupBy, row.Key)
		rep.Rows = append(rep.Rows, *row)
	}
	sortRows(rep.Rows, groupBy)
	return rep, nil
}

func groupKey(r store.UsageRecord, groupBy string) string {
	switch groupBy {
	case GroupProject:
		return r.ProjectID
	case GroupScan:
		return r.ScanID
	}
	return r.At.UTC().Format(time.DateOnly)
}

// sortRows: days in calendar order; projects and scans by cost, most
// expensive first (what a usage table is read for), ties by key.
func sortRows(rows []Row, groupBy string) {
	sort.Slice(rows, func(i, j int) bool {
		if groupBy != GroupDay && rows[i].CostUSD != rows[j].CostUSD {
			return rows[i].CostUSD > rows[j].CostUSD
		}
		return rows[i].Key < rows[j].Key
	})
}

// labeler names projects and scans for display. Only the user's own objects
// are looked up (owner scope); a deleted one keeps its ID as label, so usage
// stays accountable after the project is gone.
type labeler struct {
	st    Store
	scope store.Scope
}

func (l labeler) label(ctx context.Context, groupBy, key string) string {
	if key == "" {
		return "(none)"
	}
	switch groupBy {
	case GroupProject:
		p, err := l.st.GetProject(ctx, l.scope, key)
		if err != nil {
			return deletedLabel(key, err)
		}
		return p.Name
	case GroupScan:
		sc, err := l.st.GetScan(ctx, l.scope, key)
		if err != nil {
			return deletedLabel(key, err)
		}
		name := sc.RepositoryID
		if repo, err := l.st.GetRepository(ctx, l.scope, sc.RepositoryID); err == nil {
			name = repo.Name
		}
		return name + " · " + sc.CreatedAt.UTC().Format("2006-01-02 15:04") + " UTC"
	}
	return key
}

func deletedLabel(key string, err error) string {
	if errors.Is(err, store.ErrNotFound) {
		return key + " (deleted)"
	}
	return key
}

// ParseTime reads a from/to query value: RFC 3339 or a date (YYYY-MM-DD,
// midnight UTC). Empty is the zero time (the default applies).
func ParseTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, apperr.Validation(map[string]string{field: "must be RFC 3339 (2026-01-31T00:00:00Z) or a date (2026-01-31)"})
}
