package auth

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
)

// CognitoDirectory reads a user's attributes from the user pool. Access
// tokens carry neither email nor name, so the first request of each sign-in
// asks the pool (docs/auth.md).
type CognitoDirectory interface {
	Profile(ctx context.Context, username string) (*CognitoProfile, error)
}

// CognitoProfile is what Vega copies from the pool onto its user row.
type CognitoProfile struct {
	Email         string
	EmailVerified bool
	// Name is the first of the `name` and `preferred_username` attributes that is set.
	Name string
}

// profileTimeout bounds one sign-in's pool lookup, retries included: a slow
// pool delays the first request of a sign-in, never blocks it.
const profileTimeout = 5 * time.Second

var errSessionsEnded = apperr.Unauthorizedf("Your sessions were ended (signed out everywhere); sign in again")

// authenticateCognito turns a Cognito access token into a principal. The
// user row is keyed by the token's sub: created at the first sign-in, and
// refreshed (email, name, last login) at each later one. The token's groups
// decide authorization on every request; the row keeps a copy for display.
func (s *Service) authenticateCognito(ctx context.Context, raw string) (*Principal, error) {
	id, err := s.opt.Cognito.Verify(ctx, raw)
	if err != nil {
		return nil, errUnauthenticated
	}
	u, err := s.st.GetUserBySubject(ctx, id.Subject)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u, err = s.cognitoSignIn(ctx, id)
	case err == nil && sessionsEnded(u, id):
		return nil, errSessionsEnded
	case err == nil && (u.LastLoginAt == nil || id.SignedInAt.After(*u.LastLoginAt)):
		u, err = s.cognitoSignIn(ctx, id)
	case err == nil && !slices.Equal(u.Groups, id.Groups):
		// Membership changed in Cognito, or a token of before the change is
		// still in use beside a newer one; the row shows the latest seen. It
		// is a copy for display: failing to write it fails no request.
		if upd, uerr := s.st.UpdateUser(ctx, u.ID, func(x *store.User) error { x.Groups = id.Groups; return nil }); uerr == nil {
			u = upd
		} else {
			s.opt.Logger.Warn("cognito: record a user's groups", "user_id", u.ID, "err", uerr)
		}
	}
	if err != nil {
		return nil, err
	}
	if sessionsEnded(u, id) {
		return nil, errSessionsEnded
	}
	p := *u
	p.Groups = slices.Clone(id.Groups)
	return &Principal{User: &p}, nil
}

// sessionsEnded reports whether id comes from a sign-in at or before the
// user's last "sign out everywhere". auth_time has whole seconds, so a
// sign-in within the same second as the sign-out is refused too.
func sessionsEnded(u *store.User, id *CognitoIdentity) bool {
	return u.SessionsEndedAt != nil && !id.SignedInAt.After(*u.SessionsEndedAt)
}

// cognitoSignIn records a sign-in seen for the first time: it creates the
// user, or updates last login, email and name. Requests of one sign-in share
// one record (and one pool lookup) per process; across processes the store
// decides: the subject is unique, so concurrent first sign-ins make one user.
func (s *Service) cognitoSignIn(ctx context.Context, id *CognitoIdentity) (*store.User, error) {
	key := id.Subject + "\x00" + strconv.FormatInt(id.SignedInAt.Unix(), 10)
	v, err, _ := s.signIns.Do(key, func() (any, error) {
		// Shared by every waiting request: not bound to the first one's life.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*profileTimeout)
		defer cancel()
		return s.recordCognitoSignIn(ctx, id, s.cognitoProfile(ctx, id))
	})
	if err != nil {
		return nil, err
	}
	return v.(*store.User), nil
}

func (s *Service) recordCognitoSignIn(ctx context.Context, id *CognitoIdentity, prof *CognitoProfile) (*store.User, error) {
	signedIn := id.SignedInAt
	u, err := s.st.GetUserBySubject(ctx, id.Subject)
	if errors.Is(err, store.ErrNotFound) {
		u = &store.User{ID: store.NewID(store.PrefixUser), AuthSubject: id.Subject, Groups: id.Groups,
			Email: cognitoPlaceholderEmail(id.Subject), CreatedAt: s.opt.Now().UTC(), LastLoginAt: &signedIn}
		applyCognitoProfile(u, id, prof)
		err = s.st.CreateUser(ctx, u)
		if err == nil {
			s.opt.Logger.Info("created the user of a new Cognito sign-in", "user_id", u.ID, "groups", u.Groups)
			return u, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		// Another process created it meanwhile: record this sign-in on theirs.
		if u, err = s.st.GetUserBySubject(ctx, id.Subject); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	return s.st.UpdateUser(ctx, u.ID, func(x *store.User) error {
		if x.LastLoginAt == nil || signedIn.After(*x.LastLoginAt) {
			x.LastLoginAt = &signedIn
			applyCognitoProfile(x, id, prof)
		}
		x.Groups = id.Groups
		return nil
	})
}

// cognitoProfile asks the pool for the user's attributes; nil when there is
// no directory or the lookup fails (logged: the sign-in goes ahead with
// what the row has).
func (s *Service) cognitoProfile(ctx context.Context, id *CognitoIdentity) *CognitoProfile {
	if s.opt.CognitoUsers == nil || id.Username == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, profileTimeout)
	defer cancel()
	p, err := s.opt.CognitoUsers.Profile(ctx, id.Username)
	if err != nil {
		s.opt.Logger.Warn("cognito: cannot read the signed-in user's email and name from the user pool; keeping what Vega has",
			"sub", id.Subject, "err", err)
		return nil
	}
	return p
}

// applyCognitoProfile copies the pool's verified email and a display name
// onto u. Attributes are the user's own input (a user may be allowed to edit
// them), so only a verified, well-formed email is taken, and names pass the
// same checks as any display name.
func applyCognitoProfile(u *store.User, id *CognitoIdentity, p *CognitoProfile) {
	if p != nil && p.EmailVerified {
		if e := normalizeEmail(p.Email); len(e) <= 254 && validEmail(e) {
			u.Email = e
		}
	}
	candidates := []string{}
	if p != nil {
		candidates = append(candidates, p.Name)
	}
	if !strings.HasSuffix(u.Email, cognitoPlaceholderDomain) {
		candidates = append(candidates, strings.SplitN(u.Email, "@", 2)[0])
	}
	candidates = append(candidates, id.Username)
	for _, c := range candidates {
		if name, problem := textsafe.Name(c, textsafe.MaxDisplayName); problem == "" {
			u.DisplayName = name
			return
		}
	}
	if u.DisplayName == "" {
		u.DisplayName = "Cognito user"
	}
}

// cognitoPlaceholderDomain marks the email of a user whose pool lookup has
// not given a verified address yet (.invalid never resolves, RFC 2606).
const cognitoPlaceholderDomain = "@cognito.invalid"

func cognitoPlaceholderEmail(sub string) string { return sub + cognitoPlaceholderDomain }
