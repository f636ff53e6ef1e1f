package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// TestOverviewsAndScanChanges drives the rollup routes through the
// production router: a project's overview (open findings now, per
// repository, a 30-day trend rebuilt from finding history), a repository's
// overview, and each scan's changes since the previous complete scan.
func TestOverviewsAndScanChanges(t *testing.T) {
	h, tok := rootHarness(t)
	const n = 60
	fx := seedFindings(t, h, tok, n)
	ctx := context.Background()
	st := h.env.Store

	want := store.SeverityCounts{}
	for _, f := range fx.findings {
		if f.Status == store.FindingOpen || f.Status == store.FindingConfirmed {
			want.Inc(f.Severity)
		}
	}
	// x (open now) was detected five days ago; y (dismissed now) was open
	// until two days ago. Every other finding has no history: counted in its
	// current status across the window.
	var x, y *store.Finding
	for i := range fx.findings {
		f := &fx.findings[i]
		if x == nil && f.Status == store.FindingOpen {
			x = f
		}
		if y == nil && f.Status == store.FindingDismissed {
			y = f
		}
	}
	now := time.Now().UTC()
	for _, hist := range []store.FindingHistory{
		{FindingID: x.ID, ToStatus: store.FindingOpen, Actor: "system", Reason: "detected", At: now.AddDate(0, 0, -5)},
		{FindingID: y.ID, FromStatus: store.FindingOpen, ToStatus: store.FindingDismissed, Actor: "u", At: now.AddDate(0, 0, -2)},
	} {
		if err := st.AppendFindingHistory(ctx, &hist); err != nil {
			t.Fatal(err)
		}
	}

	r := h.do("GET", "/v1/projects/"+fx.project+"/overview", tok, nil)
	if r.Status != 200 {
		t.Fatalf("project overview: %d %s", r.Status, r.Body)
	}
	var po struct {
		OpenCounts store.SeverityCounts `json:"open_counts"`
		Trend      []struct {
			Date   string               `json:"date"`
			Counts store.SeverityCounts `json:"counts"`
		} `json:"trend"`
		Repositories []struct {
			ID, Name   string
			OpenCounts store.SeverityCounts         `json:"open_counts"`
			LastScan   *struct{ ID, Status string } `json:"last_scan"`
		} `json:"repositories"`
	}
	decode(t, r, &po)
	if po.OpenCounts != want {
		t.Fatalf("open counts %+v, want %+v", po.OpenCounts, want)
	}
	if len(po.Repositories) != 1 || po.Repositories[0].ID != fx.repo || po.Repositories[0].Name != "triage-repo" ||
		po.Repositories[0].OpenCounts != want || po.Repositories[0].LastScan == nil || po.Repositories[0].LastScan.ID != fx.s2.ID {
		t.Fatalf("repositories %+v", po.Repositories)
	}
	if len(po.Trend) != 30 || po.Trend[29].Date != now.Format(time.DateOnly) {
		t.Fatalf("trend: %d days, last %+v", len(po.Trend), po.Trend[len(po.Trend)-1])
	}
	total := want.Total()
	for i, d := range po.Trend {
		w := total // today and the two days before: as now
		switch {
		case i <= 23: // before x was detected, while y was open
			if x.Severity != y.Severity && d.Counts == want {
				t.Fatalf("day %d (%s): %+v still counts x and not y", i, d.Date, d.Counts)
			}
		case i <= 26: // x detected, y still open
			w = total + 1
		}
		if d.Counts.Total() != w {
			t.Fatalf("day %d (%s): %d open, want %d", i, d.Date, d.Counts.Total(), w)
		}
	}

	r = h.do("GET", "/v1/repositories/"+fx.repo+"/overview", tok, nil)
	if r.Status != 200 {
		t.Fatalf("repository overview: %d %s", r.Status, r.Body)
	}
	var ro struct {
		OpenCounts store.SeverityCounts `json:"open_counts"`
		Trend      []any                `json:"trend"`
	}
	decode(t, r, &ro)
	if ro.OpenCounts != want || len(ro.Trend) != 30 {
		t.Fatalf("repository overview %+v", ro)
	}

	// Changes per scan: s2 reported [n/3, n), s1 [0, 2n/3).
	type changes struct {
		BaseScanID            string `json:"base_scan_id"`
		New, Fixed, Unchanged int
	}
	var list struct {
		Items []struct {
			ID      string
			Changes *changes `json:"changes"`
		} `json:"items"`
	}
	r = h.do("GET", "/v1/repositories/"+fx.repo+"/scans", tok, nil)
	if r.Status != 200 {
		t.Fatalf("scan list: %d %s", r.Status, r.Body)
	}
	decode(t, r, &list)
	got := map[string]changes{}
	for _, it := range list.Items {
		if it.Changes == nil {
			t.Fatalf("scan %s has no changes: %s", it.ID, r.Body)
		}
		got[it.ID] = *it.Changes
	}
	if c := got[fx.s2.ID]; c != (changes{BaseScanID: fx.s1.ID, New: n - 2*n/3, Fixed: n / 3, Unchanged: 2*n/3 - n/3}) {
		t.Fatalf("s2 changes %+v", c)
	}
	if c := got[fx.s1.ID]; c != (changes{New: 2 * n / 3}) {
		t.Fatalf("s1 changes %+v (no previous scan: everything new)", c)
	}
	r = h.do("GET", "/v1/scans/"+fx.s2.ID, tok, nil)
	var one struct{ Changes *changes }
	decode(t, r, &one)
	if r.Status != 200 || one.Changes == nil || *one.Changes != got[fx.s2.ID] {
		t.Fatalf("GET scan changes: %d %s", r.Status, r.Body)
	}

	// Another user sees none of it.
	other := h.newUser(tok, "other-overview@example.com")
	for _, path := range []string{"/v1/projects/" + fx.project + "/overview", "/v1/repositories/" + fx.repo + "/overview", "/v1/scans/" + fx.s2.ID} {
		if r := h.do("GET", path, other, nil); r.Status != 404 || r.ErrCode(t) != "not_found" {
			t.Fatalf("GET %s by another user: %d %s", path, r.Status, r.Body)
		}
	}
}

func decode(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}
