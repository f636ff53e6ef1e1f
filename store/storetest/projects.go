package storetest

import (
	"fmt"
	"testing"

	"github.com/vegasec/vega/store"
)

// checkPages walks a list with the given limit and checks it returns exactly
// all (newest first by ID), in pages of limit, with "" as the final cursor.
func checkPages(t *testing.T, all []string, limit int, list func(store.Page) ([]string, string, error)) {
	t.Helper()
	want := newestFirst(all)
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(all)+1 {
			t.Fatalf("pagination does not terminate; cursor %q", cursor)
		}
		page, next, err := list(store.Page{Limit: limit, Cursor: cursor})
		must(t, err, "list page")
		if len(page) > limit {
			t.Fatalf("page of %d items, limit %d", len(page), limit)
		}
		if len(page) == 0 && pages > 0 {
			// The previous page was the last one and should have said so with "".
			t.Fatalf("empty trailing page after cursor %q (limit %d, %d items)", cursor, limit, len(all))
		}
		got = append(got, page...)
		if next == "" {
			break
		}
		if len(page) == 0 || next != page[len(page)-1] {
			t.Fatalf("next cursor %q is not the last ID of the page %v", next, page)
		}
		cursor = next
	}
	sameOrder(t, want, got, "paged list")
}

func testProjects(t *testing.T, f *fixture) {
	u := f.user()
	p := f.project(u.ID)
	got, err := f.s.GetProject(f.ctx, store.OwnedBy(u.ID), p.ID)
	must(t, err, "GetProject")
	assertSame(t, p, got, "GetProject")

	later := f.tick()
	upd, err := f.s.UpdateProject(f.ctx, store.OwnedBy(u.ID), p.ID, func(x *store.Project) error {
		x.Name, x.Description, x.UpdatedAt = "renamed", "new description", later
		return nil
	})
	must(t, err, "UpdateProject")
	if upd.Name != "renamed" {
		t.Fatalf("UpdateProject returned %+v", upd)
	}
	got, err = f.s.GetProject(f.ctx, store.OwnedBy(u.ID), p.ID)
	must(t, err, "read back")
	want := *p
	want.Name, want.Description, want.UpdatedAt = "renamed", "new description", later
	assertSame(t, &want, got, "project after update")

	checkAbortedUpdate(t, "UpdateProject", func() (*store.Project, error) { return f.s.GetProject(f.ctx, store.OwnedBy(u.ID), p.ID) },
		func(fn func(*store.Project) error) (*store.Project, error) {
			return f.s.UpdateProject(f.ctx, store.OwnedBy(u.ID), p.ID, fn)
		},
		func(x *store.Project) { x.Name = "should not stick" })
	_, err = f.s.UpdateProject(f.ctx, store.System(), store.NewID(store.PrefixProject), func(*store.Project) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateProject missing")

	_, err = f.s.GetProject(f.ctx, store.System(), store.NewID(store.PrefixProject))
	wantErr(t, err, store.ErrNotFound, "GetProject missing")
	wantErr(t, f.s.CreateProject(f.ctx, p), store.ErrConflict, "CreateProject same ID")

	must(t, f.s.DeleteProject(f.ctx, store.OwnedBy(u.ID), p.ID), "DeleteProject")
	_, err = f.s.GetProject(f.ctx, store.System(), p.ID)
	wantErr(t, err, store.ErrNotFound, "GetProject after delete")
	wantErr(t, f.s.DeleteProject(f.ctx, store.OwnedBy(u.ID), p.ID), store.ErrNotFound, "DeleteProject twice")
}

func testPagination(t *testing.T, f *fixture) {
	alice, bob := f.user(), f.user()
	var mine []string
	for range 7 {
		mine = append(mine, f.project(alice.ID).ID)
		f.project(bob.ID) // interleaved, must never show up for alice
	}
	list := func(sc store.Scope) func(store.Page) ([]string, string, error) {
		return func(p store.Page) ([]string, string, error) {
			xs, next, err := f.s.ListProjects(f.ctx, sc, p)
			return ids(xs, func(x store.Project) string { return x.ID }), next, err
		}
	}
	for _, limit := range []int{1, 3, 7, 10} {
		checkPages(t, mine, limit, list(store.OwnedBy(alice.ID)))
	}
	// A cursor at the oldest item gives an empty last page.
	page, next, err := f.s.ListProjects(f.ctx, store.OwnedBy(alice.ID), store.Page{Limit: 3, Cursor: newestFirst(mine)[6]})
	must(t, err, "page after the oldest")
	if len(page) != 0 || next != "" {
		t.Fatalf("page after the oldest item: %d items, next %q", len(page), next)
	}
	// A cursor that is not an existing ID still orders correctly (IDs compare as strings).
	page, _, err = f.s.ListProjects(f.ctx, store.OwnedBy(alice.ID), store.Page{Limit: 50, Cursor: "prj_~"})
	must(t, err, "list with a synthetic cursor")
	if len(page) != 7 {
		t.Fatalf("cursor above every ID returned %d items, want 7", len(page))
	}

	// Limit normalisation: <= 0 means DefaultLimit, > MaxLimit means MaxLimit.
	var many []string
	carol := f.user()
	for range store.DefaultLimit + 2 {
		many = append(many, f.project(carol.ID).ID)
	}
	for _, limit := range []int{0, -5} {
		page, next, err := f.s.ListProjects(f.ctx, store.OwnedBy(carol.ID), store.Page{Limit: limit})
		must(t, err, "ListProjects default limit")
		if len(page) != store.DefaultLimit || next != page[len(page)-1].ID {
			t.Fatalf("limit %d: got %d items (next %q), want %d", limit, len(page), next, store.DefaultLimit)
		}
	}
	page, next, err = f.s.ListProjects(f.ctx, store.OwnedBy(carol.ID), store.Page{Limit: store.MaxLimit * 10})
	must(t, err, "ListProjects huge limit")
	if len(page) != len(many) || next != "" {
		t.Fatalf("huge limit: got %d items (next %q), want %d", len(page), next, len(many))
	}

	// System sees everyone's projects; the zero scope sees nothing.
	all, _, err := f.s.ListProjects(f.ctx, store.System(), store.Page{Limit: store.MaxLimit})
	must(t, err, "ListProjects system")
	if len(all) != 7+7+len(many) {
		t.Fatalf("system scope sees %d projects, want %d", len(all), 7+7+len(many))
	}
	none, next, err := f.s.ListProjects(f.ctx, store.Scope{}, store.Page{})
	must(t, err, "ListProjects zero scope")
	if len(none) != 0 || next != "" {
		t.Fatalf("zero scope sees %d projects", len(none))
	}
}

func testRepositories(t *testing.T, f *fixture) {
	u := f.user()
	p, p2 := f.project(u.ID), f.project(u.ID)
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: "upload",
		SourceType: store.SourceArchive, IngestStatus: store.IngestPending,
		PendingUploadKey: "uploads/abc.zip", CreatedAt: f.tick(), UpdatedAt: f.clock}
	must(t, f.s.CreateRepository(f.ctx, r), "CreateRepository")
	// The pending upload key must round-trip.
	checkStored(t, "GetRepository", r, func() (*store.Repository, error) { return f.s.GetRepository(f.ctx, store.OwnedBy(u.ID), r.ID) },
		func(x *store.Repository) error { return f.s.CreateRepository(f.ctx, x) })

	in := []string{r.ID}
	for range 4 {
		in = append(in, f.repo(p).ID)
	}
	other := f.repo(p2)
	checkPages(t, in, 2, func(pg store.Page) ([]string, string, error) {
		xs, next, err := f.s.ListRepositories(f.ctx, store.OwnedBy(u.ID), p.ID, pg)
		return ids(xs, func(x store.Repository) string { return x.ID }), next, err
	})

	upd, err := f.s.UpdateRepository(f.ctx, store.OwnedBy(u.ID), r.ID, func(x *store.Repository) error {
		x.IngestStatus = store.IngestFailed
		x.IngestError = &store.ErrorInfo{Code: "archive_rejected", Message: "zip bomb"}
		x.PendingUploadKey = ""
		return nil
	})
	must(t, err, "UpdateRepository")
	if upd.IngestError == nil || upd.IngestError.Code != "archive_rejected" {
		t.Fatalf("UpdateRepository returned %+v", upd)
	}
	got, err := f.s.GetRepository(f.ctx, store.System(), r.ID)
	must(t, err, "read back")
	if got.IngestStatus != store.IngestFailed || got.PendingUploadKey != "" || got.IngestError.Message != "zip bomb" {
		t.Fatalf("repository after update: %+v", got)
	}
	checkAbortedUpdate(t, "UpdateRepository", func() (*store.Repository, error) { return f.s.GetRepository(f.ctx, store.System(), r.ID) },
		func(fn func(*store.Repository) error) (*store.Repository, error) {
			return f.s.UpdateRepository(f.ctx, store.OwnedBy(u.ID), r.ID, fn)
		},
		func(x *store.Repository) { x.Name = "nope" })

	_, err = f.s.UpdateRepository(f.ctx, store.OwnedBy(u.ID), other.ID, func(x *store.Repository) error {
		x.IngestStatus = store.IngestIngesting
		return nil
	})
	must(t, err, "UpdateRepository other")
	byStatus, err := f.s.ListRepositoriesByIngestStatus(f.ctx, []string{store.IngestFailed, store.IngestIngesting})
	must(t, err, "ListRepositoriesByIngestStatus")
	sameSet(t, []string{r.ID, other.ID}, ids(byStatus, func(x store.Repository) string { return x.ID }), "repositories by ingest status")
	byStatus, err = f.s.ListRepositoriesByIngestStatus(f.ctx, []string{store.IngestPending})
	wantNone(t, byStatus, err, "ListRepositoriesByIngestStatus pending")
}

