package storetest

import (
	"testing"

	"github.com/vegasec/vega/store"
)

// testScoping: another user's objects are ErrNotFound (never "forbidden", so
// existence does not leak), System sees them, the zero Scope sees nothing.
func testScoping(t *testing.T, f *fixture) {
	owner, other := f.user(), f.user()
	p := f.project(owner.ID)
	r := f.repo(p)
	sn := f.snapshot(r)
	sc := f.scan(r, store.ScanQueued)
	fd := f.finding(r, sc.ID, nil)
	tp := &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: r.ID, OwnerUserID: owner.ID,
		Status: store.ProfileReady, Source: store.ProfileSourceGenerated, UpdatedAt: f.tick(), UpdatedBy: "system"}
	must(t, f.s.PutThreatProfile(f.ctx, tp), "PutThreatProfile")
	up := &store.GitUpload{ID: store.NewID(store.PrefixGitUpload), UserID: owner.ID, ProjectID: p.ID,
		RepositoryName: "pushed", TokenHash: "tok-hash", ExpiresAt: f.tick(), Status: store.GitUploadWaiting, CreatedAt: f.tick()}
	must(t, f.s.CreateGitUpload(f.ctx, up), "CreateGitUpload")

	getters := []struct {
		name string
		get  func(store.Scope) error
	}{
		{"project", func(s store.Scope) error { _, err := f.s.GetProject(f.ctx, s, p.ID); return err }},
		{"repository", func(s store.Scope) error { _, err := f.s.GetRepository(f.ctx, s, r.ID); return err }},
		{"snapshot", func(s store.Scope) error { _, err := f.s.GetSnapshot(f.ctx, s, sn.ID); return err }},
		{"threat profile", func(s store.Scope) error { _, err := f.s.GetThreatProfile(f.ctx, s, r.ID); return err }},
		{"scan", func(s store.Scope) error { _, err := f.s.GetScan(f.ctx, s, sc.ID); return err }},
		{"finding", func(s store.Scope) error { _, err := f.s.GetFinding(f.ctx, s, fd.ID); return err }},
		{"git upload", func(s store.Scope) error { _, err := f.s.GetGitUpload(f.ctx, s, up.ID); return err }},
		{"project stats", func(s store.Scope) error { _, err := f.s.ProjectStats(f.ctx, s, p.ID); return err }},
	}
	for _, g := range getters {
		t.Run(g.name, func(t *testing.T) {
			must(t, g.get(store.OwnedBy(owner.ID)), "owner")
			must(t, g.get(store.System()), "system")
			wantErr(t, g.get(store.OwnedBy(other.ID)), store.ErrNotFound, "other user")
			wantErr(t, g.get(store.Scope{}), store.ErrNotFound, "zero scope")
			wantErr(t, g.get(store.OwnedBy("")), store.ErrNotFound, "empty user ID")
		})
	}

	lists := []struct {
		name string
		n    func(store.Scope) (int, error)
	}{
		{"projects", func(s store.Scope) (int, error) {
			xs, _, err := f.s.ListProjects(f.ctx, s, store.Page{})
			return len(xs), err
		}},
		{"repositories", func(s store.Scope) (int, error) {
			xs, _, err := f.s.ListRepositories(f.ctx, s, p.ID, store.Page{})
			return len(xs), err
		}},
		{"snapshots", func(s store.Scope) (int, error) {
			xs, _, err := f.s.ListSnapshots(f.ctx, s, r.ID, store.Page{})
			return len(xs), err
		}},
		{"scans", func(s store.Scope) (int, error) {
			xs, _, err := f.s.ListScans(f.ctx, s, store.ScanFilter{}, store.Page{})
			return len(xs), err
		}},
		{"findings", func(s store.Scope) (int, error) {
			xs, _, err := f.s.ListFindings(f.ctx, s, store.FindingFilter{}, store.Page{})
			return len(xs), err
		}},
		{"finding counts", func(s store.Scope) (int, error) {
			c, err := f.s.CountFindings(f.ctx, s, store.FindingFilter{})
			return c.Total(), err
		}},
	}
	for _, l := range lists {
		t.Run("list "+l.name, func(t *testing.T) {
			for _, c := range []struct {
				sc   store.Scope
				want int
				who  string
			}{{store.OwnedBy(owner.ID), 1, "owner"}, {store.System(), 1, "system"},
				{store.OwnedBy(other.ID), 0, "other user"}, {store.Scope{}, 0, "zero scope"}} {
				n, err := l.n(c.sc)
				must(t, err, c.who)
				if n != c.want {
					t.Fatalf("%s sees %d, want %d", c.who, n, c.want)
				}
			}
		})
	}

	// Writes through a foreign scope fail and change nothing.
	foreign := store.OwnedBy(other.ID)
	touch := func(what string, err error) {
		t.Helper()
		wantErr(t, err, store.ErrNotFound, what+" through another user's scope")
	}
	_, err := f.s.UpdateProject(f.ctx, foreign, p.ID, func(x *store.Project) error { x.Name = "pwned"; return nil })
	touch("UpdateProject", err)
	_, err = f.s.UpdateRepository(f.ctx, foreign, r.ID, func(x *store.Repository) error { x.Name = "pwned"; return nil })
	touch("UpdateRepository", err)
	_, err = f.s.UpdateScan(f.ctx, foreign, sc.ID, func(x *store.Scan) error { x.Status = store.ScanCancelled; return nil })
	touch("UpdateScan", err)
	_, err = f.s.UpdateFinding(f.ctx, foreign, fd.ID, func(x *store.Finding) error { x.Status = store.FindingDismissed; return nil })
	touch("UpdateFinding", err)
	touch("DeleteRepository", f.s.DeleteRepository(f.ctx, foreign, r.ID))
	touch("DeleteProject", f.s.DeleteProject(f.ctx, foreign, p.ID))
	touch("DeleteProject zero scope", f.s.DeleteProject(f.ctx, store.Scope{}, p.ID))

	gotP, _ := f.s.GetProject(f.ctx, store.System(), p.ID)
	gotR, _ := f.s.GetRepository(f.ctx, store.System(), r.ID)
	gotS, _ := f.s.GetScan(f.ctx, store.System(), sc.ID)
	gotF, _ := f.s.GetFinding(f.ctx, store.System(), fd.ID)
	if gotP == nil || gotP.Name == "pwned" || gotR == nil || gotR.Name == "pwned" ||
		gotS == nil || gotS.Status != store.ScanQueued || gotF == nil || gotF.Status != store.FindingOpen {
		t.Fatalf("a foreign-scope write changed data: %+v %+v %+v %+v", gotP, gotR, gotS, gotF)
	}
}
