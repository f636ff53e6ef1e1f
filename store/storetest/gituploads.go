package storetest

import (
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

func testGitUploads(t *testing.T, f *fixture) {
	u, v := f.user(), f.user()
	p := f.project(u.ID)
	g := &store.GitUpload{ID: store.NewID(store.PrefixGitUpload), UserID: u.ID, ProjectID: p.ID, RepositoryName: "svc",
		TokenHash: "sha256:push", ExpiresAt: f.tick().Add(time.Hour), Status: store.GitUploadWaiting, CreatedAt: f.tick()}
	must(t, f.s.CreateGitUpload(f.ctx, g), "CreateGitUpload")
	// The token hash must round-trip.
	uploadByHash := func(h string) (*store.GitUpload, error) { return f.s.GetGitUploadByTokenHash(f.ctx, h) }
	checkLookup(t, "GetGitUploadByTokenHash", g, "sha256:push", "sha256:other", uploadByHash)
	got, err := f.s.GetGitUpload(f.ctx, store.OwnedBy(u.ID), g.ID)
	must(t, err, "GetGitUpload owner")
	assertSame(t, g, got, "GetGitUpload")
	_, err = f.s.GetGitUpload(f.ctx, store.OwnedBy(v.ID), g.ID)
	wantErr(t, err, store.ErrNotFound, "GetGitUpload other user")

	dup := &store.GitUpload{ID: store.NewID(store.PrefixGitUpload), UserID: v.ID, ProjectID: p.ID, RepositoryName: "x",
		TokenHash: "sha256:push", ExpiresAt: f.tick(), Status: store.GitUploadWaiting, CreatedAt: f.tick()}
	wantErr(t, f.s.CreateGitUpload(f.ctx, dup), store.ErrConflict, "CreateGitUpload duplicate token hash")

	r := f.repo(p)
	upd, err := f.s.UpdateGitUpload(f.ctx, g.ID, func(x *store.GitUpload) error {
		x.Status, x.RepositoryID = store.GitUploadReceived, r.ID
		return nil
	})
	must(t, err, "UpdateGitUpload")
	got, err = f.s.GetGitUploadByTokenHash(f.ctx, "sha256:push")
	must(t, err, "read back")
	assertSame(t, upd, got, "git upload after update")
	if got.Status != store.GitUploadReceived || got.RepositoryID != r.ID {
		t.Fatalf("git upload after update: %+v", got)
	}
	checkAbortedUpdate(t, "UpdateGitUpload", func() (*store.GitUpload, error) { return uploadByHash("sha256:push") },
		func(fn func(*store.GitUpload) error) (*store.GitUpload, error) {
			return f.s.UpdateGitUpload(f.ctx, g.ID, fn)
		},
		func(x *store.GitUpload) { x.Status = store.GitUploadExpired })
	_, err = f.s.UpdateGitUpload(f.ctx, store.NewID(store.PrefixGitUpload), func(*store.GitUpload) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateGitUpload missing")
}
