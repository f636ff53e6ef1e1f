package storetest

import (
	"testing"

	"github.com/vegasec/vega/store"
)

func testFindings(t *testing.T, f *fixture) {
	u := f.user()
	p := f.project(u.ID)
	r, r2 := f.repo(p), f.repo(p)
	sc := f.scan(r, store.ScanRunning)

	fd := f.finding(r, sc.ID, func(x *store.Finding) { x.Fingerprint = "fp-shared" })
	got, err := f.s.GetFinding(f.ctx, store.OwnedBy(u.ID), fd.ID)
	must(t, err, "GetFinding")
	assertSame(t, fd, got, "GetFinding")
	got, err = f.s.GetFindingByFingerprint(f.ctx, r.ID, "fp-shared")
	must(t, err, "GetFindingByFingerprint")
	assertSame(t, fd, got, "GetFindingByFingerprint")
	_, err = f.s.GetFindingByFingerprint(f.ctx, r2.ID, "fp-shared")
	wantErr(t, err, store.ErrNotFound, "fingerprint in another repository")
	_, err = f.s.GetFinding(f.ctx, store.System(), store.NewID(store.PrefixFinding))
	wantErr(t, err, store.ErrNotFound, "GetFinding missing")

	// One row per fingerprint per repository.
	dup := *fd
	dup.ID = store.NewID(store.PrefixFinding)
	wantErr(t, f.s.CreateFinding(f.ctx, &dup), store.ErrConflict, "same fingerprint in the same repository")
	f.finding(r2, "", func(x *store.Finding) { x.Fingerprint = "fp-shared" }) // other repository: fine

	sc2 := f.scan(r, store.ScanRunning)
	later := f.tick()
	upd, err := f.s.UpdateFinding(f.ctx, store.OwnedBy(u.ID), fd.ID, func(x *store.Finding) error {
		x.Status, x.DismissedReason, x.TriageNote = store.FindingDismissed, store.DismissFalsePositive, "test fixture"
		x.ScanID, x.LastSeenScanID, x.UpdatedAt = sc2.ID, sc2.ID, later
		x.StartLine, x.EndLine = 40, 44
		return nil
	})
	must(t, err, "UpdateFinding")
	got, err = f.s.GetFinding(f.ctx, store.System(), fd.ID)
	must(t, err, "read back")
	assertSame(t, upd, got, "finding after update")
	if got.FirstSeenScanID != sc.ID || got.LastSeenScanID != sc2.ID || got.DismissedReason != store.DismissFalsePositive {
		t.Fatalf("finding after update: %+v", got)
	}
	checkAbortedUpdate(t, "UpdateFinding", func() (*store.Finding, error) { return f.s.GetFinding(f.ctx, store.System(), fd.ID) },
		func(fn func(*store.Finding) error) (*store.Finding, error) {
			return f.s.UpdateFinding(f.ctx, store.OwnedBy(u.ID), fd.ID, fn)
		},
		func(x *store.Finding) { x.Status = store.FindingOpen })
	_, err = f.s.UpdateFinding(f.ctx, store.System(), store.NewID(store.PrefixFinding), func(*store.Finding) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateFinding missing")
}

func testFindingFilters(t *testing.T, f *fixture) {
	u := f.user()
	p, p2 := f.project(u.ID), f.project(u.ID)
	r, r2, r3 := f.repo(p), f.repo(p), f.repo(p2)
	sc := f.scan(r, store.ScanCompleted)

	a := f.finding(r, sc.ID, func(x *store.Finding) {
		x.Title, x.FilePath, x.Severity, x.CWE = "SQL Injection in login", "src/auth/login.go", store.SeverityCritical, []string{"CWE-89"}
	})
	b := f.finding(r, sc.ID, func(x *store.Finding) {
		x.Title, x.FilePath, x.Severity, x.Status = "Hard-coded secret", "src/a_b/config.go", store.SeverityHigh, store.FindingConfirmed
		x.Engine, x.CWE, x.Description = "gitleaks", []string{"CWE-798"}, "AWS key in source"
	})
	c := f.finding(r2, "", func(x *store.Finding) {
		x.Title, x.FilePath, x.Severity, x.Status = "Open redirect", "src/abc/redirect.go", store.SeverityMedium, store.FindingDismissed
		x.CWE = []string{"CWE-601", "CWE-20"}
	})
	d := f.finding(r3, "", func(x *store.Finding) {
		x.Title, x.FilePath, x.Severity, x.Status = "Debug endpoint 100%", "cmd/debug.go", store.SeverityLow, store.FindingFixed
		x.CWE = nil
	})
	for key, fid := range map[string]string{"k-a": a.ID, "k-b": b.ID} {
		must(t, f.s.PutScanFinding(f.ctx, store.ScanFinding{ScanID: sc.ID, Key: key, FindingID: fid}), "PutScanFinding")
	}

	cases := []filterCase[store.FindingFilter]{
		{"all", store.FindingFilter{}, []string{a.ID, b.ID, c.ID, d.ID}},
		{"project", store.FindingFilter{ProjectID: p.ID}, []string{a.ID, b.ID, c.ID}},
		{"repository", store.FindingFilter{RepositoryID: r2.ID}, []string{c.ID}},
		{"scan", store.FindingFilter{ScanID: sc.ID}, []string{a.ID, b.ID}},
		{"unknown scan", store.FindingFilter{ScanID: store.NewID(store.PrefixScan)}, nil},
		{"severities", store.FindingFilter{Severities: []string{store.SeverityCritical, store.SeverityLow}}, []string{a.ID, d.ID}},
		{"statuses", store.FindingFilter{Statuses: []string{store.FindingOpen, store.FindingConfirmed}}, []string{a.ID, b.ID}},
		{"engines", store.FindingFilter{Engines: []string{"gitleaks"}}, []string{b.ID}},
		{"path prefix", store.FindingFilter{PathPrefix: "src/a"}, []string{a.ID, b.ID, c.ID}},
		{"path prefix is literal (no LIKE wildcards)", store.FindingFilter{PathPrefix: "src/a_"}, []string{b.ID}},
		{"path prefix percent", store.FindingFilter{PathPrefix: "%"}, nil},
		{"cwe", store.FindingFilter{CWE: "CWE-20"}, []string{c.ID}},
		{"cwe exact, not substring", store.FindingFilter{CWE: "CWE-2"}, nil},
		{"query title case-insensitive", store.FindingFilter{Query: "sql INJECTION"}, []string{a.ID}},
		{"query description", store.FindingFilter{Query: "aws KEY"}, []string{b.ID}},
		{"query path", store.FindingFilter{Query: "REDIRECT.GO"}, []string{c.ID}},
		{"query percent is literal", store.FindingFilter{Query: "%"}, []string{d.ID}},
		{"query underscore is literal", store.FindingFilter{Query: "_"}, []string{b.ID}},
		{"combined", store.FindingFilter{ProjectID: p.ID, Statuses: []string{store.FindingOpen, store.FindingDismissed},
			PathPrefix: "src/", Query: "o"}, []string{a.ID, c.ID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			xs, next, err := f.s.ListFindings(f.ctx, store.OwnedBy(u.ID), c.f, store.Page{})
			checkOnePage(t, "ListFindings", c.want, ids(xs, func(x store.Finding) string { return x.ID }), next, err)
			counts, err := f.s.CountFindings(f.ctx, store.OwnedBy(u.ID), c.f)
			must(t, err, "CountFindings")
			var want store.SeverityCounts
			for _, x := range xs {
				want.Inc(x.Severity)
			}
			if counts != want {
				t.Fatalf("CountFindings = %+v, want %+v", counts, want)
			}
		})
	}
	checkPages(t, []string{a.ID, b.ID, c.ID, d.ID}, 3, func(pg store.Page) ([]string, string, error) {
		xs, next, err := f.s.ListFindings(f.ctx, store.OwnedBy(u.ID), store.FindingFilter{}, pg)
		return ids(xs, func(x store.Finding) string { return x.ID }), next, err
	})
}

func testScanFindings(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	sc, sc2 := f.scan(r, store.ScanRunning), f.scan(r, store.ScanRunning)
	a, b := f.finding(r, sc.ID, nil), f.finding(r, sc.ID, nil)

	_, err := f.s.GetScanFinding(f.ctx, sc.ID, "key-1")
	wantErr(t, err, store.ErrNotFound, "GetScanFinding before put")
	sf := store.ScanFinding{ScanID: sc.ID, Key: "key-1", FindingID: a.ID}
	must(t, f.s.PutScanFinding(f.ctx, sf), "PutScanFinding")
	must(t, f.s.PutScanFinding(f.ctx, sf), "PutScanFinding again (idempotent)")
	id, err := f.s.GetScanFinding(f.ctx, sc.ID, "key-1")
	must(t, err, "GetScanFinding")
	if id != a.ID {
		t.Fatalf("GetScanFinding = %s, want %s", id, a.ID)
	}
	_, err = f.s.GetScanFinding(f.ctx, sc2.ID, "key-1")
	wantErr(t, err, store.ErrNotFound, "key of another scan")
	// Two keys may point at the same finding (same fingerprint reached twice).
	must(t, f.s.PutScanFinding(f.ctx, store.ScanFinding{ScanID: sc.ID, Key: "key-2", FindingID: a.ID}), "PutScanFinding second key")
	must(t, f.s.PutScanFinding(f.ctx, store.ScanFinding{ScanID: sc2.ID, Key: "key-1", FindingID: b.ID}), "PutScanFinding other scan")
	xs, _, err := f.s.ListFindings(f.ctx, store.System(), store.FindingFilter{ScanID: sc.ID}, store.Page{})
	must(t, err, "ListFindings by scan")
	sameOrder(t, []string{a.ID}, ids(xs, func(x store.Finding) string { return x.ID }), "findings of scan (each once)")
	counts, err := f.s.CountFindings(f.ctx, store.System(), store.FindingFilter{ScanID: sc.ID})
	must(t, err, "CountFindings by scan")
	if counts.Total() != 1 {
		t.Fatalf("CountFindings by scan counts %d, want 1", counts.Total())
	}
}

func testFindingHistory(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	a, b := f.finding(r, "", nil), f.finding(r, "", nil)
	steps := []store.FindingHistory{
		{FromStatus: "", ToStatus: store.FindingOpen, Actor: "system"},
		{FromStatus: store.FindingOpen, ToStatus: store.FindingDismissed, Actor: u.ID, Reason: store.DismissWontFix, Note: "legacy"},
		{FromStatus: store.FindingDismissed, ToStatus: store.FindingOpen, Actor: u.ID},
	}
	var want []string
	for i := range steps {
		h := steps[i]
		h.ID, h.FindingID, h.At = store.NewID(store.PrefixHistory), a.ID, f.tick()
		must(t, f.s.AppendFindingHistory(f.ctx, &h), "AppendFindingHistory")
		want = append(want, h.ID)
		steps[i] = h
	}
	must(t, f.s.AppendFindingHistory(f.ctx, &store.FindingHistory{ID: store.NewID(store.PrefixHistory), FindingID: b.ID,
		Actor: "system", ToStatus: store.FindingFixed, At: f.tick()}), "AppendFindingHistory other finding")
	got, err := f.s.ListFindingHistory(f.ctx, a.ID)
	must(t, err, "ListFindingHistory")
	sameOrder(t, want, ids(got, func(x store.FindingHistory) string { return x.ID }), "history oldest first")
	assertSame(t, steps[1], got[1], "history entry")
	none, err := f.s.ListFindingHistory(f.ctx, store.NewID(store.PrefixFinding))
	wantNone(t, none, err, "ListFindingHistory unknown")
}