func testSnapshots(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	r2 := f.repo(f.project(u.ID))
	sn := f.snapshot(r)
	checkStored(t, "GetSnapshot", sn, func() (*store.Snapshot, error) { return f.s.GetSnapshot(f.ctx, store.OwnedBy(u.ID), sn.ID) },
		func(x *store.Snapshot) error { return f.s.CreateSnapshot(f.ctx, x) })
	all := []string{sn.ID}
	for range 3 {
		all = append(all, f.snapshot(r).ID)
	}
	f.snapshot(r2)
	checkPages(t, all, 3, func(p store.Page) ([]string, string, error) {
		xs, next, err := f.s.ListSnapshots(f.ctx, store.OwnedBy(u.ID), r.ID, p)
		return ids(xs, func(x store.Snapshot) string { return x.ID }), next, err
	})
	_, err := f.s.GetSnapshot(f.ctx, store.System(), store.NewID(store.PrefixSnapshot))
	wantErr(t, err, store.ErrNotFound, "GetSnapshot missing")
}

func testThreatProfiles(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	_, err := f.s.GetThreatProfile(f.ctx, store.OwnedBy(u.ID), r.ID)
	wantErr(t, err, store.ErrNotFound, "GetThreatProfile before any")

	tp := &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: r.ID, OwnerUserID: u.ID,
		Status: store.ProfileReady, Source: store.ProfileSourceGenerated,
		Content: store.ThreatProfileContent{Summary: "web app", Assets: []string{"db"}, EntryPoints: []string{"/api"},
			TrustBoundaries: []string{"internet"}, Focus: []string{"sqli"}, OutOfScope: []string{"vendor/"},
			SeverityThreshold: store.SeverityLow},
		UpdatedAt: f.tick(), UpdatedBy: "system"}
	must(t, f.s.PutThreatProfile(f.ctx, tp), "PutThreatProfile")
	got, err := f.s.GetThreatProfile(f.ctx, store.OwnedBy(u.ID), r.ID)
	must(t, err, "GetThreatProfile")
	assertSame(t, tp, got, "GetThreatProfile")

	firstID := tp.ID
	edit := &store.ThreatProfile{RepositoryID: r.ID, OwnerUserID: u.ID, Status: store.ProfileReady,
		Source: store.ProfileSourceEdited, Content: store.ThreatProfileContent{Summary: "edited"},
		UpdatedAt: f.tick(), UpdatedBy: u.ID}
	must(t, f.s.PutThreatProfile(f.ctx, edit), "PutThreatProfile replace")
	got, err = f.s.GetThreatProfile(f.ctx, store.OwnedBy(u.ID), r.ID)
	must(t, err, "GetThreatProfile after replace")
	if got.ID != firstID || edit.ID != firstID {
		t.Fatalf("profile ID changed on replace: stored %q, returned %q, want %q", got.ID, edit.ID, firstID)
	}
	if got.Content.Summary != "edited" || len(got.Content.Assets) != 0 || got.Source != store.ProfileSourceEdited {
		t.Fatalf("profile after replace: %+v", got)
	}
}

