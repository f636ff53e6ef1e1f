package storetest

import (
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// testFindingTimelines: every finding of the filter with its current state,
// and only the changes at or after since, oldest first; scope applies.
func testFindingTimelines(t *testing.T, f *fixture) {
	u, other := f.user(), f.user()
	p, p2 := f.project(u.ID), f.project(other.ID)
	r, r2, r3 := f.repo(p), f.repo(p), f.repo(p2)
	a := f.finding(r, "", func(x *store.Finding) { x.Severity, x.Status = store.SeverityCritical, store.FindingFixed })
	b := f.finding(r2, "", func(x *store.Finding) { x.Severity = store.SeverityLow })
	f.finding(r3, "", nil) // another owner's project
	old, since := f.tick(), f.tick()
	mid, last := f.tick(), f.tick()
	for _, h := range []store.FindingHistory{
		{FindingID: a.ID, FromStatus: "", ToStatus: store.FindingOpen, At: old},
		{FindingID: a.ID, FromStatus: store.FindingDismissed, ToStatus: store.FindingFixed, At: last},
		{FindingID: a.ID, FromStatus: store.FindingOpen, ToStatus: store.FindingDismissed, At: mid},
		{FindingID: b.ID, FromStatus: "", ToStatus: store.FindingOpen, At: since},
	} {
		must(t, f.s.AppendFindingHistory(f.ctx, &h), "AppendFindingHistory")
	}

	got, err := f.s.FindingTimelines(f.ctx, store.OwnedBy(u.ID), store.FindingFilter{ProjectID: p.ID}, since)
	must(t, err, "FindingTimelines")
	byID := map[string]store.FindingTimeline{}
	for _, x := range got {
		byID[x.ID] = x
	}
	if len(got) != 2 || len(byID) != 2 {
		t.Fatalf("timelines = %+v, want the project's two findings", got)
	}
	ta, tb := byID[a.ID], byID[b.ID]
	if ta.RepositoryID != r.ID || ta.Severity != store.SeverityCritical || ta.Status != store.FindingFixed {
		t.Fatalf("timeline of a = %+v", ta)
	}
	want := []store.StatusChange{{From: store.FindingOpen, To: store.FindingDismissed, At: mid}, {From: store.FindingDismissed, To: store.FindingFixed, At: last}}
	if len(ta.Changes) != 2 || ta.Changes[0].To != want[0].To || ta.Changes[1].To != want[1].To ||
		!ta.Changes[0].At.Equal(mid) || !ta.Changes[1].At.Equal(last) || ta.Changes[0].From != store.FindingOpen {
		t.Fatalf("changes of a = %+v, want %+v (the change before since left out, oldest first)", ta.Changes, want)
	}
	if tb.RepositoryID != r2.ID || len(tb.Changes) != 1 || tb.Changes[0].From != "" || !tb.Changes[0].At.Equal(since) {
		t.Fatalf("timeline of b = %+v (a change exactly at since is included)", tb)
	}

	got, err = f.s.FindingTimelines(f.ctx, store.OwnedBy(u.ID), store.FindingFilter{RepositoryID: r2.ID}, time.Time{})
	must(t, err, "FindingTimelines of a repository")
	if len(got) != 1 || got[0].ID != b.ID {
		t.Fatalf("repository timelines = %+v", got)
	}
	got, err = f.s.FindingTimelines(f.ctx, store.OwnedBy(other.ID), store.FindingFilter{ProjectID: p.ID}, since)
	wantNone(t, got, err, "FindingTimelines out of scope")
}
