package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/singleflight"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

// Principal is who a request acts as.
type Principal struct {
	User     *store.User
	APIKeyID string // set when authenticated with an API key
	// SessionFamily is the refresh family an access token belongs to (custom
	// provider); logging out with the access token ends that family.
	SessionFamily string
}

// Tokens is the answer to login and refresh.
type Tokens struct {
	AccessToken  string      `json:"access_token"`
	RefreshToken string      `json:"refresh_token,omitempty"` // omitted when only the cookie carries it
	TokenType    string      `json:"token_type"`
	ExpiresIn    int         `json:"expires_in"`
	User         *store.User `json:"user"`
}

// Options configure the service; zero values get safe defaults.
type Options struct {
	Provider        string // custom | cognito
	Secret          []byte // HS256 key for custom tokens
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Cognito         *CognitoVerifier // required for cognito
	// CognitoUsers looks up a Cognito user's email and name at sign-in
	// (AdminGetUser); nil keeps what the store has (docs/auth.md).
	CognitoUsers CognitoDirectory
	Now          func() time.Time
	Logger       *slog.Logger
}

// Service implements sign-in, token checks, API keys and local users.
type Service struct {
	st       store.Store
	opt      Options
	sig      *signer
	limits   *loginLimiter
	touchMu  sync.Mutex
	touched  map[string]time.Time
	dummy    func() []byte // bcrypt hash compared when the account does not exist
	seeded   chan struct{} // closed once start-up seeding is done; logins wait for it
	seedOnce sync.Once
	signIns  singleflight.Group // one record of each Cognito sign-in per process (cognitousers.go)
}

// New builds the service. The custom provider needs a secret of at least 32 bytes.
func New(st store.Store, opt Options) (*Service, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.AccessTokenTTL == 0 {
		opt.AccessTokenTTL = 15 * time.Minute
	}
	if opt.RefreshTokenTTL == 0 {
		opt.RefreshTokenTTL = 30 * 24 * time.Hour
	}
	if opt.Provider == "" {
		opt.Provider = "custom"
	}
	if len(opt.Secret) < 32 {
		return nil, errors.New("auth: token secret must be at least 32 bytes")
	}
	if opt.Provider == "cognito" && opt.Cognito == nil {
		return nil, errors.New("auth: cognito provider needs a verifier")
	}
	s := &Service{
		st: st, opt: opt,
		sig:     &signer{key: opt.Secret, now: opt.Now},
		limits:  newLoginLimiter(opt.Now),
		touched: map[string]time.Time{},
		seeded:  make(chan struct{}),
		// A hash to compare against when the account does not exist, so timing
		// does not reveal which emails are registered. Made on first use: bcrypt
		// is slow and start-up should not pay for it.
		dummy: sync.OnceValue(func() []byte {
			h, _ := bcrypt.GenerateFromPassword([]byte(randomString(16)), bcrypt.DefaultCost)
			return h
		}),
	}
	return s, nil
}

// MarkSeeded lets logins through; call it when start-up seeding is done (or
// right away when there is nothing to seed).
func (s *Service) MarkSeeded() { s.seedOnce.Do(func() { close(s.seeded) }) }

// Seeded reports whether start-up seeding is done (readiness).
func (s *Service) Seeded() bool {
	select {
	case <-s.seeded:
		return true
	default:
		return false
	}
}

func normalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

var errBadCredentials = apperr.Unauthorizedf("Email or password is incorrect")

// Login checks a password and issues a token pair (custom provider only).
// Failures are throttled per account and address (ratelimit.go).
func (s *Service) Login(ctx context.Context, email, password, remoteAddr string) (*Tokens, error) {
	if s.opt.Provider != "custom" {
		return nil, apperr.BadRequestf("Password sign-in is disabled: this server uses %s", s.opt.Provider)
	}
	select { // the debug user may still be being seeded right after start
	case <-s.seeded:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	email = normalizeEmail(email)
	if wait := s.limits.wait(email, remoteAddr); wait > 0 {
		e := apperr.RateLimitedFor(wait, "Too many failed sign-in attempts")
		e.Message += fmt.Sprintf("; try again in %d s", e.RetryAfterSeconds())
		return nil, e
	}
	u, err := s.st.GetUserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var hash []byte
	if u != nil && u.PasswordHash != "" {
		hash = []byte(u.PasswordHash)
	} else {
		hash = s.dummy()
	}
	// bcrypt reads only the first 72 bytes, so a longer password would match
	// its own prefix. Such passwords cannot be set (hashPassword), and are
	// refused here after the same comparison, so the answer and its timing
	// match any other wrong password.
	pw := []byte(password)
	tooLong := len(pw) > maxPasswordBytes
	if tooLong {
		pw = pw[:maxPasswordBytes]
	}
	if bcrypt.CompareHashAndPassword(hash, pw) != nil || tooLong || u == nil || u.PasswordHash == "" {
		s.limits.fail(email, remoteAddr)
		return nil, errBadCredentials
	}
	s.limits.succeed(email, remoteAddr)
	now := s.opt.Now().UTC()
	u, err = s.st.UpdateUser(ctx, u.ID, func(x *store.User) error { x.LastLoginAt = &now; return nil })
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, u, store.NewID(PrefixFamily))
}