// testThreatProfileVersions: every ready profile written is kept as a version,
// newest first, scoped to the owner, capped at MaxProfileVersions; generating
// and failed writes keep none.
func testThreatProfileVersions(t *testing.T, f *fixture) {
	u, other := f.user(), f.user()
	r := f.repo(f.project(u.ID))
	vs, err := f.s.ListThreatProfileVersions(f.ctx, store.OwnedBy(u.ID), r.ID)
	wantNone(t, vs, err, "ListThreatProfileVersions before any")
	put := func(status, source, summary string) {
		t.Helper()
		must(t, f.s.PutThreatProfile(f.ctx, &store.ThreatProfile{RepositoryID: r.ID, OwnerUserID: u.ID, Status: status,
			Source: source, Content: store.ThreatProfileContent{Summary: summary, OutOfScope: []string{"vendor/"}},
			UpdatedAt: f.tick(), UpdatedBy: u.ID}), "PutThreatProfile "+summary)
	}
	put(store.ProfileGenerating, "", "pending")
	put(store.ProfileReady, store.ProfileSourceGenerated, "first")
	put(store.ProfileFailed, store.ProfileSourceGenerated, "failed")
	put(store.ProfileReady, store.ProfileSourceEdited, "second")
	vs, err = f.s.ListThreatProfileVersions(f.ctx, store.OwnedBy(u.ID), r.ID)
	must(t, err, "ListThreatProfileVersions")
	if len(vs) != 2 || vs[0].Content.Summary != "second" || vs[1].Content.Summary != "first" ||
		vs[0].Source != store.ProfileSourceEdited || vs[1].Source != store.ProfileSourceGenerated || vs[0].CreatedBy != u.ID ||
		len(vs[1].Content.OutOfScope) != 1 || vs[0].RepositoryID != r.ID || !store.HasPrefix(vs[0].ID, store.PrefixProfileV) {
		t.Fatalf("versions = %+v, want second then first", vs)
	}
	got, err := f.s.GetThreatProfileVersion(f.ctx, store.OwnedBy(u.ID), r.ID, vs[1].ID)
	must(t, err, "GetThreatProfileVersion")
	if got.Content.Summary != "first" || got.ID != vs[1].ID {
		t.Fatalf("GetThreatProfileVersion = %+v", got)
	}
	_, err = f.s.GetThreatProfileVersion(f.ctx, store.OwnedBy(other.ID), r.ID, vs[1].ID)
	wantErr(t, err, store.ErrNotFound, "GetThreatProfileVersion by another user")
	_, err = f.s.ListThreatProfileVersions(f.ctx, store.OwnedBy(other.ID), r.ID)
	wantErr(t, err, store.ErrNotFound, "ListThreatProfileVersions by another user")
	other2 := f.repo(f.project(u.ID))
	_, err = f.s.GetThreatProfileVersion(f.ctx, store.OwnedBy(u.ID), other2.ID, vs[1].ID)
	wantErr(t, err, store.ErrNotFound, "GetThreatProfileVersion under another repository")

	for i := range store.MaxProfileVersions {
		put(store.ProfileReady, store.ProfileSourceEdited, fmt.Sprintf("edit %d", i))
	}
	vs, err = f.s.ListThreatProfileVersions(f.ctx, store.System(), r.ID)
	must(t, err, "ListThreatProfileVersions after many")
	last := fmt.Sprintf("edit %d", store.MaxProfileVersions-1)
	if len(vs) != store.MaxProfileVersions || vs[0].Content.Summary != last || vs[len(vs)-1].Content.Summary != "edit 0" {
		t.Fatalf("after %d more edits: %d versions, newest %q, oldest %q", store.MaxProfileVersions, len(vs), vs[0].Content.Summary, vs[len(vs)-1].Content.Summary)
	}

	must(t, f.s.DeleteRepository(f.ctx, store.System(), r.ID), "DeleteRepository")
	_, err = f.s.ListThreatProfileVersions(f.ctx, store.System(), r.ID)
	wantErr(t, err, store.ErrNotFound, "ListThreatProfileVersions after the repository is deleted")
	_, err = f.s.GetThreatProfileVersion(f.ctx, store.System(), r.ID, vs[0].ID)
	wantErr(t, err, store.ErrNotFound, "GetThreatProfileVersion after the repository is deleted")
}

