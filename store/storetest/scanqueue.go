package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// testScanQueue: send times of queued scans (the sqs sweeper's view).
func testScanQueue(t *testing.T, f *fixture) {
	r := f.repo(f.project(f.user().ID))
	n, oldest, err := f.s.QueuedScanStats(f.ctx)
	must(t, err, "QueuedScanStats empty")
	if n != 0 || !oldest.IsZero() {
		t.Fatalf("empty store: %d queued, oldest %v", n, oldest)
	}
	a := f.scan(r, store.ScanQueued) // never sent
	b := f.scan(r, store.ScanQueued) // sent long ago
	c := f.scan(r, store.ScanQueued) // sent just now
	held := f.scan(r, store.ScanRunning)
	now := f.tick()
	must(t, f.s.MarkScanSent(f.ctx, b.ID, now.Add(-time.Hour)), "MarkScanSent b")
	must(t, f.s.MarkScanSent(f.ctx, c.ID, now), "MarkScanSent c")
	must(t, f.s.MarkScanSent(f.ctx, held.ID, now.Add(-time.Hour)), "MarkScanSent of a running scan is ignored")
	must(t, f.s.MarkScanSent(f.ctx, "scan_missing", now), "MarkScanSent of a missing scan is ignored")

	got, err := f.s.ListUnsentScans(f.ctx, now, now.Add(-time.Minute), 10)
	must(t, err, "ListUnsentScans")
	if want := []string{a.ID, b.ID}; !slices.Equal(got, want) {
		t.Fatalf("unsent = %v, want %v (never sent, then sent too long ago; oldest first)", got, want)
	}
	got, err = f.s.ListUnsentScans(f.ctx, a.CreatedAt, now.Add(-time.Minute), 10)
	must(t, err, "ListUnsentScans young")
	if want := []string{b.ID}; !slices.Equal(got, want) {
		t.Fatalf("a scan created at the cutoff is still being sent: got %v, want %v", got, want)
	}
	got, err = f.s.ListUnsentScans(f.ctx, now, now.Add(-time.Minute), 1)
	must(t, err, "ListUnsentScans limit")
	if len(got) != 1 || got[0] != a.ID {
		t.Fatalf("limit 1: %v", got)
	}
	n, oldest, err = f.s.QueuedScanStats(f.ctx)
	must(t, err, "QueuedScanStats")
	if n != 3 || !oldest.Equal(a.CreatedAt) {
		t.Fatalf("stats = %d, %v; want 3, %v", n, oldest, a.CreatedAt)
	}
}
