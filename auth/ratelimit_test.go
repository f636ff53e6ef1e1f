package auth

import (
	"fmt"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBackoffPolicyFigures(t *testing.T) {
	want := map[int]time.Duration{0: 0, 5: 0, 6: time.Second, 7: 2 * time.Second, 8: 4 * time.Second, 9: 8 * time.Second, 10: 10 * time.Second, 1000: 10 * time.Second}
	for n, d := range want {
		if got := accountLimit.delay(n); got != d {
			t.Errorf("account delay after %d failures = %s, want %s", n, got, d)
		}
	}
	if pairLimit.delay(9) != 0 || pairLimit.delay(10) != 15*time.Minute {
		t.Errorf("pair: 9 failures must be free and the 10th must lock for 15 min: %s, %s", pairLimit.delay(9), pairLimit.delay(10))
	}
	if addressLimit.delay(30) != 0 || addressLimit.delay(31) != time.Second || addressLimit.delay(100) != 30*time.Second {
		t.Errorf("address figures: %s %s %s", addressLimit.delay(30), addressLimit.delay(31), addressLimit.delay(100))
	}
}

// attack makes failures for account from addr, waiting as told, until n
// failures were recorded; it returns the time spent waiting.
func attack(l *loginLimiter, clk *fakeClock, account, addr string, n int) time.Duration {
	var waited time.Duration
	for i := 0; i < n; {
		if w := l.wait(account, addr); w > 0 {
			clk.advance(w)
			waited += w
			continue
		}
		l.fail(account, addr)
		i++
	}
	return waited
}

func TestLoginLimiterLocksThePairNotTheAccount(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newLoginLimiter(clk.now)
	waited := attack(l, clk, "victim@example.com", "10.0.0.2", 10)
	if waited != 15*time.Second { // 1+2+4+8: ten guesses cost an attacker 15 s
		t.Fatalf("ten failures cost %s of waiting", waited)
	}
	if w := l.wait("victim@example.com", "10.0.0.2"); w < 14*time.Minute {
		t.Fatalf("the attacking pair waits only %s after 10 failures", w)
	}
	if w := l.wait("victim@example.com", "10.0.0.3"); w > 10*time.Second {
		t.Fatalf("the owner from another address waits %s", w)
	}
	if w := l.wait("other@example.com", "10.0.0.2"); w != 0 {
		t.Fatalf("another account from the attacker's address waits %s", w)
	}
	// The owner signs in: their account starts over, the attacker stays locked.
	clk.advance(10 * time.Second)
	l.succeed("victim@example.com", "10.0.0.3")
	if w := l.wait("victim@example.com", "10.0.0.3"); w != 0 {
		t.Fatalf("after a success the owner waits %s", w)
	}
	if w := l.wait("victim@example.com", "10.0.0.2"); w == 0 {
		t.Fatal("the owner's success unlocked the attacker's address")
	}
	// Everything is forgotten 15 minutes after the last failure.
	clk.advance(15 * time.Minute)
	if w := l.wait("victim@example.com", "10.0.0.2"); w != 0 {
		t.Fatalf("still waiting %s after 15 minutes", w)
	}
}

func TestLoginLimiterSlowsDownSprayingFromOneAddress(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	l := newLoginLimiter(clk.now)
	for i := range 30 { // one guess for each of 30 accounts: free
		if w := l.wait(fmt.Sprintf("user%d@example.com", i), "10.0.0.9"); w != 0 {
			t.Fatalf("guess %d waits %s", i, w)
		}
		l.fail(fmt.Sprintf("user%d@example.com", i), "10.0.0.9")
	}
	l.fail("user30@example.com", "10.0.0.9")
	if w := l.wait("fresh@example.com", "10.0.0.9"); w != time.Second {
		t.Fatalf("after 31 failures from one address a new account waits %s, want 1 s", w)
	}
	if w := l.wait("fresh@example.com", "10.0.0.10"); w != 0 {
		t.Fatalf("a neighbouring address waits %s", w)
	}
}

func TestBackoffMemoryIsBounded(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	b := newBackoff(accountLimit, clk.now)
	for i := range maxKeys + 10 {
		b.fail(fmt.Sprint(i))
	}
	if len(b.hits) > maxKeys {
		t.Fatalf("%d keys kept, cap %d", len(b.hits), maxKeys)
	}
}
