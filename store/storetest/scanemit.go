package storetest

import (
	"errors"
	"testing"

	"github.com/vegasec/vega/store"
)

// UpdateScanEmit stores the scan and its events together or neither.
func testUpdateScanEmit(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	sc := f.scan(r, store.ScanRunning)
	ev := func(msg string) store.Event {
		return store.Event{Kind: store.EventScanLog, Payload: []byte(`{"level":"info","message":"` + msg + `"}`)}
	}
	if _, err := f.s.AppendEvents(f.ctx, sc.ID, []store.Event{ev("before")}); err != nil {
		t.Fatal(err)
	}
	got, evs, err := f.s.UpdateScanEmit(f.ctx, store.System(), sc.ID, func(s *store.Scan) ([]store.Event, error) {
		s.Status = store.ScanCompleted
		return []store.Event{ev("a"), ev("b")}, nil
	})
	must(t, err, "UpdateScanEmit")
	if got.Status != store.ScanCompleted || len(evs) != 2 || evs[0].Seq != 2 || evs[1].Seq != 3 || evs[0].ScanID != sc.ID {
		t.Fatalf("UpdateScanEmit returned %s and %+v", got.Status, evs)
	}

	boom := errors.New("boom")
	_, _, err = f.s.UpdateScanEmit(f.ctx, store.System(), sc.ID, func(s *store.Scan) ([]store.Event, error) {
		s.Status = store.ScanFailed
		return []store.Event{ev("never")}, boom
	})
	wantErr(t, err, boom, "UpdateScanEmit with a failing fn")
	cur, err := f.s.GetScan(f.ctx, store.System(), sc.ID)
	must(t, err, "GetScan")
	all, err := f.s.ListEvents(f.ctx, sc.ID, 0, 100)
	must(t, err, "ListEvents")
	if cur.Status != store.ScanCompleted || len(all) != 3 {
		t.Fatalf("a failed fn changed something: status %s, %d events", cur.Status, len(all))
	}

	// No events: a plain update.
	if _, evs, err := f.s.UpdateScanEmit(f.ctx, store.System(), sc.ID, func(*store.Scan) ([]store.Event, error) { return nil, nil }); err != nil || len(evs) != 0 {
		t.Fatalf("no events: %v %v", evs, err)
	}
	_, _, err = f.s.UpdateScanEmit(f.ctx, store.OwnedBy(f.user().ID), sc.ID, func(*store.Scan) ([]store.Event, error) { return nil, nil })
	wantErr(t, err, store.ErrNotFound, "UpdateScanEmit of another user's scan")
}

// CreateScanWithin creates while the owner has room and refuses after.
func testCreateScanWithin(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	f.scan(r, store.ScanCompleted) // not active: does not count
	for i := range 2 {
		sc := &store.Scan{RepositoryID: r.ID, ProjectID: r.ProjectID, OwnerUserID: u.ID}
		active, err := f.s.CreateScanWithin(f.ctx, sc, 2)
		if err != nil || active != i {
			t.Fatalf("create %d: active %d, %v", i, active, err)
		}
	}
	active, err := f.s.CreateScanWithin(f.ctx, &store.Scan{RepositoryID: r.ID, ProjectID: r.ProjectID, OwnerUserID: u.ID}, 2)
	wantErr(t, err, store.ErrLimitReached, "CreateScanWithin over the limit")
	if n, _ := f.s.CountActiveScans(f.ctx, u.ID); active != 2 || n != 2 {
		t.Fatalf("over the limit: reported %d, active %d", active, n)
	}
}
