package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// listAll pages through a sorted list with the given page size and returns
// every ID in order, failing on a cursor that repeats or a page over limit.
func listAll(t *testing.T, f *fixture, sc store.Scope, flt store.FindingFilter, limit int) []string {
	t.Helper()
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("pagination does not terminate; cursor %q", cursor)
		}
		xs, next, err := f.s.ListFindings(f.ctx, sc, flt, store.Page{Limit: limit, Cursor: cursor})
		must(t, err, "ListFindings "+flt.Sort.String())
		if len(xs) > limit || (len(xs) == 0 && pages > 0) {
			t.Fatalf("sort %s: page of %d items after cursor %q (limit %d)", flt.Sort, len(xs), cursor, limit)
		}
		got = append(got, ids(xs, func(x store.Finding) string { return x.ID })...)
		if next == "" {
			return got
		}
		cursor = next
	}
}

func testFindingSort(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	s1 := f.scan(r, store.ScanCompleted)
	// first_seen/last_seen order by the scans' IDs, which are ULIDs: two made
	// in the same millisecond compare by their random part (a flake, seen
	// once on bolt). A later millisecond makes s2 the later scan.
	time.Sleep(2 * time.Millisecond)
	s2 := f.scan(r, store.ScanCompleted)
	mk := func(sev, status, path, rule, first, last string) string {
		return f.finding(r, last, func(x *store.Finding) {
			x.Severity, x.Status, x.FilePath, x.RuleID, x.FirstSeenScanID, x.LastSeenScanID = sev, status, path, rule, first, last
		}).ID
	}
	// Ties on purpose: two criticals in one file, equal rules and scans.
	a := mk(store.SeverityCritical, store.FindingOpen, "src/z.go", "aws-access-token", s1.ID, s2.ID)
	b := mk(store.SeverityCritical, store.FindingOpen, "src/z.go", "aws-access-token", s1.ID, s2.ID)
	c := mk(store.SeverityCritical, store.FindingDismissed, "lib/a.go", "sql-injection", s2.ID, s2.ID)
	d := mk(store.SeverityLow, store.FindingFixed, "README.md", "generic-api-key", s1.ID, s1.ID)
	e := mk(store.SeverityHigh, store.FindingConfirmed, "src/Z.go", "aws-access-token", s2.ID, s2.ID)
	g := mk(store.SeverityInfo, store.FindingOpen, "src/a b/é.go", "", s1.ID, s1.ID)
	h := mk(store.SeverityMedium, store.FindingOpen, "src/z.go", "xss", s2.ID, s2.ID)
	tie := func(x, y string) []string { // equal key and path: by ID
		if x < y {
			return []string{x, y}
		}
		return []string{y, x}
	}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	// Paths compare byte-wise: "README.md" < "lib/…" < "src/Z.go" < "src/a b/…" < "src/z.go".
	want := map[string][]string{
		"-severity":   cat([]string{c}, tie(a, b), []string{e, h, d, g}),
		"severity":    cat([]string{g, d, h, e, c}, tie(a, b)),
		"path":        cat([]string{d, c, e, g}, tie(a, b)[:1], tie(a, b)[1:], []string{h}),
		"status":      cat([]string{g}, tie(a, b), []string{h, e, c, d}),
		"-status":     cat([]string{d, c, e, g}, tie(a, b), []string{h}),
		"rule":        cat([]string{g, e}, tie(a, b), []string{d, c, h}),
		"-rule":       cat([]string{h, c, d, e}, tie(a, b), []string{g}),
		"first_seen":  cat([]string{d, g}, tie(a, b), []string{c, e, h}),
		"-last_seen":  cat([]string{c, e}, tie(a, b), []string{h, d, g}),
		"last_seen":   cat([]string{d, g, c, e}, tie(a, b), []string{h}),
		"-first_seen": cat([]string{c, e, h, d, g}, tie(a, b)),
	}
	// "path" sorts h (src/z.go) with a and b: all three share the path, so by ID.
	zs := []string{a, b, h}
	for i := range zs {
		for j := i + 1; j < len(zs); j++ {
			if zs[j] < zs[i] {
				zs[i], zs[j] = zs[j], zs[i]
			}
		}
	}
	want["path"] = cat([]string{d, c, e, g}, zs)
	want["-path"] = cat(zs, []string{g, e, c, d})
	for spelled, order := range want {
		srt, ok := store.ParseFindingSort(spelled)
		if !ok {
			t.Fatalf("ParseFindingSort(%q) failed", spelled)
		}
		for _, limit := range []int{1, 2, 3, 50} {
			got := listAll(t, f, store.OwnedBy(u.ID), store.FindingFilter{RepositoryID: r.ID, Sort: srt}, limit)
			sameOrder(t, order, got, "sort "+spelled)
		}
	}
	// Sort applies before paging with filters too, and a cursor of one sort
	// is refused by another.
	srt, _ := store.ParseFindingSort("-severity")
	got := listAll(t, f, store.OwnedBy(u.ID), store.FindingFilter{RepositoryID: r.ID, Sort: srt,
		Statuses: []string{store.FindingOpen, store.FindingConfirmed}}, 2)
	sameOrder(t, cat(tie(a, b), []string{e, h, g}), got, "sorted and filtered")
	_, next, err := f.s.ListFindings(f.ctx, store.OwnedBy(u.ID), store.FindingFilter{RepositoryID: r.ID, Sort: srt}, store.Page{Limit: 1})
	must(t, err, "first page")
	other, _ := store.ParseFindingSort("path")
	_, _, err = f.s.ListFindings(f.ctx, store.OwnedBy(u.ID), store.FindingFilter{RepositoryID: r.ID, Sort: other}, store.Page{Limit: 1, Cursor: next})
	wantErr(t, err, store.ErrBadCursor, "cursor of another sort")
	_, _, err = f.s.ListFindings(f.ctx, store.OwnedBy(u.ID), store.FindingFilter{RepositoryID: r.ID, Sort: srt}, store.Page{Limit: 1, Cursor: "fnd_not-a-cursor"})
	wantErr(t, err, store.ErrBadCursor, "garbage cursor")
	// Another owner sees nothing, sorted or not.
	if got := listAll(t, f, store.OwnedBy(f.user().ID), store.FindingFilter{Sort: srt}, 5); len(got) != 0 {
		t.Fatalf("another user sees %v", got)
	}
}