// PrefixFamily prefixes refresh-token family IDs.
const PrefixFamily = "fam_"

func (s *Service) issue(ctx context.Context, u *store.User, family string) (*Tokens, error) {
	sess := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, Family: family, CreatedAt: s.opt.Now().UTC()}
	return s.issueWith(ctx, u, sess, func() error { return s.st.CreateRefreshSession(ctx, sess) })
}

// issueWith signs the pair for sess, then persists it with save. Both tokens
// carry the user's session generation and the family (docs/auth.md).
func (s *Service) issueWith(ctx context.Context, u *store.User, sess *store.RefreshSession, save func() error) (*Tokens, error) {
	access, _, err := s.sig.sign(TypeAccess, u.ID, store.NewID("atk_"), u.SessionGeneration, sess.Family, s.opt.AccessTokenTTL)
	if err != nil {
		return nil, err
	}
	refresh, exp, err := s.sig.sign(TypeRefresh, u.ID, sess.ID, u.SessionGeneration, sess.Family, s.opt.RefreshTokenTTL)
	if err != nil {
		return nil, err
	}
	sess.TokenHash = hashToken(refresh)
	sess.ExpiresAt = exp
	if err := save(); err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", ExpiresIn: int(s.opt.AccessTokenTTL.Seconds()), User: u}, nil
}

var errBadRefresh = apperr.Unauthorizedf("The refresh token is invalid or expired; sign in again")

// Refresh rotates a refresh token. Presenting a token that was already rotated
// is treated as theft: the whole family is revoked.
func (s *Service) Refresh(ctx context.Context, raw string) (*Tokens, error) {
	if s.opt.Provider != "custom" {
		return nil, apperr.BadRequestf("Vega issues no refresh tokens: this server uses %s, which refreshes its own", s.opt.Provider)
	}
	c, err := s.sig.verify(raw, TypeRefresh)
	if err != nil {
		return nil, errBadRefresh
	}
	old, err := s.st.GetRefreshSessionByHash(ctx, hashToken(raw))
	if errors.Is(err, store.ErrNotFound) || (err == nil && old.ID != c.ID) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	now := s.opt.Now().UTC()
	if old.RevokedAt != nil {
		head := s.lostRotation(ctx, old, now)
		if head == nil {
			s.revokeFamily(ctx, old.Family, now, "refresh token reuse detected")
			return nil, errBadRefresh
		}
		old = head // the client never received head: rotate it in its place
	}
	if now.After(old.ExpiresAt) {
		return nil, errBadRefresh
	}
	u, err := s.credentialUser(ctx, old.UserID, errBadRefresh)
	if err != nil {
		return nil, err
	}
	if c.Generation != u.SessionGeneration { // issued before a password change or "sign out everywhere"
		s.revokeFamily(ctx, old.Family, now, "refresh token from an ended session generation")
		return nil, errBadRefresh
	}
	next := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, Family: old.Family, CreatedAt: now}
	t, err := s.issueWith(ctx, u, next, func() error { return s.st.RotateRefreshSession(ctx, old.ID, next, now) })
	if errors.Is(err, store.ErrConflict) { // lost a race with another use of the same token
		s.revokeFamily(ctx, old.Family, now, "concurrent refresh token reuse")
		return nil, errBadRefresh
	}
	return t, err
}

// RefreshRetryGrace is how long after its rotation a refresh token may be
// presented again as a retry rather than as theft (docs/auth.md). A browser
// that reloads or navigates while a refresh is in flight drops the answer,
// and with it the new cookie, after the server rotated; its next page load
// sends the old token again.
const RefreshRetryGrace = 20 * time.Second

