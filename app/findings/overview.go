package findings

import (
	"context"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// TrendDays is how many days an overview's trend covers, today included.
const TrendDays = 30

// TrendDay is the number of open findings (open or confirmed) by severity at
// the end of one UTC day (for today: now).
type TrendDay struct {
	Date   string               `json:"date"` // YYYY-MM-DD
	Counts store.SeverityCounts `json:"counts"`
}

// RepositoryRollup is one repository's line of a project overview.
type RepositoryRollup struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// OpenCounts are its open (open or confirmed) findings now, whatever
	// its last scan did.
	OpenCounts store.SeverityCounts `json:"open_counts"`
	// LastScan is its newest scan, of any status; absent when never scanned.
	LastScan *ScanBrief `json:"last_scan"`
}

// ScanBrief names a scan in a rollup.
type ScanBrief struct {
	ID         string           `json:"id"`
	Status     store.ScanStatus `json:"status"`
	CreatedAt  time.Time        `json:"created_at"`
	FinishedAt *time.Time       `json:"finished_at"`
}

// Overview is the rollup of a project's or a repository's findings
// (docs/findings.md, "Overview and trend").
type Overview struct {
	// OpenCounts are the open (open or confirmed) findings now.
	OpenCounts store.SeverityCounts `json:"open_counts"`
	// Trend is TrendDays days of open findings, oldest first, ending today.
	Trend []TrendDay `json:"trend"`
	// Repositories is every repository of a project, in the store's order;
	// empty for a repository's overview.
	Repositories []RepositoryRollup `json:"repositories"`
}

// ScanChanges is what a scan changed since the previous complete scan of
// its repository: the counts behind GET /v1/scans/:id/findings?change=.
type ScanChanges struct {
	// BaseScanID is the scan compared with; "" when there is none, and
	// then every finding of the scan is new and none is fixed.
	BaseScanID string `json:"base_scan_id,omitempty"`
	New        int    `json:"new"`
	Fixed      int    `json:"fixed"`
	Unchanged  int    `json:"unchanged"`
}

func isOpen(status string) bool {
	return status == store.FindingOpen || status == store.FindingConfirmed
}

// OpenTrend counts, for each of the days UTC days ending with now's, the
// findings that were open or confirmed at the end of that day. A finding's
// status at a moment is its current status with the changes after that
// moment undone, newest first; undoing its creation ("" → open) means it did
// not exist yet. A finding stored before Vega kept a creation entry counts
// from the start of the window. tls must hold every change since the start
// of the first day (FindingTimelines with TrendStart).
func OpenTrend(tls []store.FindingTimeline, days int, now time.Time) []TrendDay {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := make([]TrendDay, days)
	ends := make([]time.Time, days)
	for i := range days {
		d := today.AddDate(0, 0, i-days+1)
		out[i].Date = d.Format(time.DateOnly)
		ends[i] = d.AddDate(0, 0, 1)
	}
	ends[days-1] = now
	for _, t := range tls {
		status, next := t.Status, len(t.Changes)-1
		for i := days - 1; i >= 0; i-- {
			// Undo the changes made after the end of day i.
			for next >= 0 && t.Changes[next].At.After(ends[i]) {
				status = t.Changes[next].From
				next--
			}
			if isOpen(status) {
				out[i].Counts.Inc(t.Severity)
			}
		}
	}
	return out
}

// TrendStart is the start of the first day of a trend ending at now.
func TrendStart(days int, now time.Time) time.Time {
	now = now.UTC()
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-days)
}

