package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/vegasec/vega/store"
)

// CognitoIdentity is what Vega takes from a verified Cognito access token.
type CognitoIdentity struct {
	Subject string
	// Username is Cognito's name for the user (for AdminGetUser). With email
	// sign-in it is an opaque ID, not the address.
	Username string
	// Groups are Vega's groups, mapped from `cognito:groups` (CognitoGroups).
	Groups []string
	// SignedInAt is when the user signed in (`auth_time`). Tokens renewed
	// with a refresh token keep it, so "sign out everywhere" can refuse them
	// too; a token without it (kumo's) counts from its `iat`.
	SignedInAt time.Time
}

// CognitoGroups names the Cognito groups whose members are Vega's root and
// operator (VEGA_COGNITO_ROOT_GROUP, VEGA_COGNITO_OPERATOR_GROUP). Every
// signed-in user is a "user".
type CognitoGroups struct {
	Root     string
	Operator string
}

// DefaultCognitoGroups are the names the CDK stack creates (docs/deploy-aws.md).
var DefaultCognitoGroups = CognitoGroups{Root: store.GroupRoot, Operator: store.GroupOperator}

// Map turns the token's `cognito:groups` into Vega's groups, in a fixed order
// (root, operator, user) so that a stored list compares equal to a new one.
func (g CognitoGroups) Map(cognitoGroups []string) []string {
	has := func(name string) bool {
		for _, x := range cognitoGroups {
			if x == name {
				return true
			}
		}
		return false
	}
	out := []string{}
	if has(g.Root) {
		out = append(out, store.GroupRoot)
	}
	if has(g.Operator) {
		out = append(out, store.GroupOperator)
	}
	return append(out, store.GroupUser)
}

// CognitoVerifierOptions configure NewCognitoVerifier.
type CognitoVerifierOptions struct {
	Issuer   string // https://cognito-idp.<region>.amazonaws.com/<pool>
	ClientID string // the app client tokens must be issued to
	Groups   CognitoGroups
	Now      func() time.Time
	Logger   *slog.Logger // JWKS refresh failures
}

// CognitoVerifier validates Cognito access tokens against the pool's JWKS
// (cached by keyfunc, refreshed when an unknown kid shows up).
type CognitoVerifier struct {
	issuer   string
	clientID string
	groups   CognitoGroups
	keys     keyfunc.Keyfunc
	now      func() time.Time
}

// NewCognitoVerifier reads the pool's JWKS from <issuer>/.well-known/jwks.json
// (a failed first read is retried when a token needs a key). ctx bounds the
// background refresh goroutine's life.
func NewCognitoVerifier(ctx context.Context, o CognitoVerifierOptions) (*CognitoVerifier, error) {
	issuer := strings.TrimRight(o.Issuer, "/")
	if o.Groups == (CognitoGroups{}) {
		o.Groups = DefaultCognitoGroups
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	url := issuer + "/.well-known/jwks.json"
	k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				o.Logger.Error("cognito: refresh the pool's signing keys", "url", url, "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cognito: load JWKS: %w", err)
	}
	return &CognitoVerifier{issuer: issuer, clientID: o.ClientID, groups: o.Groups, keys: k, now: o.Now}, nil
}

type cognitoClaims struct {
	TokenUse string           `json:"token_use"`
	ClientID string           `json:"client_id"`
	Username string           `json:"username"`
	Groups   []string         `json:"cognito:groups"`
	AuthTime *jwt.NumericDate `json:"auth_time"`
	jwt.RegisteredClaims
}

// Verify checks signature (RS256 only), issuer, token_use=access, client_id,
// exp, nbf and iat (with a small skew).
func (v *CognitoVerifier) Verify(ctx context.Context, raw string) (*CognitoIdentity, error) {
	c := &cognitoClaims{}
	_, err := jwt.ParseWithClaims(raw, c, v.keys.KeyfuncCtx(ctx),
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(v.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
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
	signedIn := c.AuthTime
	if signedIn == nil {
		signedIn = c.IssuedAt
	}
	if signedIn == nil {
		return nil, errors.New("cognito: token without auth_time or iat")
	}
	return &CognitoIdentity{Subject: c.Subject, Username: c.Username, Groups: v.groups.Map(c.Groups),
		SignedInAt: signedIn.UTC()}, nil
}