func testFindingCountsAndRules(t *testing.T, f *fixture) {
	u := f.user()
	p := f.project(u.ID)
	r, r2 := f.repo(p), f.repo(p)
	s1, s2 := f.scan(r, store.ScanCompleted), f.scan(r, store.ScanCompleted)
	mk := func(repo *store.Repository, sev, status, rule string, scans ...*store.Scan) string {
		x := f.finding(repo, "", func(x *store.Finding) {
			x.Severity, x.Status, x.RuleID, x.Category = sev, status, rule, "cat-"+rule
		})
		for _, s := range scans {
			must(t, f.s.PutScanFinding(f.ctx, store.ScanFinding{ScanID: s.ID, Key: x.ID, FindingID: x.ID}), "PutScanFinding")
		}
		return x.ID
	}
	a := mk(r, store.SeverityCritical, store.FindingOpen, "aws-access-token", s1, s2)
	b := mk(r, store.SeverityLow, store.FindingOpen, "aws-access-token", s1)
	c := mk(r, store.SeverityHigh, store.FindingDismissed, "sql-injection", s2)
	d := mk(r, store.SeverityHigh, store.FindingConfirmed, "xss")
	e := mk(r2, store.SeverityMedium, store.FindingFixed, "aws-access-token")
	sc := store.OwnedBy(u.ID)

	got, err := f.s.GetFinding(f.ctx, sc, a)
	must(t, err, "GetFinding")
	if got.RuleID != "aws-access-token" {
		t.Fatalf("rule_id = %q", got.RuleID)
	}
	counts, err := f.s.CountFindingsByStatus(f.ctx, sc, store.FindingFilter{RepositoryID: r.ID, Statuses: []string{store.FindingOpen}})
	must(t, err, "CountFindingsByStatus")
	if want := (store.StatusCounts{Open: 2, Confirmed: 1, Dismissed: 1}); counts != want {
		t.Fatalf("status counts %+v, want %+v (the status filter is ignored)", counts, want)
	}
	counts, err = f.s.CountFindingsByStatus(f.ctx, sc, store.FindingFilter{ProjectID: p.ID, Rules: []string{"aws-access-token"}})
	must(t, err, "CountFindingsByStatus by rule")
	if want := (store.StatusCounts{Open: 2, Fixed: 1}); counts != want {
		t.Fatalf("status counts by rule %+v, want %+v", counts, want)
	}
	counts, err = f.s.CountFindingsByStatus(f.ctx, store.OwnedBy(f.user().ID), store.FindingFilter{})
	must(t, err, "CountFindingsByStatus other user")
	if counts != (store.StatusCounts{}) {
		t.Fatalf("another user counts %+v", counts)
	}

	cases := []struct {
		name string
		f    store.FindingFilter
		want []string
	}{
		{"rules", store.FindingFilter{Rules: []string{"xss", "sql-injection"}}, []string{c, d}},
		{"rule in q", store.FindingFilter{Query: "SQL-INJ"}, []string{c}},
		{"new in s2", store.FindingFilter{ScanID: s2.ID, NotInScanID: s1.ID}, []string{c}},
		{"fixed by s2", store.FindingFilter{ScanID: s1.ID, NotInScanID: s2.ID}, []string{b}},
		{"unchanged", store.FindingFilter{ScanID: s2.ID, AlsoInScanID: s1.ID}, []string{a}},
		{"scan of another repository", store.FindingFilter{ScanID: s1.ID, RepositoryID: r2.ID}, nil},
	}
	for _, x := range cases {
		xs, _, err := f.s.ListFindings(f.ctx, sc, x.f, store.Page{})
		must(t, err, x.name)
		sameOrder(t, newestFirst(x.want), ids(xs, func(x store.Finding) string { return x.ID }), x.name)
		fids, err := f.s.FindingIDs(f.ctx, sc, x.f, 100)
		must(t, err, "FindingIDs "+x.name)
		sameOrder(t, newestFirst(x.want), fids, "FindingIDs "+x.name)
	}
	fids, err := f.s.FindingIDs(f.ctx, sc, store.FindingFilter{ProjectID: p.ID}, 2)
	must(t, err, "FindingIDs limit")
	sameOrder(t, newestFirst([]string{a, b, c, d, e})[:2], fids, "FindingIDs limit")

	groups, err := f.s.ListFindingRules(f.ctx, sc, store.FindingFilter{RepositoryID: r.ID})
	must(t, err, "ListFindingRules")
	wantGroups := []store.RuleGroup{
		{RuleID: "aws-access-token", Severity: store.SeverityCritical, Count: 2, Counts: store.SeverityCounts{Critical: 1, Low: 1}},
		{RuleID: "sql-injection", Severity: store.SeverityHigh, Count: 1, Counts: store.SeverityCounts{High: 1}},
		{RuleID: "xss", Severity: store.SeverityHigh, Count: 1, Counts: store.SeverityCounts{High: 1}},
	}
	assertSame(t, wantGroups, groups, "rule groups")
	groups, err = f.s.ListFindingRules(f.ctx, sc, store.FindingFilter{ProjectID: p.ID, Statuses: []string{store.FindingFixed}})
	must(t, err, "ListFindingRules fixed")
	assertSame(t, []store.RuleGroup{{RuleID: "aws-access-token", Severity: store.SeverityMedium, Count: 1, Counts: store.SeverityCounts{Medium: 1}}}, groups, "rule groups of fixed")
}

