package auth

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/bolt"
)

func newTestService(t *testing.T) (*Service, store.Store) {
	return newTestServiceWith(t, Options{})
}

// newTestServiceWith is a seeded service on a fresh bolt store with opt (the
// test secret when opt has none): every auth test starts from one.
func newTestServiceWith(t *testing.T, opt Options) (*Service, store.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opt.Secret == nil {
		opt.Secret = []byte(strings.Repeat("s", 32))
	}
	s, err := New(st, opt)
	if err != nil {
		t.Fatal(err)
	}
	s.MarkSeeded()
	return s, st
}

// createTestUser makes a local user whose password is "a long password".
func createTestUser(t *testing.T, s *Service, email string) *store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), NewUser{Email: email, Password: "a long password"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The generation check stands on its own: a bumped generation refuses both
// tokens even while their refresh session is still live in the store.
func TestGenerationAloneRefusesOlderTokens(t *testing.T) {
	s, st := newTestService(t)
	ctx := context.Background()
	u := createTestUser(t, s, "a@example.com")
	tok, err := s.Login(ctx, "a@example.com", "a long password", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatalf("fresh access token: %v", err)
	}
	if _, err := st.UpdateUser(ctx, u.ID, func(x *store.User) error { x.SessionGeneration++; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok.AccessToken); !apperr.IsCode(err, apperr.Unauthorized) {
		t.Fatalf("access token of an older generation: %v", err)
	}
	if _, err := s.Refresh(ctx, tok.RefreshToken); !apperr.IsCode(err, apperr.Unauthorized) {
		t.Fatalf("refresh token of an older generation: %v", err)
	}
	// A new sign-in carries the new generation.
	tok, err = s.Login(ctx, "a@example.com", "a long password", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatalf("access token of the current generation: %v", err)
	}
}

// An access token must name its session: one signed without a family (with
// the right key) is refused, so logout can always end an access token.
func TestAccessTokenWithoutSessionIsRefused(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	u := createTestUser(t, s, "b@example.com")
	raw, _, err := s.sig.sign(TypeAccess, u.ID, "atk_x", 0, "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, raw); !apperr.IsCode(err, apperr.Unauthorized) {
		t.Fatalf("access token without a session family: %v", err)
	}
}

// A changed VEGA_DEBUG_PASSWORD is a password change: sessions signed in with
// the old one end at the next start, API keys (automation) stay.
func TestNewDebugPasswordEndsOldSessions(t *testing.T) {
	s, _ := newTestService(t)
	ctx := context.Background()
	if _, err := s.SeedDebugUser(ctx, "debug@example.com", "first debug password"); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Login(ctx, "debug@example.com", "first debug password", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.CreateAPIKey(ctx, tok.User.ID, "ci", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SeedDebugUser(ctx, "debug@example.com", "first debug password"); err != nil { // unchanged: nothing ends
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Fatalf("an unchanged password ended the session: %v", err)
	}
	if _, err := s.SeedDebugUser(ctx, "debug@example.com", "second debug password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok.AccessToken); !apperr.IsCode(err, apperr.Unauthorized) {
		t.Fatalf("access token after the debug password changed: %v", err)
	}
	if _, err := s.Refresh(ctx, tok.RefreshToken); !apperr.IsCode(err, apperr.Unauthorized) {
		t.Fatalf("refresh token after the debug password changed: %v", err)
	}
	if _, err := s.Authenticate(ctx, key.Secret); err != nil {
		t.Fatalf("the debug user's API key after a password change at start-up: %v", err)
	}
}

// A browser that reloads while a refresh is in flight loses the answer (and
// the new cookie) after the server rotated; its next page load presents the
// old token again. Within RefreshRetryGrace that is a retry, not theft.
func TestRefreshRetryOfALostRotation(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s, _ := newTestServiceWith(t, Options{Now: clk.now})
	ctx := context.Background()
	createTestUser(t, s, "r@example.com")
	login := func() *Tokens {
		tok, err := s.Login(ctx, "r@example.com", "a long password", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	refresh := func(raw, what string, ok bool) *Tokens {
		t.Helper()
		clk.advance(time.Second)
		tok, err := s.Refresh(ctx, raw)
		if ok && err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !ok && !apperr.IsCode(err, apperr.Unauthorized) {
			t.Fatalf("%s: got %v, want unauthorized", what, err)
		}
		return tok
	}

	r0 := login().RefreshToken
	refresh(r0, "first use", true) // its answer is lost
	r2 := refresh(r0, "a retry within the grace", true)
	if _, err := s.Authenticate(ctx, r2.AccessToken); err != nil {
		t.Fatalf("access token from the retry: %v", err)
	}
	refresh(r0, "the same token two rotations back", false) // theft: the family is revoked
	refresh(r2.RefreshToken, "the family after theft was detected", false)

	// Later than the grace, presenting a rotated token again is theft.
	r0 = login().RefreshToken
	r1 := refresh(r0, "first use", true)
	clk.advance(RefreshRetryGrace)
	refresh(r0, "a retry after the grace", false)
	refresh(r1.RefreshToken, "the family after a late retry", false)

	// A retry cannot revive a session that was ended on purpose.
	tok := login()
	refresh(tok.RefreshToken, "first use", true)
	if err := s.Logout(ctx, nil, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	refresh(tok.RefreshToken, "a retry after logout", false)
}
