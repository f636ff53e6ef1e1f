package auth

import (
	"sync"
	"time"
)

// Sign-in throttling (figures and reasoning in docs/auth.md). Failures are
// counted three ways, and an attempt waits for the longest of the three:
//
//   - per account and address together: the 10th failure locks that pair
//     for 15 minutes. This is the hard stop for one attacker guessing one
//     password, and it cannot lock the owner out from anywhere else.
//   - per account from any address: 5 failures are free, then each further
//     failure makes the next attempt wait 1 s, 2 s, 4 s…, capped at 10 s. Many
//     addresses cannot brute-force faster than one guess per 10 s, and the
//     right password from a new address works within seconds.
//   - per address over all accounts (password spraying): 30 failures are
//     free, then the same doubling capped at 30 s.
//
// Only failures count, and a success clears its pair and account, so a user
// is never slowed down by their own successful sign-ins.
var (
	pairLimit    = backoffPolicy{free: 9, base: 15 * time.Minute, max: 15 * time.Minute, forget: 15 * time.Minute}
	accountLimit = backoffPolicy{free: 5, base: time.Second, max: 10 * time.Second, forget: 15 * time.Minute}
	addressLimit = backoffPolicy{free: 30, base: time.Second, max: 30 * time.Second, forget: 15 * time.Minute}
)

// backoffPolicy says how long the next attempt waits after n failures.
type backoffPolicy struct {
	free   int           // failures that cost no wait
	base   time.Duration // wait after the first failure beyond free; doubles with each further one
	max    time.Duration // cap of the wait
	forget time.Duration // a key without failures for this long starts over
}

func (p backoffPolicy) delay(failures int) time.Duration {
	over := failures - p.free
	if over <= 0 {
		return 0
	}
	d := p.base
	for i := 1; i < over && d < p.max; i++ {
		d *= 2
	}
	return min(d, p.max)
}

// backoff counts failures per key (an address, an account, or both).
type backoff struct {
	mu     sync.Mutex
	policy backoffPolicy
	hits   map[string]*strikes
	now    func() time.Time
}

type strikes struct {
	count int
	last  time.Time // time of the latest failure
}

// maxKeys bounds memory under a spray of addresses or made-up accounts.
const maxKeys = 100_000

func newBackoff(p backoffPolicy, now func() time.Time) *backoff {
	return &backoff{policy: p, hits: map[string]*strikes{}, now: now}
}

// wait is how long key must wait before its next attempt (0: go ahead).
func (b *backoff) wait(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.hits[key]
	if s == nil {
		return 0
	}
	now := b.now()
	if now.Sub(s.last) >= b.policy.forget {
		delete(b.hits, key)
		return 0
	}
	return max(0, s.last.Add(b.policy.delay(s.count)).Sub(now))
}

// fail records a failure for key.
func (b *backoff) fail(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	s := b.hits[key]
	if s == nil || now.Sub(s.last) >= b.policy.forget {
		if len(b.hits) >= maxKeys {
			b.prune(now)
		}
		s = &strikes{}
		b.hits[key] = s
	}
	s.count++
	s.last = now
}

// prune drops forgotten keys; if all are recent, the map is cleared rather
// than grown (a flood of fresh keys is itself the attack).
func (b *backoff) prune(now time.Time) {
	for k, s := range b.hits {
		if now.Sub(s.last) >= b.policy.forget {
			delete(b.hits, k)
		}
	}
	if len(b.hits) >= maxKeys {
		clear(b.hits)
	}
}

func (b *backoff) reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.hits, key)
}

// loginLimiter combines the three counters of a sign-in.
type loginLimiter struct {
	pair, account, address *backoff
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{
		pair:    newBackoff(pairLimit, now),
		account: newBackoff(accountLimit, now),
		address: newBackoff(addressLimit, now),
	}
}

// pairKey joins account and address; a NUL cannot occur in either.
func pairKey(account, addr string) string { return account + "\x00" + addr }

// wait is how long a sign-in for account from addr must wait.
func (l *loginLimiter) wait(account, addr string) time.Duration {
	return max(l.pair.wait(pairKey(account, addr)), l.account.wait(account), l.address.wait(addr))
}

func (l *loginLimiter) fail(account, addr string) {
	l.pair.fail(pairKey(account, addr))
	l.account.fail(account)
	l.address.fail(addr)
}

// succeed forgets the account's failures. The address keeps its count: one
// valid account must not unlock spraying from that address.
func (l *loginLimiter) succeed(account, addr string) {
	l.pair.reset(pairKey(account, addr))
	l.account.reset(account)
}
