package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// findingsFixture seeds a repository with n findings (severity, status, rule
// and path vary) and two completed scans: the first reported findings
// [0, 2n/3), the second [n/3, n). It returns the findings and the scans.
type findingsFixture struct {
	repo, project string
	owner         string
	findings      []store.Finding
	s1, s2        *store.Scan
}

func seedFindings(t *testing.T, h *harness, tok string, n int) *findingsFixture {
	t.Helper()
	ctx := context.Background()
	st := h.env.Store
	pid := h.project(tok, "triage "+time.Now().Format("150405.000000"))
	p, err := st.GetProject(ctx, store.System(), pid)
	if err != nil {
		t.Fatal(err)
	}
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: pid, OwnerUserID: p.OwnerUserID, Name: "triage-repo",
		SourceType: store.SourceGit, IngestStatus: store.IngestReady, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := st.CreateRepository(ctx, r); err != nil {
		t.Fatal(err)
	}
	fx := &findingsFixture{repo: r.ID, project: pid, owner: p.OwnerUserID}
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	for i, sp := range []**store.Scan{&fx.s1, &fx.s2} {
		at := base.Add(time.Duration(i) * time.Minute)
		// Scans list newest first by ID, a ULID: IDs made in one millisecond
		// compare by their random part, so s2 waits for the next one.
		time.Sleep(2 * time.Millisecond)
		s := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: r.ID, ProjectID: pid, OwnerUserID: p.OwnerUserID,
			Status: store.ScanCompleted, Engines: []string{"secrets"}, CreatedAt: at, FinishedAt: &at}
		if err := st.CreateScan(ctx, s); err != nil {
			t.Fatal(err)
		}
		*sp = s
	}
	rules := []string{"aws-access-token", "generic-api-key", "sql-injection", "xss", "path-traversal"}
	statuses := []string{store.FindingOpen, store.FindingOpen, store.FindingOpen, store.FindingConfirmed, store.FindingDismissed, store.FindingFixed}
	for i := 0; i < n; i++ {
		first, last := fx.s1.ID, fx.s2.ID
		if i >= 2*n/3 {
			first = fx.s2.ID
		}
		if i < n/3 {
			last = fx.s1.ID
		}
		f := store.Finding{ID: store.NewID(store.PrefixFinding), ScanID: last, RepositoryID: r.ID, ProjectID: pid, OwnerUserID: p.OwnerUserID,
			Fingerprint: fmt.Sprintf("fp-%d", i), Engine: "secrets", Title: fmt.Sprintf("Finding %d", i),
			Severity: store.Severities[(i*7)%5], Confidence: "high", Category: rules[i%5], RuleID: rules[i%5],
			FilePath: fmt.Sprintf("src/%c/file_%03d.go", 'a'+rune(i%4), (i*37)%n), StartLine: 1, EndLine: 2,
			Description: "d", Status: statuses[i%6], FirstSeenScanID: first, LastSeenScanID: last,
			CreatedAt: base, UpdatedAt: base}
		if f.Status == store.FindingDismissed {
			f.DismissedReason = store.DismissWontFix
		}
		if err := st.CreateFinding(ctx, &f); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*store.Scan{fx.s1, fx.s2} {
			if (s == fx.s1 && i < 2*n/3) || (s == fx.s2 && i >= n/3) {
				if err := st.PutScanFinding(ctx, store.ScanFinding{ScanID: s.ID, Key: f.ID, FindingID: f.ID}); err != nil {
					t.Fatal(err)
				}
			}
		}
		fx.findings = append(fx.findings, f)
	}
	return fx
}

// pages follows next_cursor from path and returns every item ID in order
// and the first page's body.
func (h *harness) pages(tok, path string) ([]string, map[string]any) {
	h.t.Helper()
	var out []string
	var first map[string]any
	cursor := ""
	for i := 0; ; i++ {
		if i > 200 {
			h.t.Fatalf("%s: paging does not end", path)
		}
		u := path
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		r := h.do("GET", u, tok, nil)
		if r.Status != 200 {
			h.t.Fatalf("GET %s: %d %s", u, r.Status, r.Body)
		}
		m := r.JSON(h.t)
		if first == nil {
			first = m
		}
		for _, it := range m["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return out, first
		}
		cursor = next
	}
}

func idsWhere(fs []store.Finding, keep func(*store.Finding) bool, srt string) []string {
	s, _ := store.ParseFindingSort(srt)
	var sel []store.Finding
	for i := range fs {
		if keep(&fs[i]) {
			sel = append(sel, fs[i])
		}
	}
	slices.SortFunc(sel, func(a, b store.Finding) int { return s.Compare(s.Position(&a), s.Position(&b)) })
	out := []string{}
	for _, f := range sel {
		out = append(out, f.ID)
	}
	return out
}

