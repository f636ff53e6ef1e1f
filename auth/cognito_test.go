package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/cognitoidp"
)

// newTestVerifier is a verifier of a fake user pool's tokens for client-1;
// its key refresh stops when the test ends.
func newTestVerifier(tb testing.TB) (*cognitoidp.Issuer, *CognitoVerifier) {
	tb.Helper()
	idp := cognitoidp.Start(tb)
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	v, err := NewCognitoVerifier(ctx, CognitoVerifierOptions{Issuer: idp.URL(), ClientID: "client-1"})
	if err != nil {
		tb.Fatal(err)
	}
	return idp, v
}

func TestCognitoVerifier(t *testing.T) {
	idp, v := newTestVerifier(t)
	ctx := context.Background()
	good := func() jwt.MapClaims { return idp.Access("sub-1", "client-1", "operator", "admins") }
	signedIn := time.Now().Add(-time.Hour).Truncate(time.Second)
	c := good()
	c["auth_time"] = signedIn.Unix()
	id, err := v.Verify(ctx, idp.Sign(t, c))
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if id.Subject != "sub-1" || !slices.Equal(id.Groups, []string{store.GroupOperator, store.GroupUser}) || !id.SignedInAt.Equal(signedIn) {
		t.Fatalf("identity %+v", id)
	}
	// Without auth_time (kumo's tokens), the sign-in counts from iat.
	c = good()
	delete(c, "auth_time")
	c["iat"] = signedIn.Unix()
	if id, err := v.Verify(ctx, idp.Sign(t, c)); err != nil || !id.SignedInAt.Equal(signedIn) {
		t.Fatalf("token without auth_time: %+v, %v", id, err)
	}

	// A rotated pool key is picked up when a token names the new kid.
	idp.AddKey(t, "key-2")
	if _, err := v.Verify(ctx, idp.Sign(t, good())); err != nil {
		t.Fatalf("rotated key not fetched: %v", err)
	}

	// (keyfunc rate-limits refreshes for unknown kids, so a flood of made-up
	// kids cannot hammer the JWKS endpoint; the rotation check comes first.)
	mutate := func(f func(c jwt.MapClaims)) jwt.MapClaims { c := good(); f(c); return c }
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
	hs.Header["kid"] = "key-2"
	hsTok, _ := hs.SignedString([]byte("secret-secret-secret-secret-32by"))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	now := time.Now()
	cases := map[string]string{
		"id token":           idp.Sign(t, mutate(func(c jwt.MapClaims) { c["token_use"] = "id" })),
		"no token_use":       idp.Sign(t, mutate(func(c jwt.MapClaims) { delete(c, "token_use") })),
		"other client":       idp.Sign(t, mutate(func(c jwt.MapClaims) { c["client_id"] = "client-2" })),
		"other issuer":       idp.Sign(t, mutate(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/pool" })),
		"expired":            idp.Sign(t, mutate(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"not yet valid":      idp.Sign(t, mutate(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"issued in a future": idp.Sign(t, mutate(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })),
		"no expiry":          idp.Sign(t, mutate(func(c jwt.MapClaims) { delete(c, "exp") })),
		"no sub":             idp.Sign(t, mutate(func(c jwt.MapClaims) { delete(c, "sub") })),
		"no sign-in time":    idp.Sign(t, mutate(func(c jwt.MapClaims) { delete(c, "auth_time"); delete(c, "iat") })),
		"unknown key":        cognitoidp.SignWith(t, other, "k9", good()),
		"wrong key same kid": cognitoidp.SignWith(t, other, "key-2", good()),
		"HS256 confusion":    hsTok,
		"alg none":           none,
	}
	for name, tok := range cases {
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCognitoGroupsMap(t *testing.T) {
	g := CognitoGroups{Root: "Vega-Admins", Operator: "secops"}
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{nil, []string{store.GroupUser}},
		{[]string{"root", "operator"}, []string{store.GroupUser}}, // the default names mean nothing here
		{[]string{"secops", "Vega-Admins", "other"}, []string{store.GroupRoot, store.GroupOperator, store.GroupUser}},
		{[]string{"vega-admins"}, []string{store.GroupUser}}, // Cognito group names are case-sensitive
	} {
		if got := g.Map(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Map(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := DefaultCognitoGroups.Map([]string{"operator", "root"}); !slices.Equal(got, []string{store.GroupRoot, store.GroupOperator, store.GroupUser}) {
		t.Errorf("defaults: %v", got)
	}
}

// BenchmarkCognitoVerify is the CPU a Cognito token costs a request before any
// store read: parsing and one RS256 (RSA-2048) signature check.
func BenchmarkCognitoVerify(b *testing.B) {
	idp, v := newTestVerifier(b)
	ctx := context.Background()
	tok := idp.Sign(b, idp.Access("sub-1", "client-1", "operator"))
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