// lostRotation returns the family's live session when old was rotated into it
// less than RefreshRetryGrace ago (head is old's direct successor: created at
// the instant old was revoked), so presenting old again is a retry of that
// rotation; otherwise nil. A token two rotations back, one revoked by logout
// or a password change (no live session), or one presented later is theft.
func (s *Service) lostRotation(ctx context.Context, old *store.RefreshSession, now time.Time) *store.RefreshSession {
	if now.Sub(*old.RevokedAt) > RefreshRetryGrace {
		return nil
	}
	head, err := s.st.GetLiveRefreshSession(ctx, old.Family)
	if err != nil || head.UserID != old.UserID || !head.CreatedAt.Equal(*old.RevokedAt) {
		return nil
	}
	return head
}

func (s *Service) revokeFamily(ctx context.Context, family string, now time.Time, why string) {
	s.opt.Logger.Warn("revoking refresh token family", "family", family, "reason", why)
	if err := s.st.RevokeRefreshFamily(ctx, family, now); err != nil {
		s.opt.Logger.Error("revoke refresh family", "err", err)
	}
}

// Logout ends a session: the family of the refresh token raw and, when p
// signed in with an access token, the family of that token. Ending the family
// also ends every access token issued from it (Authenticate checks the family
// on each request). Unknown tokens are ignored so logout is idempotent.
func (s *Service) Logout(ctx context.Context, p *Principal, raw string) error {
	now := s.opt.Now().UTC()
	if p != nil && p.SessionFamily != "" {
		if err := s.st.RevokeRefreshFamily(ctx, p.SessionFamily, now); err != nil {
			return err
		}
	}
	if raw == "" {
		return nil
	}
	sess, err := s.st.GetRefreshSessionByHash(ctx, hashToken(raw))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if p != nil && p.User != nil && sess.UserID != p.User.ID {
		return nil // someone else's token: not ours to end
	}
	return s.st.RevokeRefreshFamily(ctx, sess.Family, now)
}

// RevokeSessions ends every session of the user ("sign out everywhere"):
// the session generation is bumped, which invalidates all access and refresh
// tokens at once, and every refresh family is revoked. API keys are revoked
// too when apiKeys is set. Cognito's tokens cannot carry the generation; for
// them the time is recorded instead, and every token from a sign-in at or
// before it is refused (docs/auth.md).
func (s *Service) RevokeSessions(ctx context.Context, userID string, apiKeys bool) error {
	now := s.opt.Now().UTC()
	_, err := s.st.UpdateUser(ctx, userID, func(u *store.User) error {
		u.SessionGeneration++
		u.SessionsEndedAt = &now
		return nil
	})
	if err != nil {
		return apperr.NotFoundAs("User", userID, err)
	}
	return s.endSessions(ctx, userID, apiKeys)
}

// endSessions revokes the refresh sessions (and API keys, when asked) of a
// user whose generation was just bumped. The bump already refused every token;
// this removes what is left so nothing is revived by a later change.
func (s *Service) endSessions(ctx context.Context, userID string, apiKeys bool) error {
	if err := s.st.RevokeUserRefreshSessions(ctx, userID, s.opt.Now().UTC()); err != nil {
		return err
	}
	if apiKeys {
		n, err := s.st.DeleteUserAPIKeys(ctx, userID)
		if err != nil {
			return err
		}
		s.opt.Logger.Info("revoked API keys", "user_id", userID, "count", n)
	}
	return nil
}

var errUnauthenticated = apperr.Unauthorizedf("Missing, invalid or expired credentials")

// Authenticate resolves a bearer credential: an API key (vega_…), a custom
// access token, or a Cognito access token.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*Principal, error) {
	if bearer == "" {
		return nil, errUnauthenticated
	}
	if strings.HasPrefix(bearer, APIKeyPrefix) {
		return s.authenticateAPIKey(ctx, bearer)
	}
	if s.opt.Provider == "cognito" {
		return s.authenticateCognito(ctx, bearer)
	}
	c, err := s.sig.verify(bearer, TypeAccess)
	if err != nil || c.Family == "" {
		return nil, errUnauthenticated
	}
	// One read answers all three questions: does the user exist, is the
	// token's session still live (logout, reuse detection), and is its
	// generation current (password change, sign out everywhere).
	u, err := s.st.GetSessionUser(ctx, c.Subject, c.Family, s.opt.Now().UTC())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if c.Generation != u.SessionGeneration {
		return nil, errUnauthenticated
	}
	return &Principal{User: u, SessionFamily: c.Family}, nil
}

func validEmail(e string) bool {
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e
}
