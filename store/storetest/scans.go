package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

func testScans(t *testing.T, f *fixture) {
	u, v := f.user(), f.user()
	p := f.project(u.ID)
	r1, r2 := f.repo(p), f.repo(p)
	p2 := f.project(u.ID)
	r3 := f.repo(p2)

	sc := f.scan(r1, store.ScanQueued)
	checkStored(t, "GetScan", sc, func() (*store.Scan, error) { return f.s.GetScan(f.ctx, store.OwnedBy(u.ID), sc.ID) },
		func(x *store.Scan) error { return f.s.CreateScan(f.ctx, x) })
	_, err := f.s.GetScan(f.ctx, store.System(), store.NewID(store.PrefixScan))
	wantErr(t, err, store.ErrNotFound, "GetScan missing")

	running := f.scan(r1, store.ScanRunning)
	done := f.scan(r2, store.ScanCompleted)
	other := f.scan(r3, store.ScanQueued)
	f.scan(f.repo(f.project(v.ID)), store.ScanRunning) // another user's active scan

	cases := []filterCase[store.ScanFilter]{
		{"all", store.ScanFilter{}, []string{sc.ID, running.ID, done.ID, other.ID}},
		{"project", store.ScanFilter{ProjectID: p.ID}, []string{sc.ID, running.ID, done.ID}},
		{"repository", store.ScanFilter{RepositoryID: r1.ID}, []string{sc.ID, running.ID}},
		{"statuses", store.ScanFilter{Statuses: []store.ScanStatus{store.ScanQueued, store.ScanCompleted}}, []string{sc.ID, done.ID, other.ID}},
		{"project+status", store.ScanFilter{ProjectID: p.ID, Statuses: []store.ScanStatus{store.ScanQueued}}, []string{sc.ID}},
		{"nothing", store.ScanFilter{RepositoryID: r3.ID, Statuses: []store.ScanStatus{store.ScanRunning}}, nil},
	}
	for _, c := range cases {
		xs, next, err := f.s.ListScans(f.ctx, store.OwnedBy(u.ID), c.f, store.Page{})
		checkOnePage(t, "ListScans "+c.name, c.want, ids(xs, func(x store.Scan) string { return x.ID }), next, err)
	}
	checkPages(t, []string{sc.ID, running.ID, done.ID, other.ID}, 3, func(pg store.Page) ([]string, string, error) {
		xs, next, err := f.s.ListScans(f.ctx, store.OwnedBy(u.ID), store.ScanFilter{}, pg)
		return ids(xs, func(x store.Scan) string { return x.ID }), next, err
	})

	n, err := f.s.CountActiveScans(f.ctx, u.ID)
	must(t, err, "CountActiveScans")
	if n != 3 { // sc, running, other
		t.Fatalf("CountActiveScans = %d, want 3", n)
	}
	if n, _ := f.s.CountActiveScans(f.ctx, v.ID); n != 1 {
		t.Fatalf("CountActiveScans(other user) = %d, want 1", n)
	}

	started, hb := f.tick(), f.tick()
	upd, err := f.s.UpdateScan(f.ctx, store.OwnedBy(u.ID), sc.ID, func(x *store.Scan) error {
		x.Status = store.ScanRunning
		x.StartedAt, x.HeartbeatAt = &started, &hb
		x.Progress = store.ScanProgress{Percent: 40, Message: "auditing", Component: "api", ComponentsDone: 2, ComponentsTotal: 5}
		x.Stages = []store.StageResult{{Engine: "gitleaks", Stage: "scan", Status: "succeeded"}}
		x.Usage = store.Usage{Requests: 3, InputTokens: 1000, CachedInputTokens: 200, OutputTokens: 50, CostUSD: 0.0125}
		x.FindingCounts = store.SeverityCounts{High: 2, Low: 1}
		x.Artifacts = []store.Artifact{{Name: "report.sarif", Size: 1234, Key: "scans/x/report.sarif"}}
		x.CancelRequestedAt, x.CancelRequestedBy = &hb, v.ID
		x.Error = &store.ScanError{Code: store.ScanErrEngineFailed, Message: "partial"}
		return nil
	})
	must(t, err, "UpdateScan")
	got, err := f.s.GetScan(f.ctx, store.System(), sc.ID)
	must(t, err, "read back")
	assertSame(t, upd, got, "scan after update")
	if got.Usage.CostUSD != 0.0125 || got.Progress.Percent != 40 || got.CancelRequestedBy != v.ID || got.Error.Code != store.ScanErrEngineFailed {
		t.Fatalf("scan after update: %+v", got)
	}
	xs, _, _ := f.s.ListScans(f.ctx, store.OwnedBy(u.ID), store.ScanFilter{Statuses: []store.ScanStatus{store.ScanQueued}}, store.Page{})
	sameOrder(t, []string{other.ID}, ids(xs, func(x store.Scan) string { return x.ID }), "queued scans after status change")

	checkAbortedUpdate(t, "UpdateScan", func() (*store.Scan, error) { return f.s.GetScan(f.ctx, store.System(), sc.ID) },
		func(fn func(*store.Scan) error) (*store.Scan, error) {
			return f.s.UpdateScan(f.ctx, store.System(), sc.ID, fn)
		},
		func(x *store.Scan) { x.Status = store.ScanCompleted })

	fin := f.tick()
	_, err = f.s.UpdateScan(f.ctx, store.System(), running.ID, func(x *store.Scan) error {
		x.Status, x.FinishedAt, x.StopReason = store.ScanFailed, &fin, store.StopError
		x.Error = &store.ScanError{Code: store.ScanErrEngineFailed, Message: "boom"}
		return nil
	})
	must(t, err, "UpdateScan to failed")
	if n, _ := f.s.CountActiveScans(f.ctx, u.ID); n != 2 {
		t.Fatalf("CountActiveScans after a scan failed = %d, want 2", n)
	}
	_, err = f.s.UpdateScan(f.ctx, store.System(), store.NewID(store.PrefixScan), func(*store.Scan) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateScan missing")
}

// ClaimAs is the claim the contract drives ClaimNextScan with (exported for
// store-specific tests). What a claim
// writes is app/scans' rule; the store must pick the right scan, save exactly
// what claim wrote, and do both atomically.
func ClaimAs(worker string, at time.Time) func(*store.Scan) error {
	return func(x *store.Scan) error {
		if x.Status != store.ScanQueued {
			return fmt.Errorf("claim handed a %s scan", x.Status)
		}
		x.Status, x.ClaimedBy = store.ScanClaimed, worker
		x.Attempt++
		x.ClaimedAt, x.HeartbeatAt = &at, &at
		return nil
	}
}

func testClaimNextScan(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	now := f.tick()
	_, err := f.s.ClaimNextScan(f.ctx, ClaimAs("wrk_a", now))
	wantErr(t, err, store.ErrNotFound, "ClaimNextScan with nothing queued")

	idsAsc := ascendingIDs(store.PrefixScan, 4)
	oldest := f.scanWithID(idsAsc[0], r, store.ScanQueued)
	f.scanWithID(idsAsc[1], r, store.ScanRunning) // not queued: never claimed
	middle := f.scanWithID(idsAsc[2], r, store.ScanQueued)
	newest := f.scanWithID(idsAsc[3], r, store.ScanQueued)

	// A claim that refuses aborts: nothing is saved, its error comes back as is.
	_, err = f.s.ClaimNextScan(f.ctx, func(x *store.Scan) error {
		x.Status, x.ClaimedBy = store.ScanClaimed, "wrk_x"
		return errAbort
	})
	wantErr(t, err, errAbort, "ClaimNextScan callback error")
	stored, _ := f.s.GetScan(f.ctx, store.System(), oldest.ID)
	assertSame(t, oldest, stored, "scan after an aborted claim")

	claimAt := f.tick()
	got, err := f.s.ClaimNextScan(f.ctx, func(x *store.Scan) error {
		x.ID, x.OwnerUserID = "scan_other", "usr_other" // identity is not the claim's to change
		return ClaimAs("wrk_a", claimAt)(x)
	})
	must(t, err, "ClaimNextScan")
	if got.ID != oldest.ID || got.OwnerUserID != oldest.OwnerUserID {
		t.Fatalf("claimed %s of %s, want the oldest queued %s of %s", got.ID, got.OwnerUserID, oldest.ID, oldest.OwnerUserID)
	}
	if got.Status != store.ScanClaimed || got.ClaimedBy != "wrk_a" || got.Attempt != 1 {
		t.Fatalf("claimed scan = status %s by %q attempt %d", got.Status, got.ClaimedBy, got.Attempt)
	}
	sameTime(t, claimAt, got.ClaimedAt, "claimed_at")
	sameTime(t, claimAt, got.HeartbeatAt, "heartbeat_at")
	stored, _ = f.s.GetScan(f.ctx, store.System(), oldest.ID)
	assertSame(t, got, stored, "stored claimed scan")
	xs, _, _ := f.s.ListScans(f.ctx, store.System(), store.ScanFilter{Statuses: []store.ScanStatus{store.ScanQueued}}, store.Page{})
	sameSet(t, []string{middle.ID, newest.ID}, ids(xs, func(x store.Scan) string { return x.ID }), "queued scans after a claim")

	// A re-queued scan (recovery) keeps counting attempts.
	_, err = f.s.UpdateScan(f.ctx, store.System(), oldest.ID, func(x *store.Scan) error {
		x.Status, x.ClaimedBy = store.ScanQueued, ""
		return nil
	})
	must(t, err, "requeue")
	got, err = f.s.ClaimNextScan(f.ctx, ClaimAs("wrk_b", f.tick()))
	must(t, err, "ClaimNextScan requeued")
	if got.ID != oldest.ID || got.Attempt != 2 || got.ClaimedBy != "wrk_b" {
		t.Fatalf("reclaimed %s attempt %d by %q, want %s attempt 2 by wrk_b", got.ID, got.Attempt, got.ClaimedBy, oldest.ID)
	}
	for _, want := range []string{middle.ID, newest.ID} {
		got, err = f.s.ClaimNextScan(f.ctx, ClaimAs("wrk_a", f.tick()))
		must(t, err, "ClaimNextScan")
		if got.ID != want {
			t.Fatalf("claimed %s, want %s", got.ID, want)
		}
	}
	_, err = f.s.ClaimNextScan(f.ctx, ClaimAs("wrk_a", f.tick()))
	wantErr(t, err, store.ErrNotFound, "ClaimNextScan after all claimed")
}

func testClaimNextScanConcurrent(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	const scans, workers = 40, 8
	want := map[string]bool{}
	for range scans {
		want[f.scan(r, store.ScanQueued).ID] = true
	}
	now := f.tick()
	var mu sync.Mutex
	claimed := map[string]int{}
	Parallel(t, workers, func(w int) error {
		for {
			sc, err := f.s.ClaimNextScan(f.ctx, ClaimAs("wrk_"+string(rune('a'+w)), now))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("concurrent ClaimNextScan: %w", err)
			}
			mu.Lock()
			claimed[sc.ID]++
			mu.Unlock()
		}
	})
	if len(claimed) != scans {
		t.Fatalf("%d distinct scans claimed, want %d", len(claimed), scans)
	}
	for id, n := range claimed {
		if n != 1 || !want[id] {
			t.Fatalf("scan %s claimed %d times (known: %v)", id, n, want[id])
		}
		sc, err := f.s.GetScan(f.ctx, store.System(), id)
		must(t, err, "GetScan")
		if sc.Attempt != 1 || sc.Status != store.ScanClaimed {
			t.Fatalf("scan %s: attempt %d status %s", id, sc.Attempt, sc.Status)
		}
	}
}

func testListHeldScans(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	got, err := f.s.ListHeldScans(f.ctx)
	must(t, err, "ListHeldScans empty")
	if got == nil || len(got) != 0 {
		t.Fatalf("ListHeldScans on an empty store = %#v, want an empty list", got)
	}
	idsAsc := ascendingIDs(store.PrefixScan, 7)
	claimed := f.scanWithID(idsAsc[0], r, store.ScanClaimed)
	f.scanWithID(idsAsc[1], r, store.ScanQueued)
	running := f.scanWithID(idsAsc[2], r, store.ScanRunning)
	f.scanWithID(idsAsc[3], r, store.ScanCompleted)
	f.scanWithID(idsAsc[4], r, store.ScanFailed)
	f.scanWithID(idsAsc[5], r, store.ScanCancelled)
	claimed2 := f.scanWithID(idsAsc[6], f.repo(f.project(f.user().ID)), store.ScanClaimed) // any owner

	got, err = f.s.ListHeldScans(f.ctx)
	must(t, err, "ListHeldScans")
	sameOrder(t, []string{claimed.ID, running.ID, claimed2.ID}, ids(got, func(x store.Scan) string { return x.ID }), "held scans, oldest first")
	assertSame(t, running, &got[1], "held scan")
}
