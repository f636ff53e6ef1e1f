package billing

import (
	"context"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/tempbolt"
)

func openBolt(t *testing.T) store.Store { return tempbolt.Open(t) }

func openPostgres(t *testing.T) store.Store { return pgtest.OpenStore(t) }

type world struct {
	alice, bob         string
	web, api           *store.Project
	scanWeb1, scanWeb2 *store.Scan
	scanAPI            *store.Scan
}

var day1 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

func seed(t *testing.T, st store.Store) world {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var w world
	for _, who := range []*string{&w.alice, &w.bob} {
		u := &store.User{ID: store.NewID(store.PrefixUser), Email: store.NewID("") + "@example.com", Groups: []string{store.GroupUser}, CreatedAt: day1}
		must(st.CreateUser(ctx, u))
		*who = u.ID
	}
	project := func(owner, name string) *store.Project {
		p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: owner, Name: name, CreatedAt: day1, UpdatedAt: day1}
		must(st.CreateProject(ctx, p))
		return p
	}
	scan := func(p *store.Project, repoName string) *store.Scan {
		r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: p.OwnerUserID, Name: repoName, SourceType: store.SourceArchive, IngestStatus: store.IngestReady, CreatedAt: day1, UpdatedAt: day1}
		must(st.CreateRepository(ctx, r))
		s := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: p.OwnerUserID, Status: store.ScanCompleted, CreatedAt: day1}
		must(st.CreateScan(ctx, s))
		return s
	}
	w.web, w.api = project(w.alice, "web"), project(w.alice, "api")
	w.scanWeb1, w.scanWeb2, w.scanAPI = scan(w.web, "frontend"), scan(w.web, "frontend2"), scan(w.api, "backend")
	bobScan := scan(project(w.bob, "bob's"), "bobrepo")
	rec := func(s *store.Scan, at time.Time, in, out int64, cost float64) {
		must(st.CreateUsageRecord(ctx, &store.UsageRecord{ID: store.NewID(store.PrefixUsage), ScanID: s.ID, ProjectID: s.ProjectID, UserID: s.OwnerUserID, Model: "m",
			Usage: store.Usage{Requests: 1, InputTokens: in, CachedInputTokens: in / 10, OutputTokens: out, CostUSD: cost}, At: at}))
	}
	rec(w.scanWeb1, day1, 1000, 100, 0.5)
	rec(w.scanWeb1, day1.Add(time.Hour), 2000, 200, 1.0)
	rec(w.scanWeb2, day1.Add(24*time.Hour), 500, 50, 0.25)
	rec(w.scanAPI, day1.Add(48*time.Hour), 3000, 300, 2.0)
	rec(w.scanAPI, day1.Add(40*24*time.Hour), 9999, 999, 9.0) // outside the window below
	rec(bobScan, day1, 7777, 777, 7.0)                        // another user's
	return w
}

func TestUsage(t *testing.T) {
	for name, open := range map[string]func(*testing.T) store.Store{"bolt": openBolt, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			w := seed(t, st)
			svc := New(st, nil)
			ctx := context.Background()
			from, to := day1.Add(-time.Hour), day1.Add(30*24*time.Hour)

			byDay, err := svc.Usage(ctx, w.alice, from, to, "")
			if err != nil {
				t.Fatal(err)
			}
			if tt := byDay.Totals; tt.Requests != 4 || tt.InputTokens != 6500 || tt.OutputTokens != 650 || tt.CachedInputTokens != 650 || !near(tt.CostUSD, 3.75) {
				t.Errorf("totals = %+v", tt)
			}
			if byDay.GroupBy != GroupDay || len(byDay.Rows) != 3 || byDay.Rows[0].Key != "2026-11-01" || byDay.Rows[0].Requests != 2 || byDay.Rows[2].Key != "2026-11-03" {
				t.Errorf("day rows = %+v", byDay.Rows)
			}

			byProject, err := svc.Usage(ctx, w.alice, from, to, GroupProject)
			if err != nil {
				t.Fatal(err)
			}
			if len(byProject.Rows) != 2 || byProject.Rows[0].Label != "api" || !near(byProject.Rows[0].CostUSD, 2.0) ||
				byProject.Rows[1].Label != "web" || byProject.Rows[1].Requests != 3 || !near(byProject.Rows[1].CostUSD, 1.75) {
				t.Errorf("project rows = %+v", byProject.Rows)
			}

			byScan, err := svc.Usage(ctx, w.alice, from, to, GroupScan)
			if err != nil {
				t.Fatal(err)
			}
			if len(byScan.Rows) != 3 || byScan.Rows[0].Key != w.scanAPI.ID || byScan.Rows[0].Label != "backend · 2026-11-01 10:00 UTC" {
				t.Errorf("scan rows = %+v", byScan.Rows)
			}

			// A deleted project keeps its usage, labelled by ID.
			if err := st.DeleteProject(ctx, store.OwnedBy(w.alice), w.api.ID); err != nil {
				t.Fatal(err)
			}
			byProject, _ = svc.Usage(ctx, w.alice, from, to, GroupProject)
			if len(byProject.Rows) != 2 || byProject.Rows[0].Label != w.api.ID+" (deleted)" {
				t.Errorf("after delete: %+v", byProject.Rows)
			}

			empty, err := svc.Usage(ctx, w.bob, day1.Add(24*time.Hour), to, GroupScan)
			if err != nil || empty.Totals.Requests != 0 || len(empty.Rows) != 0 || empty.Rows == nil {
				t.Errorf("empty report = %+v, %v (rows must be [] not null)", empty, err)
			}
		})
	}
}

func TestUsageValidation(t *testing.T) {
	svc := New(openBolt(t), func() time.Time { return day1 })
	ctx := context.Background()
	for name, c := range map[string]struct {
		from, to time.Time
		group    string
		field    string
	}{
		"bad group":  {group: "week", field: "group_by"},
		"reversed":   {from: day1, to: day1.Add(-time.Hour), field: "from"},
		"too long":   {from: day1.Add(-400 * 24 * time.Hour), to: day1, field: "from"},
		"zero width": {from: day1, to: day1, field: "from"},
	} {
		_, err := svc.Usage(ctx, "usr_x", c.from, c.to, c.group)
		if !apperr.IsCode(err, apperr.ValidationFailed) {
			t.Errorf("%s: err = %v", name, err)
			continue
		}
		if _, ok := apperr.From(err).Details[c.field]; !ok {
			t.Errorf("%s: details = %v, want %s", name, apperr.From(err).Details, c.field)
		}
	}
	rep, err := svc.Usage(ctx, "usr_x", time.Time{}, time.Time{}, "")
	if err != nil || !rep.To.Equal(day1) || !rep.From.Equal(day1.Add(-DefaultWindow)) {
		t.Errorf("defaults: %+v %v", rep, err)
	}
	if _, err := svc.Usage(ctx, "", time.Time{}, time.Time{}, ""); !apperr.IsCode(err, apperr.Unauthorized) {
		t.Errorf("no user: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	if tm, err := ParseTime("from", "2026-11-02"); err != nil || !tm.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date: %v %v", tm, err)
	}
	if tm, err := ParseTime("to", "2026-11-02T10:00:00+02:00"); err != nil || !tm.Equal(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("rfc3339: %v %v", tm, err)
	}
	if tm, err := ParseTime("to", ""); err != nil || !tm.IsZero() {
		t.Errorf("empty: %v %v", tm, err)
	}
	if _, err := ParseTime("from", "yesterday"); !apperr.IsCode(err, apperr.ValidationFailed) {
		t.Errorf("garbage: %v", err)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }
