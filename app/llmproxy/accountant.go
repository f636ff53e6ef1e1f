package llmproxy

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/vegasec/vega/store"
)

// accountant writes usage to the store off the request path. Caps are
// enforced by the in-memory ledger, which is settled synchronously, so the
// store only needs to be durable, not immediate; writing inline would add a
// database round trip (or an fsync, with bolt) to every model call. Records
// are batched: one UsageRecord per call, one UpdateScan per scan per batch.
type accountant struct {
	st    Store
	log   *slog.Logger
	queue chan accountItem
	done  chan struct{}
	once  sync.Once
}

// accountItem is a record to write or, when flushed is set, a marker that
// is closed once everything queued before it has been written.
type accountItem struct {
	rec     *store.UsageRecord
	flushed chan struct{}
}

const accountQueue = 4096

func newAccountant(st Store, log *slog.Logger) *accountant {
	a := &accountant{st: st, log: log, queue: make(chan accountItem, accountQueue), done: make(chan struct{})}
	go a.loop()
	return a
}

// add queues a record. A full queue blocks the caller: losing billing data
// is worse than slowing a model call down.
func (a *accountant) add(r *store.UsageRecord) { a.queue <- accountItem{rec: r} }

// flush waits until every record queued so far is written (or ctx ends).
func (a *accountant) flush(ctx context.Context) error {
	ch := make(chan struct{})
	select {
	case a.queue <- accountItem{flushed: ch}:
	case <-ctx.Done():
		return ctx.Err()
	case <-a.done:
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close writes what is queued and stops the writer.
func (a *accountant) close() {
	a.once.Do(func() { close(a.queue) })
	<-a.done
}

func (a *accountant) loop() {
	defer close(a.done)
	for first := range a.queue {
		a.write(a.gather(first))
	}
}

// accountLinger is how long the writer waits for more records after the
// first one: under load, one UpdateScan then covers many calls of a scan.
const accountLinger = 20 * time.Millisecond

// gather collects a batch: up to 256 items arriving within accountLinger of
// the first. A flush marker ends the wait at once.
func (a *accountant) gather(first accountItem) []accountItem {
	batch := []accountItem{first}
	if first.flushed != nil {
		return batch
	}
	timer := time.NewTimer(accountLinger)
	defer timer.Stop()
	for len(batch) < 256 {
		select {
		case it, ok := <-a.queue:
			if !ok {
				return batch
			}
			batch = append(batch, it)
			if it.flushed != nil {
				return batch
			}
		case <-timer.C:
			return batch
		}
	}
	return batch
}

func (a *accountant) write(batch []accountItem) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	perScan := map[string]store.Usage{}
	var order []string
	for _, it := range batch {
		if it.rec == nil {
			continue
		}
		if err := a.st.CreateUsageRecord(ctx, it.rec); err != nil {
			a.log.Error("llm proxy: recording usage", "scan_id", it.rec.ScanID, "err", err)
		}
		if it.rec.ScanID == "" {
			continue // profile generation: billed to the project, no scan to update
		}
		if _, ok := perScan[it.rec.ScanID]; !ok {
			order = append(order, it.rec.ScanID)
		}
		u := perScan[it.rec.ScanID]
		u.Add(it.rec.Usage)
		perScan[it.rec.ScanID] = u
	}
	for _, id := range order {
		u := perScan[id]
		if _, err := a.st.UpdateScan(ctx, store.System(), id, func(s *store.Scan) error {
			s.Usage.Add(u)
			return nil
		}); err != nil {
			a.log.Error("llm proxy: adding usage to scan", "scan_id", id, "err", err)
		}
	}
	for _, it := range batch {
		if it.flushed != nil {
			close(it.flushed)
		}
	}
}
