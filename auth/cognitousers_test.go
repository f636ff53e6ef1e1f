package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/cognitoidp"
)

// directory is the user pool's AdminGetUser, answered from a map.
type directory struct {
	mu       sync.Mutex
	profiles map[string]*CognitoProfile
	calls    atomic.Int32
	err      error
}

func (d *directory) Profile(_ context.Context, username string) (*CognitoProfile, error) {
	d.calls.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, d.err
	}
	p, ok := d.profiles[username]
	if !ok {
		return nil, errors.New("UserNotFoundException")
	}
	c := *p
	return &c, nil
}

func (d *directory) set(username string, p *CognitoProfile) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.profiles[username] = p
}

func newCognitoService(t *testing.T, dir CognitoDirectory) (*Service, *cognitoidp.Issuer, store.Store) {
	t.Helper()
	idp, v := newTestVerifier(t)
	s, st := newTestServiceWith(t, Options{Provider: "cognito", Cognito: v, CognitoUsers: dir})
	return s, idp, st
}

// The pool's attributes are the user's own input: only a verified email is
// taken, and names pass the display-name rules.
func TestCognitoProfileIsCheckedBeforeItIsCopied(t *testing.T) {
	d := &directory{profiles: map[string]*CognitoProfile{
		"sub-1": {Email: "Alice@Example.COM", EmailVerified: true, Name: "Alice\u202eevil"},
		"sub-2": {Email: "ceo@example.com", EmailVerified: false, Name: "Bob"},
	}}
	s, idp, _ := newCognitoService(t, d)
	ctx := context.Background()

	p, err := s.Authenticate(ctx, idp.Sign(t, idp.Access("sub-1", "client-1")))
	if err != nil {
		t.Fatal(err)
	}
	if p.User.Email != "alice@example.com" || p.User.DisplayName != "alice" {
		t.Fatalf("verified email with a bidi-override name: %q %q", p.User.Email, p.User.DisplayName)
	}
	p, err = s.Authenticate(ctx, idp.Sign(t, idp.Access("sub-2", "client-1")))
	if err != nil {
		t.Fatal(err)
	}
	if p.User.Email != "sub-2@cognito.invalid" || p.User.DisplayName != "Bob" {
		t.Fatalf("unverified email was copied: %q %q", p.User.Email, p.User.DisplayName)
	}

	// An address verified later arrives with the next sign-in, not before.
	d.set("sub-2", &CognitoProfile{Email: "bob@example.com", EmailVerified: true, Name: "Bob"})
	c := idp.Access("sub-2", "client-1")
	c["auth_time"] = time.Now().Add(-time.Minute).Unix() // a token of the sign-in already seen
	if p, err = s.Authenticate(ctx, idp.Sign(t, c)); err != nil || p.User.Email != "sub-2@cognito.invalid" {
		t.Fatalf("same sign-in: %+v, %v", p, err)
	}
	later := idp.Access("sub-2", "client-1")
	later["auth_time"] = time.Now().Add(2 * time.Second).Unix()
	if p, err = s.Authenticate(ctx, idp.Sign(t, later)); err != nil || p.User.Email != "bob@example.com" {
		t.Fatalf("next sign-in: %+v, %v", p, err)
	}
}

// A pool that cannot be asked (no permission, throttled) does not stop
// anyone from signing in; the user keeps what Vega has.
func TestCognitoSignInWithoutThePool(t *testing.T) {
	d := &directory{err: errors.New("AccessDeniedException: not authorized to perform cognito-idp:AdminGetUser")}
	s, idp, _ := newCognitoService(t, d)
	p, err := s.Authenticate(context.Background(), idp.Sign(t, idp.Access("sub-9", "client-1", "root")))
	if err != nil {
		t.Fatal(err)
	}
	if p.User.Email != "sub-9@cognito.invalid" || p.User.DisplayName != "sub-9" || !p.User.HasGroup(store.GroupRoot) {
		t.Fatalf("user without a profile: %+v", p.User)
	}
}

// Requests of one sign-in share one pool lookup and one write.
func TestCognitoSignInIsRecordedOnce(t *testing.T) {
	d := &directory{profiles: map[string]*CognitoProfile{"sub-1": {Email: "a@example.com", EmailVerified: true}}}
	s, idp, st := newCognitoService(t, d)
	tok := idp.Sign(t, idp.Access("sub-1", "client-1"))
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Authenticate(context.Background(), tok)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	us, _, err := st.ListUsers(context.Background(), store.Page{Limit: 10})
	if err != nil || len(us) != 1 {
		t.Fatalf("users: %d, %v", len(us), err)
	}
	// Most requests arrive while the first one's record is in flight; a few
	// may start after it ended and find the user in the store.
	if n := d.calls.Load(); n > 3 {
		t.Fatalf("%d pool lookups for one sign-in", n)
	}
}

// Cognito owns a Cognito user's password and groups, and its own users.
func TestCognitoOwnsItsUsers(t *testing.T) {
	s, idp, _ := newCognitoService(t, nil)
	ctx := context.Background()
	p, err := s.Authenticate(ctx, idp.Sign(t, idp.Access("sub-1", "client-1")))
	if err != nil {
		t.Fatal(err)
	}
	pw, groups := "a long new password", []string{store.GroupRoot}
	for what, patch := range map[string]UserPatch{"password": {Password: &pw}, "groups": {Groups: &groups}} {
		if _, err := s.UpdateUser(ctx, p.User.ID, patch); !apperr.IsCode(err, apperr.BadRequest) {
			t.Errorf("%s of a Cognito user changed: %v", what, err)
		}
	}
	name := "Alice"
	if u, err := s.UpdateUser(ctx, p.User.ID, UserPatch{DisplayName: &name}); err != nil || u.DisplayName != "Alice" {
		t.Fatalf("display name: %+v, %v", u, err)
	}
	if _, err := s.CreateUser(ctx, NewUser{Email: "x@example.com", Password: "a long password"}); !apperr.IsCode(err, apperr.BadRequest) {
		t.Fatalf("local user created under cognito: %v", err)
	}
	if _, err := s.Login(ctx, "x@example.com", "a long password", "127.0.0.1"); !apperr.IsCode(err, apperr.BadRequest) {
		t.Fatalf("password sign-in under cognito: %v", err)
	}
	if _, err := s.Refresh(ctx, "anything"); !apperr.IsCode(err, apperr.BadRequest) {
		t.Fatalf("refresh under cognito: %v", err)
	}
}
