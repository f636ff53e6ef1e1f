package storetest

import (
	"testing"

	"github.com/vegasec/vega/store"
)

// testOwnedTotals pins down what the per-user quotas count: the user's own
// projects, repositories and snapshot stored bytes, nobody else's, and
// deletions give the room back.
func testOwnedTotals(t *testing.T, f *fixture) {
	u, other := f.user(), f.user()
	totals := func(userID string) store.OwnedTotals {
		t.Helper()
		got, err := f.s.OwnedTotals(f.ctx, userID)
		must(t, err, "OwnedTotals")
		return got
	}
	if got := totals(u.ID); got != (store.OwnedTotals{}) {
		t.Fatalf("a new user owns %+v", got)
	}
	p, q := f.project(u.ID), f.project(u.ID)
	r1, r2, r3 := f.repo(p), f.repo(p), f.repo(q)
	f.snapshot(r1)
	f.snapshot(r1)
	f.snapshot(r3)
	big := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: r2.ID, OwnerUserID: u.ID,
		StoredBytes: 5 << 30, CreatedAt: f.tick()} // past 32 bits
	must(t, f.s.CreateSnapshot(f.ctx, big), "CreateSnapshot")
	op := f.project(other.ID)
	f.snapshot(f.repo(op))

	want := store.OwnedTotals{Projects: 2, Repositories: 3, StoredBytes: 3*1500 + 5<<30}
	if got := totals(u.ID); got != want {
		t.Fatalf("OwnedTotals = %+v, want %+v", got, want)
	}
	if got := totals(other.ID); got != (store.OwnedTotals{Projects: 1, Repositories: 1, StoredBytes: 1500}) {
		t.Fatalf("other user's OwnedTotals = %+v", got)
	}
	if got := totals(""); got != (store.OwnedTotals{}) {
		t.Fatalf("OwnedTotals of no user = %+v", got)
	}

	must(t, f.s.DeleteRepository(f.ctx, store.OwnedBy(u.ID), r2.ID), "DeleteRepository")
	want = store.OwnedTotals{Projects: 2, Repositories: 2, StoredBytes: 3 * 1500}
	if got := totals(u.ID); got != want {
		t.Fatalf("after DeleteRepository: %+v, want %+v", got, want)
	}
	must(t, f.s.DeleteProject(f.ctx, store.OwnedBy(u.ID), p.ID), "DeleteProject")
	want = store.OwnedTotals{Projects: 1, Repositories: 1, StoredBytes: 1500}
	if got := totals(u.ID); got != want {
		t.Fatalf("after DeleteProject: %+v, want %+v", got, want)
	}
	// Updates keep the owner, so they do not move anything between users.
	_, err := f.s.UpdateRepository(f.ctx, store.System(), r3.ID, func(r *store.Repository) error { r.OwnerUserID = other.ID; return nil })
	must(t, err, "UpdateRepository")
	if got := totals(u.ID); got != want {
		t.Fatalf("after an update: %+v, want %+v", got, want)
	}
}