// testMissingParents: children of objects that do not exist are refused with ErrNotFound.
func testMissingParents(t *testing.T, f *fixture) {
	u := f.user()
	ghostProject := store.NewID(store.PrefixProject)
	ghostRepo := store.NewID(store.PrefixRepo)
	at := f.tick()
	wantErr(t, f.s.CreateRepository(f.ctx, &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: ghostProject,
		OwnerUserID: u.ID, Name: "x", SourceType: store.SourceGit, IngestStatus: store.IngestPending, CreatedAt: at, UpdatedAt: at}),
		store.ErrNotFound, "CreateRepository under a missing project")
	wantErr(t, f.s.CreateSnapshot(f.ctx, &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: ghostRepo,
		OwnerUserID: u.ID, CreatedAt: at}), store.ErrNotFound, "CreateSnapshot under a missing repository")
	wantErr(t, f.s.PutThreatProfile(f.ctx, &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: ghostRepo,
		OwnerUserID: u.ID, Status: store.ProfileEmpty, UpdatedAt: at}), store.ErrNotFound, "PutThreatProfile for a missing repository")
	wantErr(t, f.s.CreateScan(f.ctx, &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: ghostRepo,
		ProjectID: ghostProject, OwnerUserID: u.ID, Status: store.ScanQueued, CreatedAt: at}),
		store.ErrNotFound, "CreateScan for a missing repository")
	wantErr(t, f.s.CreateFinding(f.ctx, &store.Finding{ID: store.NewID(store.PrefixFinding), RepositoryID: ghostRepo,
		ProjectID: ghostProject, OwnerUserID: u.ID, Fingerprint: "x", Severity: store.SeverityLow, Status: store.FindingOpen,
		CreatedAt: at, UpdatedAt: at}), store.ErrNotFound, "CreateFinding for a missing repository")
	_, err := f.s.AppendEvents(f.ctx, store.NewID(store.PrefixScan), []store.Event{{Kind: store.EventScanLog, Payload: []byte(`{}`)}})
	wantErr(t, err, store.ErrNotFound, "AppendEvents to a missing scan")
	wantErr(t, f.s.AppendFindingHistory(f.ctx, &store.FindingHistory{ID: store.NewID(store.PrefixHistory),
		FindingID: store.NewID(store.PrefixFinding), Actor: "system", ToStatus: store.FindingOpen, At: at}),
		store.ErrNotFound, "AppendFindingHistory for a missing finding")
}