func testTriageFindings(t *testing.T, f *fixture) {
	u, other := f.user(), f.user()
	r := f.repo(f.project(u.ID))
	a := f.finding(r, "", func(x *store.Finding) {
		// Everything but the triage fields must survive a triage as it was
		// (bbolt patches the stored record instead of re-encoding it).
		x.Description, x.Evidence = "line one\nline \"two\" <b> & ü {", `x := "}"`
		x.Suppression = &store.Suppression{Kind: store.SuppressVegaIgnore, FilePath: x.FilePath, Line: 9, Text: "vega:ignore ]"}
	})
	b := f.finding(r, "", func(x *store.Finding) {
		x.Status, x.DismissedReason, x.TriageNote = store.FindingDismissed, store.DismissWontFix, "why"
	})
	theirs := f.finding(f.repo(f.project(other.ID)), "", nil)
	missing := store.NewID(store.PrefixFinding)
	at := f.tick()
	// fn sees each visible finding once, with its stored triage fields: a
	// bulk triage's Undo data is what fn reads.
	seen := map[string][]string{}
	changed, notFound, err := f.s.TriageFindings(f.ctx, store.OwnedBy(u.ID), []string{a.ID, b.ID, theirs.ID, missing},
		func(x *store.Finding) *store.FindingHistory {
			seen[x.ID] = append(seen[x.ID], x.Status+"/"+x.DismissedReason+"/"+x.TriageNote)
			if x.Status == store.FindingDismissed {
				return nil // already decided: left alone
			}
			h := &store.FindingHistory{Actor: u.ID, FromStatus: x.Status, ToStatus: store.FindingConfirmed, Note: "bulk", At: at}
			x.Status, x.TriageNote, x.UpdatedAt = store.FindingConfirmed, "bulk", at
			x.Title = "not saved" // only triage fields are saved
			return h
		})
	must(t, err, "TriageFindings")
	if changed != 1 {
		t.Fatalf("changed %d, want 1", changed)
	}
	sameSet(t, []string{theirs.ID, missing}, notFound, "missing or not visible")
	assertSame(t, map[string][]string{a.ID: {"open//"}, b.ID: {"dismissed/wont_fix/why"}}, seen, "what fn saw")
	got, err := f.s.GetFinding(f.ctx, store.System(), a.ID)
	must(t, err, "GetFinding")
	want := *a
	want.Status, want.TriageNote, want.UpdatedAt = store.FindingConfirmed, "bulk", at
	assertSame(t, &want, got, "finding after TriageFindings")
	xs, _, err := f.s.ListFindings(f.ctx, store.System(), store.FindingFilter{Statuses: []string{store.FindingConfirmed}}, store.Page{})
	must(t, err, "list after triage")
	sameOrder(t, []string{a.ID}, ids(xs, func(x store.Finding) string { return x.ID }), "status filter sees the change")
	h, err := f.s.ListFindingHistory(f.ctx, a.ID)
	must(t, err, "history")
	if len(h) != 1 || h[0].ToStatus != store.FindingConfirmed || h[0].FindingID != a.ID || h[0].Actor != u.ID {
		t.Fatalf("history %+v", h)
	}
	for _, id := range []string{b.ID, theirs.ID} {
		h, err := f.s.ListFindingHistory(f.ctx, id)
		must(t, err, "history unchanged")
		if len(h) != 0 {
			t.Fatalf("%s has history %+v", id, h)
		}
	}
	got, err = f.s.GetFinding(f.ctx, store.System(), theirs.ID)
	must(t, err, "GetFinding theirs")
	if got.Status != store.FindingOpen {
		t.Fatalf("another user's finding changed: %+v", got)
	}
}

