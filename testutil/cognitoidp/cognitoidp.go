// Package cognitoidp plays the token side of a Cognito user pool for tests:
// it serves the pool's JWKS at /<pool>/.well-known/jwks.json, as Cognito and
// kumo do, and signs RS256 access tokens with the claims Cognito puts in
// them (groups and auth_time included, which kumo's tokens lack). Keys can be
// added to test rotation. Only tests import it.
package cognitoidp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Pool is the pool ID in every issuer's URL.
const Pool = "us-east-1_VegaTest"

// Issuer is one scripted pool.
type Issuer struct {
	srv *httptest.Server

	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
	kid  string // the key new tokens are signed with
}

// Start runs an issuer with one signing key until the test ends.
func Start(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{keys: map[string]*rsa.PrivateKey{}}
	i.srv = httptest.NewServer(http.HandlerFunc(i.serveJWKS))
	t.Cleanup(i.srv.Close)
	i.AddKey(t, "key-1")
	return i
}

// URL is the issuer (`iss`): VEGA_COGNITO_ISSUER.
func (i *Issuer) URL() string { return i.srv.URL + "/" + Pool }

func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/"+Pool+"/.well-known/jwks.json" {
		http.NotFound(w, r)
		return
	}
	i.mu.Lock()
	var ks []map[string]string
	for kid, k := range i.keys {
		ks = append(ks, map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
	}
	i.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": ks})
}

// AddKey publishes a new key and signs later tokens with it (key rotation).
func (i *Issuer) AddKey(t testing.TB, kid string) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys[kid], i.kid = k, kid
	return k
}

// Access returns the claims of a Cognito access token for sub, issued to
// clientID just now from a sign-in just now, valid for 15 minutes; change
// the map before signing it.
func (i *Issuer) Access(sub, clientID string, groups ...string) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": sub, "iss": i.URL(), "client_id": clientID, "token_use": "access",
		"scope": "openid email profile", "username": sub, "origin_jti": "ojti-" + sub,
		"jti": rand.Text(), "event_id": rand.Text(),
		"auth_time": now.Unix(), "iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
	if len(groups) > 0 {
		c["cognito:groups"] = groups
	}
	return c
}

// Sign signs claims with the current key, naming it in `kid`.
func (i *Issuer) Sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	i.mu.Lock()
	kid, k := i.kid, i.keys[i.kid]
	i.mu.Unlock()
	return SignWith(t, k, kid, claims)
}

// SignWith signs claims with any key (one the pool never published, say).
func SignWith(t testing.TB, k *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
