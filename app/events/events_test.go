package events_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// countingStore counts append calls to the real store.
type countingStore struct {
	store.Store
	mu    sync.Mutex
	calls int
}

func (c *countingStore) AppendEvents(ctx context.Context, id string, evs []store.Event) ([]store.Event, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.Store.AppendEvents(ctx, id, evs)
}

func TestWriterBatchesInOrderAndWakesSubscribers(t *testing.T) {
	ctx := context.Background()
	env := scantest.New(t)
	u := env.User(t)
	repo, _ := env.Repo(t, u.ID, map[string]string{"x": "y"})
	scan := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: repo.ID, ProjectID: repo.ProjectID, OwnerUserID: u.ID, Status: store.ScanRunning}
	if err := env.Store.CreateScan(ctx, scan); err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: env.Store}
	b := events.NewBroker()
	wake, unsub := b.Subscribe(scan.ID)
	defer unsub()
	w := events.NewWriter(ctx, cs, b, scan.ID, events.Options{FlushInterval: time.Hour, MaxBatch: 100})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				w.Emit(store.ScanLogPayload{Level: store.LogInfo, Engine: strconv.Itoa(g), Message: strconv.Itoa(i)})
			}
		}(g)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wake:
	default:
		t.Fatal("subscriber not woken")
	}
	evs, _ := env.Store.ListEvents(ctx, scan.ID, 0, store.MaxLimit)
	more, _ := env.Store.ListEvents(ctx, scan.ID, 500, store.MaxLimit)
	evs = append(evs, more...)
	if len(evs) != 1000 || w.Written() != 1000 {
		t.Fatalf("stored %d events", len(evs))
	}
	// Per producer, order is kept.
	last := map[string]int{"0": -1, "1": -1, "2": -1, "3": -1}
	for _, ev := range evs {
		var p store.ScanLogPayload
		if err := jsonUnmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		i, err := strconv.Atoi(p.Message)
		if err != nil || ev.Kind != store.EventScanLog {
			t.Fatalf("event %+v: %v", ev, err)
		}
		if i <= last[p.Engine] {
			t.Fatalf("producer %v out of order", p.Engine)
		}
		last[p.Engine] = i
	}
	if cs.calls > 20 || cs.calls < 1 {
		t.Fatalf("1000 events in batches of 100 took %d appends", cs.calls)
	}
	if b.Subscribers(scan.ID) != 1 {
		t.Fatal("subscriber count")
	}
}
