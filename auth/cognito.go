package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/vegasec/vega/store"
)

// CognitoIdentity is what Vega takes from a verified Cognito access token.
type CognitoIdentity struct {
	Subject  string
	Username string
	Email    string
	Groups   []string
}

// CognitoVerifier validates Cognito access tokens against the pool's JWKS
// (cached by keyfunc, refreshed when an unknown kid shows up).
type CognitoVerifier struct {
	issuer   string
	clientID string
	keys     keyfunc.Keyfunc
	now      func() time.Time
}

// NewCognitoVerifier fetches the pool's JWKS from <issuer>/.well-known/jwks.json.
// ctx bounds the background refresh goroutine's life.
func NewCognitoVerifier(ctx context.Context, issuer, clientID string, now func() time.Time) (*CognitoVerifier, error) {
	issuer = strings.TrimRight(issuer, "/")
	k, err := keyfunc.NewDefaultCtx(ctx, []string{issuer + "/.well-known/jwks.json"})
	if err != nil {
		return nil, fmt.Errorf("cognito: load JWKS: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &CognitoVerifier{issuer: issuer, clientID: clientID, keys: k, now: now}, nil
}

type cognitoClaims struct {
	TokenUse string   `json:"token_use"`
	ClientID string   `json:"client_id"`
	Username string   `json:"username"`
	Email    string   `json:"email"`
	Groups   []string `json:"cognito:groups"`
	jwt.RegisteredClaims
}

// Verify checks signature (RS256 only), issuer, token_use=access, client_id,
// exp and nbf (with a small skew).
func (v *CognitoVerifier) Verify(ctx context.Context, raw string) (*CognitoIdentity, error) {
	c := &cognitoClaims{}
	_, err := jwt.ParseWithClaims(raw, c, v.keys.KeyfuncCtx(ctx),
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(v.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(v.now),
	)
	if err != nil {
		return nil, err
	}
	if c.TokenUse != "access" {
		return nil, errors.New("cognito: not an access token")
	}
	if c.ClientID != v.clientID {
		return nil, errors.New("cognito: token for another app client")
	}
	if c.Subject == "" {
		return nil, errors.New("cognito: token without sub")
	}
	return &CognitoIdentity{Subject: c.Subject, Username: c.Username, Email: c.Email, Groups: mapGroups(c.Groups)}, nil
}

// mapGroups keeps the Cognito groups Vega knows and always includes "user".
func mapGroups(in []string) []string {
	out := []string{}
	for _, g := range []string{store.GroupRoot, store.GroupOperator} {
		for _, x := range in {
			if x == g {
				out = append(out, g)
				break
			}
		}
	}
	return append(out, store.GroupUser)
}
