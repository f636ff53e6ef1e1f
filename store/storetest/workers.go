package storetest

import (
	"testing"

	"github.com/vegasec/vega/store"
)

func testWorkers(t *testing.T, f *fixture) {
	w := &store.Worker{ID: store.NewID(store.PrefixWorker), Hostname: "host-a", Role: "worker", Mode: "sqs+ecs", Version: "1.0.0",
		StartedAt: f.tick(), LastHeartbeatAt: f.tick(), CurrentScanIDs: []string{"scan_1"}}
	must(t, f.s.UpsertWorker(f.ctx, w), "UpsertWorker insert")
	w2 := &store.Worker{ID: store.NewID(store.PrefixWorker), Hostname: "host-b", Role: "api", Version: "1.0.0",
		StartedAt: f.tick(), LastHeartbeatAt: f.tick()}
	must(t, f.s.UpsertWorker(f.ctx, w2), "UpsertWorker insert second")

	beat := f.tick()
	w.LastHeartbeatAt, w.CurrentScanIDs = beat, []string{"scan_1", "scan_2"}
	must(t, f.s.UpsertWorker(f.ctx, w), "UpsertWorker update")
	got, err := f.s.ListWorkers(f.ctx)
	must(t, err, "ListWorkers")
	sameSet(t, []string{w.ID, w2.ID}, ids(got, func(x store.Worker) string { return x.ID }), "workers")
	for _, x := range got {
		if x.ID == w.ID {
			assertSame(t, w, &x, "upserted worker")
		}
	}
	must(t, f.s.DeleteWorker(f.ctx, w.ID), "DeleteWorker")
	wantErr(t, f.s.DeleteWorker(f.ctx, w.ID), store.ErrNotFound, "DeleteWorker twice")
	got, err = f.s.ListWorkers(f.ctx)
	must(t, err, "read back")
	sameSet(t, []string{w2.ID}, ids(got, func(x store.Worker) string { return x.ID }), "workers after delete")
}
