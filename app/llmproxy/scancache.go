package llmproxy

import (
	"context"
	"sync"
	"time"

	"github.com/vegasec/vega/store"
)

// scanCache remembers scans read for authorisation for a short time. Every
// model call needs the scan's status and owner; reading them from the store
// each time puts a database round trip (and, with bolt, waits behind usage
// writes) on the hot path. The price is that a cancelled or finished scan's
// token keeps working for at most ttl; the runner kills Codex on cancel
// anyway, so that window carries no traffic in practice.
type scanCache struct {
	st  Store
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]cachedScan
}

type cachedScan struct {
	scan    *store.Scan
	fetched time.Time
}

func (c *scanCache) get(ctx context.Context, id string) (*store.Scan, error) {
	now := c.now()
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.m[id]
		c.mu.Unlock()
		if ok && now.Sub(e.fetched) < c.ttl {
			return e.scan, nil
		}
	}
	s, err := c.st.GetScan(ctx, store.System(), id)
	if err != nil || c.ttl <= 0 {
		return s, err
	}
	c.mu.Lock()
	if len(c.m) > 10000 {
		for k, e := range c.m {
			if now.Sub(e.fetched) >= c.ttl {
				delete(c.m, k)
			}
		}
	}
	c.m[id] = cachedScan{scan: s, fetched: now}
	c.mu.Unlock()
	return s, nil
}