// TestFindingsListsSortCountAndPage drives the findings lists through the
// production router: server-side sort before paging for every key, total
// and per-status counts, multi-value and rule filters, group by rule, scan
// comparison, and hostile parameters answered in the envelope.
func TestFindingsListsSortCountAndPage(t *testing.T) {
	h, tok := rootHarness(t)
	const n = 120
	fx := seedFindings(t, h, tok, n)
	all := func(*store.Finding) bool { return true }
	repoList := "/v1/repositories/" + fx.repo + "/findings?limit=17"

	// Default: most severe first, then path, over every page.
	got, first := h.pages(tok, repoList)
	if want := idsWhere(fx.findings, all, "-severity"); !slices.Equal(got, want) {
		t.Fatalf("default order differs:\n got %v\nwant %v", got[:5], want[:5])
	}
	if first["total"] != float64(n) || len(first["items"].([]any)) != 17 {
		t.Fatalf("first page: total %v, %d items", first["total"], len(first["items"].([]any)))
	}
	wantCounts := map[string]any{"open": 0.0, "confirmed": 0.0, "dismissed": 0.0, "fixed": 0.0}
	for _, f := range fx.findings {
		wantCounts[f.Status] = wantCounts[f.Status].(float64) + 1
	}
	if fmt.Sprint(first["counts"]) != fmt.Sprint(wantCounts) {
		t.Fatalf("counts %v, want %v", first["counts"], wantCounts)
	}
	if it := first["items"].([]any)[0].(map[string]any); it["severity"] != "critical" || it["rule_id"] == "" {
		t.Fatalf("first item %v", it)
	}
	for _, key := range store.FindingSortKeys {
		for _, srt := range []string{key, "-" + key} {
			got, _ := h.pages(tok, repoList+"&sort="+srt)
			if want := idsWhere(fx.findings, all, srt); !slices.Equal(got, want) {
				t.Fatalf("sort=%s: order differs (%d vs %d items)", srt, len(got), len(want))
			}
		}
	}

	// Several values per filter; counts keep every status (the tabs), total follows status.
	sevs := []string{store.SeverityCritical, store.SeverityHigh}
	stats := []string{store.FindingOpen, store.FindingConfirmed}
	got, first = h.pages(tok, repoList+"&severity=critical,high&status=open,confirmed&sort=path")
	want := idsWhere(fx.findings, func(f *store.Finding) bool {
		return slices.Contains(sevs, f.Severity) && slices.Contains(stats, f.Status)
	}, "path")
	if !slices.Equal(got, want) || first["total"] != float64(len(want)) {
		t.Fatalf("filtered: %d items, total %v, want %d", len(got), first["total"], len(want))
	}
	tabs := map[string]int{}
	for _, f := range fx.findings {
		if slices.Contains(sevs, f.Severity) {
			tabs[f.Status]++
		}
	}
	c := first["counts"].(map[string]any)
	for st, k := range tabs {
		if c[st] != float64(k) {
			t.Fatalf("counts with the status filter: %v, want %v", c, tabs)
		}
	}
	// Rules: a filter and a search term.
	got, first = h.pages(tok, repoList+"&rule=xss,sql-injection")
	want = idsWhere(fx.findings, func(f *store.Finding) bool { return f.RuleID == "xss" || f.RuleID == "sql-injection" }, "-severity")
	if !slices.Equal(got, want) {
		t.Fatalf("rule filter: %d, want %d", len(got), len(want))
	}
	got, _ = h.pages(tok, repoList+"&q=GENERIC-API")
	if len(got) != n/5 {
		t.Fatalf("q on rule_id: %d, want %d", len(got), n/5)
	}
	// Project list carries the same shape.
	if _, first = h.pages(tok, "/v1/projects/"+fx.project+"/findings?status=fixed"); first["total"] != wantCounts["fixed"] {
		t.Fatalf("project list total %v", first["total"])
	}

	// Group by rule: one row per rule, count and highest severity.
	r := h.do("GET", "/v1/repositories/"+fx.repo+"/findings/rules?status=open", tok, nil)
	if r.Status != 200 {
		t.Fatalf("rules: %d %s", r.Status, r.Body)
	}
	groups := r.JSON(t)
	wantGroups := map[string]int{}
	wantMax := map[string]string{}
	for _, f := range fx.findings {
		if f.Status == store.FindingOpen {
			wantGroups[f.RuleID]++
			if store.SeverityRank(f.Severity) > store.SeverityRank(wantMax[f.RuleID]) {
				wantMax[f.RuleID] = f.Severity
			}
		}
	}
	items := groups["items"].([]any)
	if len(items) != len(wantGroups) || groups["total"] != wantCounts["open"] {
		t.Fatalf("rules: %v", groups)
	}
	for _, it := range items {
		g := it.(map[string]any)
		if g["count"] != float64(wantGroups[g["rule_id"].(string)]) || g["severity"] != wantMax[g["rule_id"].(string)] {
			t.Fatalf("rule group %v, want count %d severity %s", g, wantGroups[g["rule_id"].(string)], wantMax[g["rule_id"].(string)])
		}
	}

	// Scan comparison: s2 reported [n/3, n), s1 [0, 2n/3).
	idx := func(lo, hi int) []string {
		var sel []store.Finding
		sel = append(sel, fx.findings[lo:hi]...)
		return idsWhere(sel, all, "-severity")
	}
	for change, want := range map[string][]string{"new": idx(2*n/3, n), "fixed": idx(0, n/3), "unchanged": idx(n/3, 2*n/3)} {
		got, first := h.pages(tok, "/v1/scans/"+fx.s2.ID+"/findings?limit=9&change="+change)
		if !slices.Equal(got, want) || first["base_scan_id"] != fx.s1.ID || first["total"] != float64(len(want)) {
			t.Fatalf("change=%s: %d items (want %d), base %v total %v", change, len(got), len(want), first["base_scan_id"], first["total"])
		}
	}
	got, first = h.pages(tok, "/v1/scans/"+fx.s1.ID+"/findings?change=new")
	if len(got) != 2*n/3 || first["base_scan_id"] != nil {
		t.Fatalf("first scan: everything is new: %d, base %v", len(got), first["base_scan_id"])
	}
	if got, _ = h.pages(tok, "/v1/scans/"+fx.s1.ID+"/findings?change=fixed"); len(got) != 0 {
		t.Fatalf("first scan fixed nothing, got %d", len(got))
	}

	// Hostile parameters: 400 validation_failed in the envelope, naming the field.
	var rs []string
	for i := 0; i < 60; i++ {
		rs = append(rs, fmt.Sprintf("rule-%d", i))
	}
	manyRules := strings.Join(rs, ",")
	_, pg := h.pages(tok, repoList)
	cursor := pg["next_cursor"].(string)
	for path, field := range map[string]string{
		"/v1/repositories/" + fx.repo + "/findings?sort=title":                                  "sort",
		"/v1/repositories/" + fx.repo + "/findings?sort=--severity":                             "sort",
		"/v1/repositories/" + fx.repo + "/findings?severity=critical,urgent":                    "severity",
		"/v1/repositories/" + fx.repo + "/findings?status=closed":                               "status",
		"/v1/repositories/" + fx.repo + "/findings?rule=" + manyRules:                           "rule",
		"/v1/repositories/" + fx.repo + "/findings?rule=" + strings.Repeat("x", 300):            "rule",
		"/v1/repositories/" + fx.repo + "/findings?change=new":                                  "change",
		"/v1/scans/" + fx.s2.ID + "/findings?change=gone":                                       "change",
		"/v1/repositories/" + fx.repo + "/findings?sort=path&cursor=" + url.QueryEscape(cursor): "cursor",
		"/v1/repositories/" + fx.repo + "/findings?cursor=not-a-cursor":                         "cursor",
		"/v1/repositories/" + fx.repo + "/findings?limit=501":                                   "limit",
		"/v1/repositories/" + fx.repo + "/findings/rules?sort=bogus":                            "sort",
	} {
		r := h.do("GET", path, tok, nil)
		if r.Status != 400 || r.ErrCode(t) != "validation_failed" || !strings.Contains(string(r.Body), `"`+field+`"`) {
			t.Fatalf("GET %s: %d %s (want 400 naming %s)", path, r.Status, r.Body, field)
		}
	}
	// Another user sees none of it.
	other := h.newUser(tok, "other-triage@example.com")
	for _, path := range []string{repoList, "/v1/scans/" + fx.s2.ID + "/findings?change=new", "/v1/repositories/" + fx.repo + "/findings/rules"} {
		if r := h.do("GET", path, other, nil); r.Status != 404 {
			t.Fatalf("other user GET %s: %d", path, r.Status)
		}
	}
}

