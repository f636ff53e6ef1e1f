// Package events moves scan events (docs/scan-lifecycle.md, "Events") from producers to the store
// and to live subscribers: a Writer batches appends (a scan emits thousands
// of events), and a Broker wakes SSE streams in the same process when new
// events landed, so they read the store only when there is something to read.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/vegasec/vega/store"
)

// Appender is the part of the store a Writer needs.
type Appender interface {
	AppendEvents(ctx context.Context, scanID string, evs []store.Event) ([]store.Event, error)
}

// Notifier is told that a scan has new events. *Broker implements it; nil is allowed.
type Notifier interface {
	Notify(scanID string)
}

// Broker is a per-process wake-up service: subscribers of a scan get a signal
// whenever events of that scan were appended. A signal carries no data; the
// subscriber reads from the store after the last seq it sent, so a slow
// subscriber can never miss or duplicate events.
type Broker struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func NewBroker() *Broker { return &Broker{subs: map[string]map[chan struct{}]struct{}{}} }

// Subscribe returns a channel signalled after new events of scanID and a
// function that ends the subscription.
func (b *Broker) Subscribe(scanID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	if b.subs[scanID] == nil {
		b.subs[scanID] = map[chan struct{}]struct{}{}
	}
	b.subs[scanID][ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs[scanID], ch)
		if len(b.subs[scanID]) == 0 {
			delete(b.subs, scanID)
		}
		b.mu.Unlock()
	}
}

// Notify wakes every subscriber of scanID without blocking: a pending signal
// already covers the new events.
func (b *Broker) Notify(scanID string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs[scanID] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Subscribers counts live subscriptions of a scan (for tests and ops).
func (b *Broker) Subscribers(scanID string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[scanID])
}

// New builds an event of p's kind with p as its JSON payload. Payloads are
// the typed structs of store (store.EventPayload), so every event has its
// kind's documented shape.
func New(scanID string, p store.EventPayload) (store.Event, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return store.Event{}, fmt.Errorf("events: encode %s payload: %w", p.EventKind(), err)
	}
	return store.Event{ScanID: scanID, Kind: p.EventKind(), Payload: raw}, nil
}

// Append writes one event at once (no batching) and notifies subscribers;
// for the lifecycle's events outside a run's Writer (app/scans).
func Append(ctx context.Context, st Appender, n Notifier, scanID string, p store.EventPayload) (store.Event, error) {
	ev, err := New(scanID, p)
	if err != nil {
		return store.Event{}, err
	}
	out, err := st.AppendEvents(ctx, scanID, []store.Event{ev})
	if err != nil {
		return store.Event{}, err
	}
	if n != nil {
		n.Notify(scanID)
	}
	return out[0], nil
}

// Options tune a Writer; zero values take the defaults.
type Options struct {
	FlushInterval time.Duration // default 100ms
	MaxBatch      int           // default 256 events
}

// Writer batches the events of one scan run: they are appended every
// FlushInterval, when MaxBatch are waiting, on Flush and on Close, in the
// order Emit was called. It is safe for concurrent use.
type Writer struct {
	st     Appender
	notify Notifier
	scanID string
	opt    Options
	ctx    context.Context

	mu      sync.Mutex
	buf     []store.Event
	err     error
	written int64

	flushMu sync.Mutex // serialises appends so seqs follow Emit order
	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	closeMu sync.Once
}

// NewWriter starts a Writer. ctx bounds the store calls; pass a context that
// outlives the scan's own cancellation so the final events still land.
func NewWriter(ctx context.Context, st Appender, n Notifier, scanID string, opt Options) *Writer {
	if opt.FlushInterval <= 0 {
		opt.FlushInterval = 100 * time.Millisecond
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 256
	}
	w := &Writer{st: st, notify: n, scanID: scanID, opt: opt, ctx: ctx,
		kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go w.loop()
	return w
}

func (w *Writer) loop() {
	defer close(w.stopped)
	t := time.NewTicker(w.opt.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-w.done:
			return
		case <-t.C:
		case <-w.kick:
		}
		_ = w.Flush()
	}
}

// Emit queues one event. A payload that cannot be encoded is recorded as the
// writer's error instead of being dropped silently.
func (w *Writer) Emit(p store.EventPayload) {
	ev, err := New(w.scanID, p)
	w.mu.Lock()
	if err != nil {
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
		return
	}
	w.buf = append(w.buf, ev)
	n := len(w.buf)
	w.mu.Unlock()
	if n >= 8*w.opt.MaxBatch {
		// The store is falling behind: the producer waits for a flush
		// instead of the buffer growing without bound.
		_ = w.Flush()
		return
	}
	if n >= w.opt.MaxBatch {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// Flush appends everything queued so far.
func (w *Writer) Flush() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	batch := w.buf
	w.buf = nil
	w.mu.Unlock()
	if len(batch) > 0 {
		if _, err := w.st.AppendEvents(w.ctx, w.scanID, batch); err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = fmt.Errorf("events: append %d events of scan %s: %w", len(batch), w.scanID, err)
			}
			w.mu.Unlock()
		} else {
			w.mu.Lock()
			w.written += int64(len(batch))
			w.mu.Unlock()
			if w.notify != nil {
				w.notify.Notify(w.scanID)
			}
		}
	}
	return w.Err()
}

// Err is the first error the writer met (encoding or storing).
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Written counts events stored so far.
func (w *Writer) Written() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

// Close stops the background flusher and appends what is left.
func (w *Writer) Close() error {
	w.closeMu.Do(func() {
		close(w.done)
		<-w.stopped
	})
	return w.Flush()
}