// ProjectOverview is a project's rollup in one call: open findings by
// severity, the trend, and each repository's open findings and last scan.
func (s *Service) ProjectOverview(ctx context.Context, sc store.Scope, projectID string) (*Overview, error) {
	if _, err := s.st.GetProject(ctx, sc, projectID); err != nil {
		return nil, apperr.NotFoundAs("Project", projectID, err)
	}
	out, byRepo, err := s.overview(ctx, sc, store.FindingFilter{ProjectID: projectID})
	if err != nil {
		return nil, err
	}
	p := store.Page{Limit: store.MaxLimit}
	for {
		repos, next, err := s.st.ListRepositories(ctx, sc, projectID, p)
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			roll := RepositoryRollup{ID: r.ID, Name: r.Name, OpenCounts: byRepo[r.ID]}
			last, _, err := s.st.ListScans(ctx, sc, store.ScanFilter{RepositoryID: r.ID}, store.Page{Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(last) > 0 {
				l := last[0]
				roll.LastScan = &ScanBrief{ID: l.ID, Status: l.Status, CreatedAt: l.CreatedAt, FinishedAt: l.FinishedAt}
			}
			out.Repositories = append(out.Repositories, roll)
		}
		if next == "" {
			return out, nil
		}
		p.Cursor = next
	}
}

// RepositoryOverview is a repository's open findings by severity and trend.
func (s *Service) RepositoryOverview(ctx context.Context, sc store.Scope, repoID string) (*Overview, error) {
	if _, err := s.st.GetRepository(ctx, sc, repoID); err != nil {
		return nil, apperr.NotFoundAs("Repository", repoID, err)
	}
	out, _, err := s.overview(ctx, sc, store.FindingFilter{RepositoryID: repoID})
	return out, err
}

func (s *Service) overview(ctx context.Context, sc store.Scope, f store.FindingFilter) (*Overview, map[string]store.SeverityCounts, error) {
	now := s.now()
	tls, err := s.st.FindingTimelines(ctx, sc, f, TrendStart(TrendDays, now))
	if err != nil {
		return nil, nil, err
	}
	out := &Overview{Trend: OpenTrend(tls, TrendDays, now), Repositories: []RepositoryRollup{}}
	byRepo := map[string]store.SeverityCounts{}
	for _, t := range tls {
		if isOpen(t.Status) {
			out.OpenCounts.Inc(t.Severity)
			c := byRepo[t.RepositoryID]
			c.Inc(t.Severity)
			byRepo[t.RepositoryID] = c
		}
	}
	return out, byRepo, nil
}

// ScanChanges counts, for each scan, what is new since the previous
// complete scan of its repository, what that scan had that this one did not
// (fixed), and what both had. The complete scans of each repository are
// listed once, however many of its scans are asked about.
func (s *Service) ScanChanges(ctx context.Context, sc store.Scope, scans []store.Scan) (map[string]ScanChanges, error) {
	out := make(map[string]ScanChanges, len(scans))
	complete := map[string][]store.Scan{} // per repository, newest first
	for i := range scans {
		scan := &scans[i]
		done, ok := complete[scan.RepositoryID]
		if !ok {
			var err error
			if done, err = s.completeScans(ctx, sc, scan.RepositoryID); err != nil {
				return nil, err
			}
			complete[scan.RepositoryID] = done
		}
		var base *store.Scan
		for j := range done {
			if o := &done[j]; o.ID != scan.ID && before(o, scan) {
				base = o
				break
			}
		}
		c, err := s.changes(ctx, sc, scan, base)
		if err != nil {
			return nil, err
		}
		out[scan.ID] = c
	}
	return out, nil
}

// before orders scans as previousCompleteScan does: by creation, then ID.
func before(a, b *store.Scan) bool {
	return a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID < b.ID)
}

func (s *Service) completeScans(ctx context.Context, sc store.Scope, repoID string) ([]store.Scan, error) {
	f := store.ScanFilter{RepositoryID: repoID, Statuses: []store.ScanStatus{store.ScanCompleted}}
	return allPages(func(p store.Page) ([]store.Scan, string, error) { return s.st.ListScans(ctx, sc, f, p) })
}

func (s *Service) changes(ctx context.Context, sc store.Scope, scan, base *store.Scan) (ScanChanges, error) {
	count := func(f store.FindingFilter) (int, error) {
		c, err := s.st.CountFindings(ctx, sc, f)
		return c.Total(), err
	}
	if base == nil {
		n, err := count(store.FindingFilter{ScanID: scan.ID})
		return ScanChanges{New: n}, err
	}
	out := ScanChanges{BaseScanID: base.ID}
	var err error
	if out.New, err = count(store.FindingFilter{ScanID: scan.ID, NotInScanID: base.ID}); err != nil {
		return out, err
	}
	if out.Fixed, err = count(store.FindingFilter{ScanID: base.ID, NotInScanID: scan.ID}); err != nil {
		return out, err
	}
	out.Unchanged, err = count(store.FindingFilter{ScanID: scan.ID, AlsoInScanID: base.ID})
	return out, err
}