// TestBulkTriageByFilter triages every match of a filter in one request,
// with history and owner scoping, and refuses what it must.
func TestBulkTriageByFilter(t *testing.T) {
	h, tok := rootHarness(t)
	const n = 90
	fx := seedFindings(t, h, tok, n)
	match := func(f *store.Finding) bool {
		return (f.Severity == store.SeverityLow || f.Severity == store.SeverityInfo) && f.Status == store.FindingOpen && f.RuleID != "xss"
	}
	var want []string
	for i := range fx.findings {
		if match(&fx.findings[i]) {
			want = append(want, fx.findings[i].ID)
		}
	}
	body := map[string]any{"filter": map[string]any{"repository_id": fx.repo, "severity": "low,info", "status": "open",
		"rule": "aws-access-token,generic-api-key,sql-injection,path-traversal"},
		"status": "dismissed", "dismissed_reason": "used_in_tests", "note": "test fixtures"}
	other := h.newUser(tok, "bulk-other@example.com")
	if r := h.do("POST", "/v1/findings/bulk-triage", other, body); r.Status != 404 {
		t.Fatalf("another user's repository: %d %s", r.Status, r.Body)
	}
	r := h.do("POST", "/v1/findings/bulk-triage", tok, body)
	if r.Status != 200 {
		t.Fatalf("bulk: %d %s", r.Status, r.Body)
	}
	if res := r.JSON(t); res["changed"] != float64(len(want)) || res["matched"] != float64(len(want)) || len(want) == 0 {
		t.Fatalf("bulk: %v, want %d changed", res, len(want))
	}
	got, _ := h.pages(tok, "/v1/repositories/"+fx.repo+"/findings?status=dismissed&q=&limit=500&sort=path")
	for _, id := range want {
		if !slices.Contains(got, id) {
			t.Fatalf("%s not dismissed", id)
		}
		f := h.do("GET", "/v1/findings/"+id, tok, nil).JSON(t)
		if f["dismissed_reason"] != "used_in_tests" || f["triage_note"] != "test fixtures" {
			t.Fatalf("finding after bulk: %v", f)
		}
		hist := h.do("GET", "/v1/findings/"+id+"/history", tok, nil).JSON(t)["items"].([]any)
		if len(hist) != 1 || hist[0].(map[string]any)["to_status"] != "dismissed" || hist[0].(map[string]any)["actor"] == "" {
			t.Fatalf("history after bulk: %v", hist)
		}
	}
	// Again: nothing left to change (the filter's status is open).
	if res := h.do("POST", "/v1/findings/bulk-triage", tok, body).JSON(t); res["changed"] != 0.0 || res["matched"] != 0.0 {
		t.Fatalf("second bulk: %v", res)
	}
	// Scan scope with change: reopen what s2 fixed (findings only s1 reported).
	r = h.do("POST", "/v1/findings/bulk-triage", tok, map[string]any{"filter": map[string]any{"scan_id": fx.s2.ID, "change": "fixed"}, "status": "confirmed"})
	if res := r.JSON(t); r.Status != 200 || res["matched"] != float64(n/3) {
		t.Fatalf("bulk by scan change: %d %v", r.Status, res)
	}
	// Refusals, each in the envelope.
	many := make([]string, 10_001)
	for i := range many {
		many[i] = fmt.Sprintf("fnd_%026d", i)
	}
	for name, b := range map[string]any{
		"both ids and filter":          map[string]any{"ids": []string{fx.findings[0].ID}, "filter": map[string]any{"repository_id": fx.repo}, "status": "open"},
		"neither":                      map[string]any{"status": "open"},
		"filter without scope":         map[string]any{"filter": map[string]any{"severity": "high"}, "status": "open"},
		"bad filter value":             map[string]any{"filter": map[string]any{"repository_id": fx.repo, "severity": "urgent"}, "status": "open"},
		"dismiss without reason":       map[string]any{"filter": map[string]any{"repository_id": fx.repo}, "status": "dismissed"},
		"fixed is not a user decision": map[string]any{"ids": []string{fx.findings[0].ID}, "status": "fixed"},
		"over 10,000 ids":              map[string]any{"ids": many, "status": "open"},
	} {
		r := h.do("POST", "/v1/findings/bulk-triage", tok, b)
		if r.Status != 400 || r.ErrCode(t) != "validation_failed" {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// An ID list of someone else's findings changes none of them.
	r = h.do("POST", "/v1/findings/bulk-triage", other, map[string]any{"ids": []string{fx.findings[0].ID}, "status": "confirmed"})
	if res := r.JSON(t); r.Status != 200 || res["changed"] != 0.0 || len(res["not_found"].([]any)) != 1 {
		t.Fatalf("other user's ids: %d %v", r.Status, res)
	}
}

// TestBulkTriageAnswersPreviousForUndo: a bulk triage over findings of every
// status answers exactly the changed ones grouped by the status and reason
// each had (what Undo needs, no list reads), and sending the restorable
// groups back by ids puts every one of them back.
func TestBulkTriageAnswersPreviousForUndo(t *testing.T) {
	h, tok := rootHarness(t)
	fx := seedFindings(t, h, tok, 36)
	fx.findings = append(fx.findings, store.Finding{}) // one already false_positive: unchanged
	last := &fx.findings[len(fx.findings)-1]
	*last = fx.findings[0]
	last.ID, last.Fingerprint, last.Status, last.DismissedReason = store.NewID(store.PrefixFinding), "fp-fp", store.FindingDismissed, store.DismissFalsePositive
	if err := h.env.Store.CreateFinding(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	type group struct {
		IDs             []string `json:"ids"`
		Status          string   `json:"status"`
		DismissedReason string   `json:"dismissed_reason,omitempty"`
		Note            *string  `json:"note,omitempty"`
		Restorable      bool     `json:"restorable"`
	}
	type result struct {
		Matched, Changed, Unchanged int
		NotFound                    []string `json:"not_found"`
		Previous                    []group  `json:"previous"`
	}
	bulk := func(body any) result {
		t.Helper()
		r := h.do("POST", "/v1/findings/bulk-triage", tok, body)
		var res result
		if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil {
			t.Fatalf("bulk: %d %s", r.Status, r.Body)
		}
		return res
	}
	idsOf := func(status, reason string) []string {
		var out []string
		for _, f := range fx.findings {
			if f.Status == status && f.DismissedReason == reason {
				out = append(out, f.ID)
			}
		}
		slices.Sort(out)
		return out
	}
	res := bulk(map[string]any{"filter": map[string]any{"repository_id": fx.repo}, "status": "dismissed", "dismissed_reason": "false_positive"})
	want := []group{
		{IDs: idsOf(store.FindingOpen, ""), Status: "open", Restorable: true},
		{IDs: idsOf(store.FindingConfirmed, ""), Status: "confirmed", Restorable: true},
		{IDs: idsOf(store.FindingDismissed, store.DismissWontFix), Status: "dismissed", DismissedReason: "wont_fix", Restorable: true},
		{IDs: idsOf(store.FindingFixed, ""), Status: "fixed"}, // only a scan sets fixed
	}
	if res.Matched != 37 || res.Changed != 36 || res.Unchanged != 1 || !slices.EqualFunc(res.Previous, want, func(a, b group) bool {
		return slices.Equal(a.IDs, b.IDs) && a.Status == b.Status && a.DismissedReason == b.DismissedReason && a.Note == nil && a.Restorable == b.Restorable
	}) {
		t.Fatalf("bulk: %+v\nwant previous %+v", res, want)
	}
	// Undo: one request per restorable group, by ids.
	for _, g := range res.Previous {
		if g.Restorable {
			body := map[string]any{"ids": g.IDs, "status": g.Status}
			if g.DismissedReason != "" {
				body["dismissed_reason"] = g.DismissedReason
			}
			if u := bulk(body); u.Changed != len(g.IDs) || len(u.Previous) != 1 || u.Previous[0].Status != "dismissed" {
				t.Fatalf("undo %s: %+v", g.Status, u)
			}
		}
	}
	for _, f := range fx.findings {
		got := h.do("GET", "/v1/findings/"+f.ID, tok, nil).JSON(t)
		wantStatus, wantReason := f.Status, f.DismissedReason
		if f.Status == store.FindingFixed {
			wantStatus, wantReason = store.FindingDismissed, store.DismissFalsePositive
		}
		if reason, _ := got["dismissed_reason"].(string); got["status"] != wantStatus || reason != wantReason {
			t.Fatalf("%s after undo: %v %v, want %s %s", f.ID, got["status"], got["dismissed_reason"], wantStatus, wantReason)
		}
	}
	// Nothing to change: previous is an empty list, not null.
	r := h.do("POST", "/v1/findings/bulk-triage", tok, map[string]any{"ids": []string{last.ID}, "status": "dismissed", "dismissed_reason": "false_positive"})
	if p, ok := r.JSON(t)["previous"].([]any); !ok || len(p) != 0 {
		t.Fatalf("no change: %s", r.Body)
	}
}
