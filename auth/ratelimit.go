package auth

import (
	"sync"
	"time"
)

// limiter is a fixed-window failure counter per key (address or account).
// Only failures count, so a user who signs in correctly is never locked out by
// their own successful logins.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	hits   map[string]*window
	now    func() time.Time
}

type window struct {
	start time.Time
	count int
}

func newLimiter(max int, per time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: per, hits: map[string]*window{}, now: now}
}

// blocked reports whether key has used up its failures in the current window.
func (l *limiter) blocked(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.hits[key]
	return w != nil && l.now().Sub(w.start) < l.window && w.count >= l.max
}

// fail records a failure for key.
func (l *limiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.hits[key]
	if w == nil || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.hits[key] = w
	}
	w.count++
	if len(l.hits) > 100_000 { // bound memory under a spray of addresses
		for k, v := range l.hits {
			if now.Sub(v.start) >= l.window {
				delete(l.hits, k)
			}
		}
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}
