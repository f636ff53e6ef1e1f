package findings_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// meddlingStore changes a finding's triage after the bulk triage's filter
// has selected it and before its transaction starts: another user's triage
// landing in between.
type meddlingStore struct {
	store.Store
	meddle func()
}

func (m meddlingStore) TriageFindings(ctx context.Context, sc store.Scope, ids []string, fn func(*store.Finding) *store.FindingHistory) (int, []string, error) {
	if m.meddle != nil {
		m.meddle()
	}
	return m.Store.TriageFindings(ctx, sc, ids, fn)
}

func TestBulkTriagePrevious(t *testing.T) { scantest.Stores(t, bulkTriagePrevious) }

// bulkTriagePrevious: a bulk triage answers the changed findings grouped by
// the triage each had, as its transaction saw it (not as the filter did),
// and sending each restorable group back puts every finding back.
func bulkTriagePrevious(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	f := newFixture(t, open)
	env, u, repo := f.env, f.user, f.repo
	s := f.scan(t, "secrets")
	sc := store.OwnedBy(u.ID)
	type before struct{ status, reason, note string }
	kinds := []before{
		{store.FindingOpen, "", ""},
		{store.FindingOpen, "", "looked at"},
		{store.FindingConfirmed, "", ""},
		{store.FindingDismissed, store.DismissWontFix, "legacy"},
		{store.FindingDismissed, store.DismissSuppressedInSource, ""},
		{store.FindingFixed, "", ""},
		{store.FindingDismissed, store.DismissFalsePositive, ""}, // already the target: unchanged
	}
	var all []store.Finding
	byKind := map[before][]string{}
	for i := range 3 * len(kinds) {
		k := kinds[i%len(kinds)]
		now := time.Now().UTC().Truncate(time.Microsecond)
		x := store.Finding{ID: store.NewID(store.PrefixFinding), ScanID: s.ID, RepositoryID: repo.ID, ProjectID: repo.ProjectID, OwnerUserID: u.ID,
			Fingerprint: fmt.Sprintf("fp-%d", i), Engine: "secrets", Title: fmt.Sprintf("F%d", i), Severity: store.SeverityHigh, Confidence: "high",
			Category: "r", RuleID: "r", FilePath: "a.go", Status: k.status, DismissedReason: k.reason, TriageNote: k.note,
			FirstSeenScanID: s.ID, LastSeenScanID: s.ID, CreatedAt: now, UpdatedAt: now}
		if err := env.Store.CreateFinding(ctx, &x); err != nil {
			t.Fatal(err)
		}
		all = append(all, x)
		byKind[k] = append(byKind[k], x.ID)
	}
	// Between the filter's read and the transaction, someone confirms one
	// open finding: the answer must say confirmed, the filter saw open.
	moved := byKind[kinds[0]][0]
	meddle := meddlingStore{Store: env.Store}
	meddle.meddle = func() {
		meddle.meddle = nil
		if _, err := env.Store.UpdateFinding(ctx, sc, moved, func(x *store.Finding) error { x.Status = store.FindingConfirmed; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	svc := findings.NewService(&meddle, nil)
	res, err := svc.BulkTriage(ctx, sc, u.ID, findings.BulkTriage{Filter: &findings.BulkFilter{RepositoryID: repo.ID},
		Triage: findings.Triage{Status: store.FindingDismissed, DismissedReason: store.DismissFalsePositive}})
	if err != nil {
		t.Fatal(err)
	}
	sorted := func(ids ...[]string) []string {
		var out []string
		for _, x := range ids {
			out = append(out, x...)
		}
		return slices.Sorted(slices.Values(out))
	}
	openIDs := sorted(byKind[kinds[0]][1:], byKind[kinds[1]])
	want := []findings.BulkPrevious{
		{IDs: openIDs, Status: store.FindingOpen, Restorable: true},
		{IDs: sorted(byKind[kinds[2]], []string{moved}), Status: store.FindingConfirmed, Restorable: true},
		{IDs: sorted(byKind[kinds[4]]), Status: store.FindingDismissed, DismissedReason: store.DismissSuppressedInSource},
		{IDs: sorted(byKind[kinds[3]]), Status: store.FindingDismissed, DismissedReason: store.DismissWontFix, Restorable: true},
		{IDs: sorted(byKind[kinds[5]]), Status: store.FindingFixed},
	}
	if n := len(all) - 3; res.Matched != len(all) || res.Changed != n || res.Unchanged != 3 || !reflect.DeepEqual(res.Previous, want) {
		t.Fatalf("bulk: matched %d changed %d unchanged %d\nprevious %+v\nwant     %+v", res.Matched, res.Changed, res.Unchanged, res.Previous, want)
	}

	// Undo: each restorable group back by its ids, as the dashboard does.
	for _, g := range res.Previous {
		if !g.Restorable {
			continue
		}
		r, err := svc.BulkTriage(ctx, sc, u.ID, findings.BulkTriage{IDs: g.IDs, Triage: findings.Triage{Status: g.Status, DismissedReason: g.DismissedReason, Note: g.Note}})
		if err != nil || r.Changed != len(g.IDs) {
			t.Fatalf("undo %s/%s: %+v %v", g.Status, g.DismissedReason, r, err)
		}
	}
	for _, x := range all {
		got, err := env.Store.GetFinding(ctx, sc, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := before{x.Status, x.DismissedReason, x.TriageNote}
		switch {
		case x.ID == moved:
			want.status = store.FindingConfirmed
		case x.Status == store.FindingFixed || x.DismissedReason == store.DismissSuppressedInSource:
			want = before{store.FindingDismissed, store.DismissFalsePositive, x.TriageNote} // not restorable: left as triaged
		}
		if g := (before{got.Status, got.DismissedReason, got.TriageNote}); g != want {
			t.Fatalf("%s after undo: %+v, want %+v", x.ID, g, want)
		}
	}

	// With a note, the groups also split by the note each had, and undo
	// puts the notes back.
	note := "bulk note"
	ids := sorted(byKind[kinds[0]][1:], byKind[kinds[1]], byKind[kinds[3]])
	res, err = svc.BulkTriage(ctx, sc, u.ID, findings.BulkTriage{IDs: ids, Triage: findings.Triage{Status: store.FindingConfirmed, Note: &note}})
	if err != nil {
		t.Fatal(err)
	}
	empty, looked, legacy := "", "looked at", "legacy"
	wantNoted := []findings.BulkPrevious{
		{IDs: sorted(byKind[kinds[0]][1:]), Status: store.FindingOpen, Note: &empty, Restorable: true},
		{IDs: sorted(byKind[kinds[1]]), Status: store.FindingOpen, Note: &looked, Restorable: true},
		{IDs: sorted(byKind[kinds[3]]), Status: store.FindingDismissed, DismissedReason: store.DismissWontFix, Note: &legacy, Restorable: true},
	}
	if !reflect.DeepEqual(res.Previous, wantNoted) {
		t.Fatalf("previous with a note: %+v", res.Previous)
	}
	// Nothing changed: no groups, and an empty list rather than null.
	res, err = svc.BulkTriage(ctx, sc, u.ID, findings.BulkTriage{IDs: ids, Triage: findings.Triage{Status: store.FindingConfirmed, Note: &note}})
	if err != nil || res.Changed != 0 || res.Previous == nil || len(res.Previous) != 0 {
		t.Fatalf("repeat: %+v %v", res, err)
	}
}

func TestConcurrentBulkTriagesChainTheirPrevious(t *testing.T) {
	scantest.Stores(t, concurrentBulkTriagesChainTheirPrevious)
}

// concurrentBulkTriagesChainTheirPrevious: two bulk triages of the same
// findings at once. Whichever ran second must report the first one's result
// as previous for every finding, never the state both started from.
func concurrentBulkTriagesChainTheirPrevious(t *testing.T, open func(testing.TB) *scantest.Env) {
	ctx := context.Background()
	f := newFixture(t, open)
	env, u, repo := f.env, f.user, f.repo
	s := f.scan(t, "secrets")
	sc := store.OwnedBy(u.ID)
	var ids []string
	for i := range 300 {
		now := time.Now().UTC().Truncate(time.Microsecond)
		x := store.Finding{ID: store.NewID(store.PrefixFinding), ScanID: s.ID, RepositoryID: repo.ID, ProjectID: repo.ProjectID, OwnerUserID: u.ID,
			Fingerprint: fmt.Sprintf("fp-%d", i), Engine: "secrets", Title: "F", Severity: store.SeverityHigh, Confidence: "high",
			Category: "r", RuleID: "r", FilePath: "a.go", Status: store.FindingOpen, FirstSeenScanID: s.ID, LastSeenScanID: s.ID, CreatedAt: now, UpdatedAt: now}
		if err := env.Store.CreateFinding(ctx, &x); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, x.ID)
	}
	svc := findings.NewService(env.Store, nil)
	for round := range 3 {
		triages := []findings.Triage{{Status: store.FindingConfirmed}, {Status: store.FindingDismissed, DismissedReason: store.DismissWontFix}}
		results := make([]*findings.BulkResult, 2)
		var wg sync.WaitGroup
		for i, tr := range triages {
			wg.Go(func() {
				res, err := svc.BulkTriage(ctx, sc, u.ID, findings.BulkTriage{Filter: &findings.BulkFilter{RepositoryID: repo.ID}, Triage: tr})
				if err != nil {
					t.Error(err)
				}
				results[i] = res
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		// prev[i][id] is what triage i replaced.
		prev := [2]map[string]string{{}, {}}
		for i, res := range results {
			for _, g := range res.Previous {
				for _, id := range g.IDs {
					prev[i][id] = g.Status + "/" + g.DismissedReason
				}
			}
		}
		name := []string{"confirmed/", "dismissed/wont_fix"}
		for _, id := range ids {
			got, err := env.Store.GetFinding(ctx, sc, id)
			if err != nil {
				t.Fatal(err)
			}
			last := 0
			if got.Status == store.FindingDismissed {
				last = 1
			}
			first := 1 - last
			// The one that ran last replaced the other's result…
			if prev[last][id] != name[first] {
				t.Fatalf("round %d, %s ends %s: the last triage replaced %q, want %q", round, id, got.Status, prev[last][id], name[first])
			}
			// and the first replaced the round's starting state, unless it
			// already had the first's status: open in round 0, then what the
			// previous round left.
			p, ok := prev[first][id]
			if round == 0 && p != "open/" || round > 0 && ok && p != name[last] {
				t.Fatalf("round %d, %s: the first triage replaced %q", round, id, p)
			}
		}
	}
}
