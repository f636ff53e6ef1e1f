package webhooks

import (
	"time"

	"github.com/vegasec/vega/store"
)

// Retry schedule (docs/webhooks.md): the n-th retry waits base·2^(n-1),
// capped at maxDelay, and a delivery is given up once its next attempt
// would start more than RetryWindow after it was created.
const (
	DefaultRetryBase = 30 * time.Second
	maxDelay         = time.Hour
	RetryWindow      = 24 * time.Hour
)

// retryDelay is the wait after the failed attempt number n (1-based).
func retryDelay(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n; i++ {
		d *= 2
		if d >= maxDelay {
			return maxDelay
		}
	}
	return min(d, maxDelay)
}

// nextAttempt says when to try again after attempt n failed at now, or
// false when the delivery is over its window or its attempt budget.
// retryAfter, when the endpoint sent one, replaces the computed wait
// (bounded to [1s, maxDelay]).
func nextAttempt(base time.Duration, created, now time.Time, n int, retryAfter time.Duration) (time.Time, bool) {
	d := retryDelay(base, n)
	if retryAfter > 0 {
		d = min(max(retryAfter, time.Second), maxDelay)
	}
	at := now.Add(d)
	if n >= store.MaxDeliveryAttempts || at.Sub(created) > RetryWindow {
		return time.Time{}, false
	}
	return at, true
}
