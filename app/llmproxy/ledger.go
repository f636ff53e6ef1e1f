package llmproxy

import (
	"sync"
	"time"

	"github.com/vegasec/vega/store"
)

// ledger enforces per-scan caps atomically inside this process. The store's
// scan.Usage is the durable total, but it is read before a request and written
// after it, so two concurrent requests could both see "9 of 10" and both pass.
// The ledger closes that window: admission and accounting happen under one
// mutex, in-flight requests count against the request cap (reserve before
// forwarding), and committed usage never goes backwards.
type ledger struct {
	mu    sync.Mutex
	scans map[string]*scanLedger
	caps  caps
}

type caps struct {
	requests int64
	tokens   int64
	costUSD  float64
}

type scanLedger struct {
	committed store.Usage
	inFlight  int64
	lastSeen  time.Time
}

// budgetError says which cap a scan hit.
type budgetError struct{ what string }

func (e *budgetError) Error() string { return "scan budget exceeded: " + e.what }

func newLedger(c caps) *ledger { return &ledger{scans: map[string]*scanLedger{}, caps: c} }

// reserve admits one request of scanID or returns a *budgetError. persisted is
// the scan's usage as the store saw it just now; it only ever raises the
// ledger's view (another proxy instance may have served the scan too).
// Token and cost caps can only be checked against finished requests, since a
// response's size is unknown until it ends; in-flight requests may overshoot
// them by at most one response each.
func (l *ledger) reserve(scanID string, persisted store.Usage, now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.scans[scanID]
	if s == nil {
		if len(l.scans) > 10000 {
			l.sweepLocked(now)
		}
		s = &scanLedger{}
		l.scans[scanID] = s
	}
	s.lastSeen = now
	s.committed = maxUsage(s.committed, persisted)
	c := l.caps
	switch {
	case c.requests > 0 && s.committed.Requests+s.inFlight >= c.requests:
		return &budgetError{what: "request cap reached"}
	case c.tokens > 0 && s.committed.InputTokens+s.committed.OutputTokens >= c.tokens:
		return &budgetError{what: "token cap reached"}
	case c.costUSD > 0 && s.committed.CostUSD >= c.costUSD:
		return &budgetError{what: "cost cap reached"}
	}
	s.inFlight++
	return nil
}

// settle turns a reservation into committed usage.
func (l *ledger) settle(scanID string, u store.Usage) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.scans[scanID]
	if s == nil { // swept while in flight cannot happen (in-flight entries are kept), but stay safe
		s = &scanLedger{}
		l.scans[scanID] = s
	}
	s.inFlight--
	s.committed.Add(u)
}

// sweepLocked forgets scans with nothing in flight that were idle for an hour;
// their totals live on in the store and are reloaded on the next request.
func (l *ledger) sweepLocked(now time.Time) {
	for id, s := range l.scans {
		if s.inFlight == 0 && now.Sub(s.lastSeen) > time.Hour {
			delete(l.scans, id)
		}
	}
}

func maxUsage(a, b store.Usage) store.Usage {
	if b.Requests > a.Requests {
		a.Requests = b.Requests
	}
	if b.InputTokens > a.InputTokens {
		a.InputTokens = b.InputTokens
	}
	if b.CachedInputTokens > a.CachedInputTokens {
		a.CachedInputTokens = b.CachedInputTokens
	}
	if b.OutputTokens > a.OutputTokens {
		a.OutputTokens = b.OutputTokens
	}
	if b.CostUSD > a.CostUSD {
		a.CostUSD = b.CostUSD
	}
	return a
}
