// Package auth signs users in and authenticates requests: the custom provider
// (debug and local users, HS256 access/refresh tokens), API keys, and Cognito
// access tokens validated against the pool's JWKS.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types carried in the `typ` claim, so a refresh token is never accepted
// where an access token is expected (and the reverse).
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

type claims struct {
	Type string `json:"typ"`
	// Generation is the user's session generation when the token was issued;
	// a token from an older generation is refused (docs/auth.md).
	Generation int64 `json:"gen"`
	// Family is the refresh family (sign-in session) the token belongs to.
	Family string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// signer issues and verifies custom-provider tokens.
type signer struct {
	key []byte
	now func() time.Time
}

func (s *signer) sign(typ, subject, jti string, gen int64, family string, ttl time.Duration) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(ttl)
	c := claims{Type: typ, Generation: gen, Family: family, RegisteredClaims: jwt.RegisteredClaims{
		Subject:   subject,
		ID:        jti,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
		Issuer:    "vega",
	}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.key)
	return tok, exp, err
}

// verify checks signature, algorithm, expiry and type.
func (s *signer) verify(raw, wantType string) (*claims, error) {
	c := &claims{}
	_, err := jwt.ParseWithClaims(raw, c, func(t *jwt.Token) (any, error) { return s.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer("vega"),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return nil, err
	}
	if c.Type != wantType {
		return nil, fmt.Errorf("token type %q, want %q", c.Type, wantType)
	}
	if c.Subject == "" || c.ID == "" {
		return nil, errors.New("token without subject or id")
	}
	return c, nil
}

// hashToken is how refresh tokens, API keys and upload tokens are stored: a
// SHA-256 of a high-entropy secret needs no salt or slow hash.
func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// HashToken is exported for other packages that store bearer secrets the same way.
func HashToken(t string) string { return hashToken(t) }

// randomString returns n random bytes, base64url encoded.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomToken is a URL-safe secret with n random bytes.
func RandomToken(n int) string { return randomString(n) }
