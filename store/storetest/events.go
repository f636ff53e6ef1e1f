package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/vegasec/vega/store"
)

func logEvent(msg string) store.Event {
	payload, _ := json.Marshal(map[string]string{"level": "info", "message": msg, "engine": "codex"})
	return store.Event{Kind: store.EventScanLog, Payload: payload}
}

func testEvents(t *testing.T, f *fixture) {
	u := f.user()
	r := f.repo(f.project(u.ID))
	sc, other := f.scan(r, store.ScanRunning), f.scan(r, store.ScanRunning)

	at := f.tick()
	first, err := f.s.AppendEvents(f.ctx, sc.ID, []store.Event{{Kind: store.EventScanStarted,
		Payload: json.RawMessage(`{"engines": ["codex"], "snapshot_id": "snap_1", "file_count": 3}`), CreatedAt: at}})
	must(t, err, "AppendEvents one")
	if len(first) != 1 || first[0].Seq != 1 || first[0].ScanID != sc.ID {
		t.Fatalf("first append = %+v", first)
	}
	sameTime(t, at, &first[0].CreatedAt, "given created_at")

	batch := make([]store.Event, 9)
	for i := range batch {
		batch[i] = logEvent(fmt.Sprintf("line %d", i))
	}
	got, err := f.s.AppendEvents(f.ctx, sc.ID, batch)
	must(t, err, "AppendEvents batch")
	for i, ev := range got {
		if ev.Seq != int64(i+2) || ev.ScanID != sc.ID || ev.CreatedAt.IsZero() || ev.Kind != store.EventScanLog {
			t.Fatalf("batch event %d = %+v", i, ev)
		}
	}
	empty, err := f.s.AppendEvents(f.ctx, sc.ID, nil)
	wantNone(t, empty, err, "AppendEvents empty")

	// Seqs are per scan.
	o, err := f.s.AppendEvents(f.ctx, other.ID, []store.Event{logEvent("other")})
	must(t, err, "AppendEvents other scan")
	if o[0].Seq != 1 {
		t.Fatalf("other scan's first seq = %d, want 1", o[0].Seq)
	}

	all, err := f.s.ListEvents(f.ctx, sc.ID, 0, 100)
	must(t, err, "ListEvents")
	if len(all) != 10 {
		t.Fatalf("ListEvents returned %d, want 10", len(all))
	}
	for i, ev := range all {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	assertSame(t, first[0], all[0], "first event read back (payload compared as JSON)")
	assertSame(t, got[3], all[4], "batch event read back")

	cases := []struct {
		after    int64
		limit    int
		wantSeqs []int64
	}{
		{0, 3, []int64{1, 2, 3}},
		{3, 3, []int64{4, 5, 6}},
		{8, 5, []int64{9, 10}},
		{10, 5, nil},
		{99, 5, nil},
		{-7, 2, []int64{1, 2}},
	}
	for _, c := range cases {
		evs, err := f.s.ListEvents(f.ctx, sc.ID, c.after, c.limit)
		must(t, err, "ListEvents page")
		var seqs []int64
		for _, ev := range evs {
			seqs = append(seqs, ev.Seq)
		}
		if fmt.Sprint(seqs) != fmt.Sprint(c.wantSeqs) {
			t.Fatalf("ListEvents(after %d, limit %d) = %v, want %v", c.after, c.limit, seqs, c.wantSeqs)
		}
	}
	evs, err := f.s.ListEvents(f.ctx, store.NewID(store.PrefixScan), 0, 10)
	wantNone(t, evs, err, "ListEvents unknown scan")
}

// testEventsConcurrent: appenders racing on one scan still produce 1..N with
// no gap or duplicate, and each batch gets consecutive seqs.
func testEventsConcurrent(t *testing.T, f *fixture) {
	u := f.user()
	sc := f.scan(f.repo(f.project(u.ID)), store.ScanRunning)
	const appenders, batches, perBatch = 8, 10, 5
	Parallel(t, appenders, func(a int) error {
		for b := range batches {
			evs := make([]store.Event, perBatch)
			for i := range evs {
				evs[i] = logEvent(fmt.Sprintf("a%d b%d e%d", a, b, i))
			}
			got, err := f.s.AppendEvents(f.ctx, sc.ID, evs)
			if err != nil {
				return err
			}
			for i := 1; i < len(got); i++ {
				if got[i].Seq != got[0].Seq+int64(i) {
					return fmt.Errorf("batch seqs not consecutive: %d then %d", got[0].Seq, got[i].Seq)
				}
			}
		}
		return nil
	})
	total := appenders * batches * perBatch
	CheckDenseSeqs(t, ReadAllEvents(t, f.ctx, f.s, sc.ID, 64), total)
}

// ReadAllEvents pages through a scan's whole event log, limit events a page.
func ReadAllEvents(t testing.TB, ctx context.Context, s store.EventStore, scanID string, limit int) []store.Event {
	t.Helper()
	var all []store.Event
	for after := int64(0); ; {
		page, err := s.ListEvents(ctx, scanID, after, limit)
		must(t, err, "ListEvents")
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
}

// CheckDenseSeqs fails unless events are exactly want events numbered
// 1..want in order: no gap and no duplicate, whatever wrote them concurrently.
func CheckDenseSeqs(t testing.TB, events []store.Event, want int) {
	t.Helper()
	if len(events) != want {
		t.Fatalf("%d events stored, want %d", len(events), want)
	}
	for i, ev := range events {
		if ev.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: gap or duplicate", i, ev.Seq)
		}
	}
}
