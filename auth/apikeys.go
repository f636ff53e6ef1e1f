package auth

import (
	"context"
	"errors"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
)

// APIKeyPrefix starts every API key, so keys are recognisable in logs and by
// secret scanners.
const APIKeyPrefix = "vega_"

// CreatedAPIKey carries the secret, shown to the user exactly once.
type CreatedAPIKey struct {
	store.APIKey
	Secret string `json:"secret"`
}

// CreateAPIKey makes a key for user; only its hash is stored.
func (s *Service) CreateAPIKey(ctx context.Context, userID, name string, expiresAt *time.Time) (*CreatedAPIKey, error) {
	problems := map[string]string{}
	name, problem := textsafe.Name(name, textsafe.MaxKeyName)
	if problem != "" {
		problems["name"] = problem
	}
	now := s.opt.Now().UTC()
	if expiresAt != nil && !expiresAt.After(now) {
		problems["expires_at"] = "must be in the future"
	}
	if len(problems) > 0 {
		return nil, apperr.Validation(problems)
	}
	secret := APIKeyPrefix + randomString(32)
	k := store.APIKey{ID: store.NewID(store.PrefixAPIKey), UserID: userID, Name: name,
		Prefix: secret[:len(APIKeyPrefix)+6], Hash: hashToken(secret), CreatedAt: now, ExpiresAt: expiresAt}
	if err := s.st.CreateAPIKey(ctx, &k); err != nil {
		return nil, err
	}
	return &CreatedAPIKey{APIKey: k, Secret: secret}, nil
}

func (s *Service) ListAPIKeys(ctx context.Context, userID string, p store.Page) ([]store.APIKey, string, error) {
	return s.st.ListAPIKeys(ctx, userID, p)
}

// RevokeAPIKey deletes the key; the next request with it is rejected.
func (s *Service) RevokeAPIKey(ctx context.Context, userID, id string) error {
	return apperr.NotFoundAs("API key", id, s.st.DeleteAPIKey(ctx, userID, id))
}

func (s *Service) authenticateAPIKey(ctx context.Context, secret string) (*Principal, error) {
	k, err := s.st.GetAPIKeyByHash(ctx, hashToken(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	now := s.opt.Now().UTC()
	if k.ExpiresAt != nil && now.After(*k.ExpiresAt) {
		return nil, errUnauthenticated
	}
	u, err := s.credentialUser(ctx, k.UserID, errUnauthenticated)
	if err != nil {
		return nil, err
	}
	if u.AuthSubject != "" {
		// A Cognito user's root and operator come from group membership, which
		// only a current Cognito token proves; the row's copy may be stale
		// (docs/auth.md, "Groups"). Their keys act as a plain user.
		u.Groups = []string{store.GroupUser}
	}
	s.touchMu.Lock()
	s.touched[k.ID] = now
	s.touchMu.Unlock()
	return &Principal{User: u, APIKeyID: k.ID}, nil
}

// FlushKeyUsage writes coalesced last_used_at updates; call it periodically
// and at shutdown (writing on every request would turn reads into writes).
func (s *Service) FlushKeyUsage(ctx context.Context) error {
	s.touchMu.Lock()
	batch := s.touched
	s.touched = map[string]time.Time{}
	s.touchMu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return s.st.TouchAPIKeys(ctx, batch)
}

// RunKeyUsageFlusher flushes every interval until ctx ends, then once more.
func (s *Service) RunKeyUsageFlusher(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.FlushKeyUsage(flushCtx); err != nil {
				s.opt.Logger.Warn("flush API key usage", "err", err)
			}
			return
		case <-t.C:
			if err := s.FlushKeyUsage(ctx); err != nil {
				s.opt.Logger.Warn("flush API key usage", "err", err)
			}
		}
	}
}