// refPosition is a finding's place in a sort as docs/findings.md ("Rules
// and lists") and store/findinglist.go spell it out, written here without
// store.FindingSort so the suite checks the stores against the rules and
// not against their own shared code: the key (severity and status by rank,
// the other keys as bytes), then file path A→Z, then ID, whatever the
// direction of the key.
type refPosition struct {
	rank     int
	text     string
	path, id string
}

var (
	refSeverityRank = map[string]int{"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
	refStatusRank   = map[string]int{"open": 0, "confirmed": 1, "dismissed": 2, "fixed": 3}
)

func refPos(key string, x *store.Finding) refPosition {
	p := refPosition{path: x.FilePath, id: x.ID}
	switch key {
	case "severity":
		p.rank = refSeverityRank[x.Severity]
	case "status":
		p.rank = refStatusRank[x.Status]
	case "path":
		p.text = x.FilePath
	case "rule":
		p.text = x.RuleID
	case "first_seen":
		p.text = x.FirstSeenScanID
	case "last_seen":
		p.text = x.LastSeenScanID
	default:
		panic("storetest: unknown sort key " + key)
	}
	return p
}

// refOrder returns the IDs of xs in the order of ?sort=spelled.
func refOrder(spelled string, xs []*store.Finding) []string {
	desc := strings.HasPrefix(spelled, "-")
	key := strings.TrimPrefix(spelled, "-")
	sorted := slices.Clone(xs)
	slices.SortFunc(sorted, func(a, b *store.Finding) int {
		pa, pb := refPos(key, a), refPos(key, b)
		c := cmp.Compare(pa.rank, pb.rank)
		if c == 0 {
			c = strings.Compare(pa.text, pb.text)
		}
		if desc {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(pa.path, pb.path)
		}
		if c == 0 {
			c = strings.Compare(pa.id, pb.id)
		}
		return c
	})
	return ids(sorted, func(x *store.Finding) string { return x.ID })
}

// listPaged pages through a sorted list and checks each page on its own:
// never over the limit, full unless it is the last one, no ID seen on an
// earlier page. It returns every ID in order.
func listPaged(t *testing.T, f *fixture, sc store.Scope, flt store.FindingFilter, limit int, what string) []string {
	t.Helper()
	var got []string
	seen := map[string]int{}
	cursor := ""
	for page := 1; ; page++ {
		if page > 500 {
			t.Fatalf("%s limit %d: pagination does not terminate; cursor %q", what, limit, cursor)
		}
		xs, next, err := f.s.ListFindings(f.ctx, sc, flt, store.Page{Limit: limit, Cursor: cursor})
		must(t, err, what)
		if len(xs) > limit {
			t.Fatalf("%s limit %d: page %d has %d items", what, limit, page, len(xs))
		}
		if next != "" && len(xs) < limit {
			t.Fatalf("%s limit %d: page %d has %d items but a next cursor", what, limit, page, len(xs))
		}
		if len(xs) == 0 && page > 1 {
			t.Fatalf("%s limit %d: empty page %d after cursor %q", what, limit, page, cursor)
		}
		for _, x := range xs {
			if p, dup := seen[x.ID]; dup {
				t.Fatalf("%s limit %d: %s on page %d was already on page %d", what, limit, x.ID, page, p)
			}
			seen[x.ID] = page
			got = append(got, x.ID)
		}
		if next == "" {
			return got
		}
		cursor = next
	}
}

// testFindingSortScopes checks every sort, both directions, on the three
// scopes of a findings list (repository, project, scan; app/findings/lists.go
// Target): the order is the documented one and the keyset pages of any size
// put together are exactly the full sorted list. Postgres serves the
// scopes with different plans (docs/benchmarks.md: project-wide lists sort
// every match, repository lists read a per-repository index); bbolt seeks a
// repository's meta records but walks every record for a project.
func testFindingSortScopes(t *testing.T, f *fixture) {
	u := f.user()
	p := f.project(u.ID)
	r1, r2 := f.repo(p), f.repo(p)
	// Scans of the two repositories alternate in time, so a project-wide
	// first_seen or last_seen order interleaves the repositories. ULIDs of
	// one millisecond compare by their random part: a later millisecond
	// keeps the alternation.
	var scans1, scans2 []*store.Scan
	for range 2 {
		scans1 = append(scans1, f.scan(r1, store.ScanCompleted))
		time.Sleep(2 * time.Millisecond)
		scans2 = append(scans2, f.scan(r2, store.ScanCompleted))
		time.Sleep(2 * time.Millisecond)
	}
	// Both repositories share paths, so equal keys on equal paths across
	// repositories fall to the ID. Paths differ only in case, in a space,
	// in non-ASCII bytes: byte-wise order, not a locale's.
	paths := []string{"src/z.go", "README.md", "src/Z.go", "lib/a.go", "src/a b/é.go", "src/z.go.bak", "Src/z.go"}
	rules := []string{"aws-access-token", "", "sql-injection", "Xss", "generic-api-key"}
	sevs := []string{store.SeverityCritical, store.SeverityInfo, store.SeverityHigh, store.SeverityLow, store.SeverityMedium}
	statuses := []string{store.FindingOpen, store.FindingFixed, store.FindingConfirmed, store.FindingDismissed}
	mk := func(r *store.Repository, scans []*store.Scan, i int) *store.Finding {
		// Coprime cycles (7 paths, 5 rules, 5 severities, 4 statuses, 2
		// scans) so every key has ties and the ties differ per key.
		first, last := scans[i%2].ID, scans[(i/2)%2].ID
		if first > last {
			first, last = last, first
		}
		return f.finding(r, last, func(x *store.Finding) {
			x.FilePath, x.RuleID, x.Severity, x.Status = paths[i%7], rules[(i/3)%5], sevs[(i*3)%5], statuses[(i/2)%4]
			x.FirstSeenScanID, x.LastSeenScanID = first, last
		})
	}
	var inRepo1, inProject []*store.Finding
	for i := range 24 {
		// Created alternately, so neither repository's findings are all
		// older than the other's (IDs break ties).
		a, b := mk(r1, scans1, i), mk(r2, scans2, i+1)
		inRepo1 = append(inRepo1, a)
		inProject = append(inProject, a, b)
	}
	// What the scan reported: half of r1's findings; r1's other findings
	// and every finding of r2 are outside the scan.
	scan := scans1[1]
	var inScan []*store.Finding
	for i, x := range inRepo1 {
		if i%3 != 1 {
			must(t, f.s.PutScanFinding(f.ctx, store.ScanFinding{ScanID: scan.ID, Key: x.Fingerprint, FindingID: x.ID}), "PutScanFinding")
			inScan = append(inScan, x)
		}
	}
	must(t, f.s.PutScanFinding(f.ctx, store.ScanFinding{ScanID: scans1[0].ID, Key: inRepo1[1].Fingerprint, FindingID: inRepo1[1].ID}), "PutScanFinding")
	// Outside every scope under test, with the same paths and keys: another
	// project of the same owner, and another owner.
	for i := range 5 {
		mk(f.repo(f.project(u.ID)), scans1, i)
		other := f.user()
		mk(f.repo(f.project(other.ID)), scans1, i)
	}

	scopes := []struct {
		name string
		flt  store.FindingFilter
		want []*store.Finding
	}{
		{"repository", store.FindingFilter{RepositoryID: r1.ID}, inRepo1},
		{"project", store.FindingFilter{ProjectID: p.ID}, inProject},
		{"scan", store.FindingFilter{ScanID: scan.ID}, inScan},
	}
	// The data must make the checks mean something: the project list
	// interleaves its repositories under every key (a store that listed
	// one repository after the other would fail). first_seen and last_seen
	// switch at least 3 times (scans A1 < B1 < A2 < B2, one repository
	// each), the other keys far more often.
	repoOf := map[string]string{}
	for _, x := range inProject {
		repoOf[x.ID] = x.RepositoryID
	}
	sc := store.OwnedBy(u.ID)
	for _, key := range store.FindingSortKeys {
		for _, spelled := range []string{key, "-" + key} {
			srt, ok := store.ParseFindingSort(spelled)
			if !ok {
				t.Fatalf("ParseFindingSort(%q) failed", spelled)
			}
			order := refOrder(spelled, inProject)
			switches := 0
			for i := 1; i < len(order); i++ {
				if repoOf[order[i]] != repoOf[order[i-1]] {
					switches++
				}
			}
			if switches < 3 {
				t.Fatalf("test data: sort %s switches repository only %d times in the project list", spelled, switches)
			}
			for _, s := range scopes {
				for _, only := range [][]string{nil, {store.FindingOpen, store.FindingDismissed}} {
					var match []*store.Finding
					for _, x := range s.want {
						if only == nil || slices.Contains(only, x.Status) {
							match = append(match, x)
						}
					}
					want := refOrder(spelled, match)
					flt := s.flt
					flt.Sort, flt.Statuses = srt, only
					what := fmt.Sprintf("%s list, sort %s, statuses %v", s.name, spelled, only)
					n := len(want)
					// 1 and 2 cross every tie; (n+1)/2 is page 1 + page 2;
					// n-1, n and n+1 end on, at and past the last row.
					for _, limit := range []int{1, 2, 5, (n + 1) / 2, n - 1, n, n + 1} {
						sameOrder(t, want, listPaged(t, f, sc, flt, limit, what), fmt.Sprintf("%s, pages of %d", what, limit))
					}
				}
			}
		}
	}
}
