package storetest

import (
	"testing"

	"github.com/vegasec/vega/store"
)

func testProjectStats(t *testing.T, f *fixture) {
	u := f.user()
	p := f.project(u.ID)
	st, err := f.s.ProjectStats(f.ctx, store.OwnedBy(u.ID), p.ID)
	must(t, err, "ProjectStats empty")
	if st.RepositoryCount != 0 || st.ActiveScans != 0 || st.LastScanAt != nil || st.OpenFindingCounts.Total() != 0 {
		t.Fatalf("empty project stats = %+v", st)
	}

	r1, r2 := f.repo(p), f.repo(p)
	otherP := f.project(u.ID)
	otherR := f.repo(otherP)
	f.scan(r1, store.ScanQueued)
	f.scan(r1, store.ScanCompleted)
	f.scan(r2, store.ScanRunning)
	last := f.scan(r2, store.ScanFailed)
	f.scan(otherR, store.ScanClaimed) // other project: newer, must not count
	for _, c := range []struct{ sev, status string }{
		{store.SeverityCritical, store.FindingOpen},
		{store.SeverityHigh, store.FindingConfirmed},
		{store.SeverityHigh, store.FindingOpen},
		{store.SeverityMedium, store.FindingDismissed},
		{store.SeverityLow, store.FindingFixed},
		{store.SeverityInfo, store.FindingOpen},
	} {
		f.finding(r1, "", func(x *store.Finding) { x.Severity, x.Status = c.sev, c.status })
	}
	f.finding(otherR, "", func(x *store.Finding) { x.Severity = store.SeverityCritical })

	st, err = f.s.ProjectStats(f.ctx, store.OwnedBy(u.ID), p.ID)
	must(t, err, "ProjectStats")
	if st.RepositoryCount != 2 || st.ActiveScans != 2 {
		t.Fatalf("stats = %+v, want 2 repositories and 2 active scans", st)
	}
	sameTime(t, last.CreatedAt, st.LastScanAt, "last_scan_at")
	want := store.SeverityCounts{Critical: 1, High: 2, Info: 1}
	if st.OpenFindingCounts != want {
		t.Fatalf("open finding counts = %+v, want %+v", st.OpenFindingCounts, want)
	}
	_, err = f.s.ProjectStats(f.ctx, store.System(), store.NewID(store.PrefixProject))
	wantErr(t, err, store.ErrNotFound, "ProjectStats missing")
}

// tree is a repository with one of everything under it.
type tree struct {
	repo        *store.Repository
	snap        *store.Snapshot
	scan        *store.Scan
	finding     *store.Finding
	job         *store.RunnerJob
	scanKey     string
	fingerprint string
}

func (f *fixture) tree(p *store.Project) tree {
	f.t.Helper()
	r := f.repo(p)
	sn := f.snapshot(r)
	must(f.t, f.s.PutThreatProfile(f.ctx, &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: r.ID,
		OwnerUserID: r.OwnerUserID, Status: store.ProfileReady, Source: store.ProfileSourceGenerated,
		UpdatedAt: f.tick(), UpdatedBy: "system"}), "PutThreatProfile")
	sc := f.scan(r, store.ScanCompleted)
	_, err := f.s.AppendEvents(f.ctx, sc.ID, []store.Event{logEvent("a"), logEvent("b")})
	must(f.t, err, "AppendEvents")
	fd := f.finding(r, sc.ID, nil)
	must(f.t, f.s.PutScanFinding(f.ctx, store.ScanFinding{ScanID: sc.ID, Key: "k", FindingID: fd.ID}), "PutScanFinding")
	must(f.t, f.s.AppendFindingHistory(f.ctx, &store.FindingHistory{ID: store.NewID(store.PrefixHistory), FindingID: fd.ID,
		Actor: "system", ToStatus: store.FindingOpen, At: f.tick()}), "AppendFindingHistory")
	job := &store.RunnerJob{ID: store.NewID(store.PrefixJob), ScanID: sc.ID, Attempt: 1, IdempotencyKey: sc.ID + "-1",
		Status: store.JobStopped, CreatedAt: f.tick()}
	must(f.t, f.s.CreateRunnerJob(f.ctx, job), "CreateRunnerJob")
	return tree{repo: r, snap: sn, scan: sc, finding: fd, job: job, scanKey: "k", fingerprint: fd.Fingerprint}
}

