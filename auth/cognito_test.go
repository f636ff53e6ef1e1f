package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves a pool's /.well-known/jwks.json like Cognito does; keys can
// be rotated to check refresh on an unknown kid.
type jwksServer struct {
	srv  *httptest.Server
	keys atomic.Value // map[kid]*rsa.PrivateKey
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{}
	j.keys.Store(map[string]*rsa.PrivateKey{})
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/pool/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		var ks []map[string]string
		for kid, k := range j.keys.Load().(map[string]*rsa.PrivateKey) {
			ks = append(ks, map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
				"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
		}
		json.NewEncoder(w).Encode(map[string]any{"keys": ks})
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwksServer) addKey(t *testing.T, kid string) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*rsa.PrivateKey{}
	for id, v := range j.keys.Load().(map[string]*rsa.PrivateKey) {
		m[id] = v
	}
	m[kid] = k
	j.keys.Store(m)
	return k
}

func (j *jwksServer) issuer() string { return j.srv.URL + "/pool" }

func signRS(t *testing.T, k *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCognitoVerifier(t *testing.T) {
	j := newJWKSServer(t)
	k1 := j.addKey(t, "k1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewCognitoVerifier(ctx, j.issuer(), "client-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": j.issuer(), "sub": "sub-1", "token_use": "access", "client_id": "client-1",
			"username": "alice", "cognito:groups": []string{"operator", "admins"}, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	}
	id, err := v.Verify(ctx, signRS(t, k1, "k1", good()))
	if err != nil {
		t.Fatalf("valid token: %v", err)
	}
	if id.Subject != "sub-1" || len(id.Groups) != 2 || id.Groups[0] != "operator" || id.Groups[1] != "user" {
		t.Fatalf("identity %+v", id)
	}

	// A rotated pool key is picked up when a token names the new kid.
	k2 := j.addKey(t, "k2")
	if _, err := v.Verify(ctx, signRS(t, k2, "k2", good())); err != nil {
		t.Fatalf("rotated key not fetched: %v", err)
	}

	// (keyfunc rate-limits refreshes for unknown kids, so a flood of made-up
	// kids cannot hammer the JWKS endpoint; the rotation check comes first.)
	mutate := func(f func(c jwt.MapClaims)) jwt.MapClaims { c := good(); f(c); return c }
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
	hs.Header["kid"] = "k1"
	hsTok, _ := hs.SignedString([]byte("secret-secret-secret-secret-32by"))
	cases := map[string]string{
		"id token":           signRS(t, k1, "k1", mutate(func(c jwt.MapClaims) { c["token_use"] = "id" })),
		"other client":       signRS(t, k1, "k1", mutate(func(c jwt.MapClaims) { c["client_id"] = "client-2" })),
		"other issuer":       signRS(t, k1, "k1", mutate(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com/pool" })),
		"expired":            signRS(t, k1, "k1", mutate(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"not yet valid":      signRS(t, k1, "k1", mutate(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"no expiry":          signRS(t, k1, "k1", mutate(func(c jwt.MapClaims) { delete(c, "exp") })),
		"unknown key":        signRS(t, other, "k9", good()),
		"wrong key same kid": signRS(t, other, "k1", good()),
		"HS256 confusion":    hsTok,
	}
	for name, tok := range cases {
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

}