// checkTree asserts nothing of tr can be found any more (present=false) or
// that all of it is still there (present=true).
func (f *fixture) checkTree(t *testing.T, tr tree, present bool) {
	t.Helper()
	sys := store.System()
	check := func(what string, err error) {
		t.Helper()
		if present {
			must(t, err, what+" should still exist")
		} else {
			wantErr(t, err, store.ErrNotFound, what+" after delete")
		}
	}
	_, err := f.s.GetRepository(f.ctx, sys, tr.repo.ID)
	check("repository", err)
	_, err = f.s.GetSnapshot(f.ctx, sys, tr.snap.ID)
	check("snapshot", err)
	_, err = f.s.GetThreatProfile(f.ctx, sys, tr.repo.ID)
	check("threat profile", err)
	_, err = f.s.GetScan(f.ctx, sys, tr.scan.ID)
	check("scan", err)
	_, err = f.s.GetFinding(f.ctx, sys, tr.finding.ID)
	check("finding", err)
	_, err = f.s.GetFindingByFingerprint(f.ctx, tr.repo.ID, tr.fingerprint)
	check("finding by fingerprint", err)
	_, err = f.s.GetScanFinding(f.ctx, tr.scan.ID, tr.scanKey)
	check("scan finding", err)
	_, err = f.s.GetRunnerJob(f.ctx, tr.scan.ID, 1)
	check("runner job", err)

	evs, err := f.s.ListEvents(f.ctx, tr.scan.ID, 0, 10)
	must(t, err, "ListEvents")
	hist, err := f.s.ListFindingHistory(f.ctx, tr.finding.ID)
	must(t, err, "ListFindingHistory")
	if present && (len(evs) != 2 || len(hist) != 1) {
		t.Fatalf("tree lost events (%d) or history (%d)", len(evs), len(hist))
	}
	if !present && (len(evs) != 0 || len(hist) != 0) {
		t.Fatalf("%d events and %d history entries survived the delete", len(evs), len(hist))
	}
}

func testDeleteRepositoryCascade(t *testing.T, f *fixture) {
	u := f.user()
	p := f.project(u.ID)
	doomed, sibling := f.tree(p), f.tree(p)
	f.checkTree(t, doomed, true)

	must(t, f.s.DeleteRepository(f.ctx, store.OwnedBy(u.ID), doomed.repo.ID), "DeleteRepository")
	f.checkTree(t, doomed, false)
	f.checkTree(t, sibling, true)
	wantErr(t, f.s.DeleteRepository(f.ctx, store.OwnedBy(u.ID), doomed.repo.ID), store.ErrNotFound, "DeleteRepository twice")

	st, err := f.s.ProjectStats(f.ctx, store.OwnedBy(u.ID), p.ID)
	must(t, err, "ProjectStats")
	if st.RepositoryCount != 1 || st.OpenFindingCounts.Total() != 1 {
		t.Fatalf("stats after repository delete = %+v", st)
	}
	// The deleted repository's scan no longer counts or lists.
	xs, _, err := f.s.ListScans(f.ctx, store.System(), store.ScanFilter{RepositoryID: doomed.repo.ID}, store.Page{})
	wantNone(t, xs, err, "scans of a deleted repository")
	// Scan-finding links of the deleted scan are gone too.
	counts, err := f.s.CountFindings(f.ctx, store.System(), store.FindingFilter{ScanID: doomed.scan.ID})
	must(t, err, "CountFindings")
	if counts.Total() != 0 {
		t.Fatalf("findings of a deleted scan still counted")
	}
}

func testDeleteProjectCascade(t *testing.T, f *fixture) {
	u := f.user()
	p, keep := f.project(u.ID), f.project(u.ID)
	a, b := f.tree(p), f.tree(p)
	kept := f.tree(keep)

	must(t, f.s.DeleteProject(f.ctx, store.OwnedBy(u.ID), p.ID), "DeleteProject")
	f.checkTree(t, a, false)
	f.checkTree(t, b, false)
	f.checkTree(t, kept, true)
	_, err := f.s.ProjectStats(f.ctx, store.System(), p.ID)
	wantErr(t, err, store.ErrNotFound, "ProjectStats after delete")
	xs, _, err := f.s.ListFindings(f.ctx, store.System(), store.FindingFilter{ProjectID: p.ID}, store.Page{})
	wantNone(t, xs, err, "findings of a deleted project")
	if n, _ := f.s.CountActiveScans(f.ctx, u.ID); n != 0 {
		t.Fatalf("CountActiveScans = %d after delete", n)
	}
}
