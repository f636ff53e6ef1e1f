package auth

import (
	"context"
	"errors"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
)

// NewUser is what root (or the CLI) supplies to create a local user.
type NewUser struct {
	Email       string   `json:"email"`
	Password    string   `json:"password"`
	DisplayName string   `json:"display_name"`
	Groups      []string `json:"groups"`
}

// UserPatch changes a local user; nil fields stay as they are. A new password
// ends every session of the user and revokes their API keys, unless
// KeepAPIKeys says otherwise (docs/auth.md).
type UserPatch struct {
	Password    *string   `json:"password"`
	DisplayName *string   `json:"display_name"`
	Groups      *[]string `json:"groups"`
	KeepAPIKeys bool      `json:"keep_api_keys"`
}

const minPasswordLen = 12

func validGroups(gs []string) bool {
	for _, g := range gs {
		if g != store.GroupRoot && g != store.GroupOperator && g != store.GroupUser {
			return false
		}
	}
	return true
}

// maxPasswordBytes is bcrypt's input limit: it ignores every byte after it.
const maxPasswordBytes = 72

func hashPassword(p string) (string, error) {
	if len(p) > maxPasswordBytes { // bcrypt ignores the rest; refuse rather than silently truncate
		return "", apperr.Validation(map[string]string{"password": "must be at most 72 bytes"})
	}
	h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.DefaultCost)
	return string(h), err
}

// CreateUser adds a local user of the custom provider. With Cognito, users
// are added to the user pool instead; their row appears at their first sign-in.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*store.User, error) {
	if s.opt.Provider != "custom" {
		return nil, apperr.BadRequestf("Users sign in with %s: add them to the user pool, and Vega creates their account at their first sign-in", s.opt.Provider)
	}
	in.Email = normalizeEmail(in.Email)
	problems := map[string]string{}
	if !validEmail(in.Email) {
		problems["email"] = "must be an email address"
	}
	if len(in.Password) < minPasswordLen {
		problems["password"] = "must be at least 12 characters"
	}
	if len(in.Groups) == 0 {
		in.Groups = []string{store.GroupUser}
	}
	if !validGroups(in.Groups) {
		problems["groups"] = "must be among root, operator, user"
	}
	name, field := strings.TrimSpace(in.DisplayName), "display_name"
	if name == "" { // the display name defaults to the email's local part
		name, field = strings.SplitN(in.Email, "@", 2)[0], "email"
	}
	name, problem := textsafe.Name(name, textsafe.MaxDisplayName)
	if problem != "" && problems[field] == "" {
		problems[field] = problem
	}
	if len(problems) > 0 {
		return nil, apperr.Validation(problems)
	}
	hash, err := hashPassword(in.Password)
	if err != nil {
		return nil, err
	}
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: in.Email, DisplayName: name, Groups: in.Groups,
		PasswordHash: hash, CreatedAt: s.opt.Now().UTC()}
	if err := s.st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, apperr.Conflictf("A user with email %s already exists", in.Email)
		}
		return nil, err
	}
	return u, nil
}

// UpdateUser applies a patch.
func (s *Service) UpdateUser(ctx context.Context, id string, p UserPatch) (*store.User, error) {
	problems := map[string]string{}
	var hash string
	if p.Password != nil {
		if len(*p.Password) < minPasswordLen {
			problems["password"] = "must be at least 12 characters"
		} else {
			h, err := hashPassword(*p.Password)
			if err != nil {
				return nil, err
			}
			hash = h
		}
	}
	if p.Groups != nil && (len(*p.Groups) == 0 || !validGroups(*p.Groups)) {
		problems["groups"] = "must be among root, operator, user"
	}
	var displayName string
	if p.DisplayName != nil {
		var problem string
		if displayName, problem = textsafe.Name(*p.DisplayName, textsafe.MaxDisplayName); problem != "" {
			problems["display_name"] = problem
		}
	}
	if len(problems) > 0 {
		return nil, apperr.Validation(problems)
	}
	// The new hash and the generation bump land in one write, so no token
	// issued under the old password works after it.
	u, err := s.st.UpdateUser(ctx, id, func(u *store.User) error {
		// A Cognito user's password and groups live in the pool: a password
		// set here would be a second way in, and groups are re-read from
		// every token (docs/auth.md).
		if u.AuthSubject != "" && hash != "" {
			return apperr.BadRequestf("User %s signs in with Cognito; change the password there", id)
		}
		if u.AuthSubject != "" && p.Groups != nil {
			return apperr.BadRequestf("User %s gets their groups from Cognito group membership; change it there", id)
		}
		if hash != "" {
			u.PasswordHash = hash
			u.SessionGeneration++
		}
		if p.DisplayName != nil {
			u.DisplayName = displayName
		}
		if p.Groups != nil {
			u.Groups = *p.Groups
		}
		return nil
	})
	if err != nil {
		return nil, apperr.NotFoundAs("User", id, err)
	}
	if hash != "" {
		if err := s.endSessions(ctx, id, !p.KeepAPIKeys); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// DeleteUser removes a user. Nobody can delete themselves (no orphaned root).
func (s *Service) DeleteUser(ctx context.Context, actorID, id string) error {
	if actorID == id {
		return apperr.Conflictf("You cannot delete your own account")
	}
	return apperr.NotFoundAs("User", id, s.st.DeleteUser(ctx, id))
}

func (s *Service) ListUsers(ctx context.Context, p store.Page) ([]store.User, string, error) {
	return s.st.ListUsers(ctx, p)
}

func (s *Service) GetUser(ctx context.Context, id string) (*store.User, error) {
	u, err := s.st.GetUser(ctx, id)
	return u, apperr.NotFoundAs("User", id, err)
}

// credentialUser reads the user a credential names; a user deleted since it
// was issued answers gone, the caller's refusal, not a not-found.
func (s *Service) credentialUser(ctx context.Context, id string, gone error) (*store.User, error) {
	u, err := s.st.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SeedDebugUser makes sure the debug user exists with the configured password,
// as a root, then lets logins through. It runs at every start so a changed
// VEGA_DEBUG_PASSWORD takes effect; it costs one bcrypt operation.
func (s *Service) SeedDebugUser(ctx context.Context, email, password string) (*store.User, error) {
	defer s.MarkSeeded()
	email = normalizeEmail(email)
	u, err := s.st.GetUserByEmail(ctx, email)
	if err == nil && bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) == nil {
		return u, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash, herr := hashPassword(password)
	if herr != nil {
		return nil, herr
	}
	if errors.Is(err, store.ErrNotFound) {
		u = &store.User{ID: store.NewID(store.PrefixUser), Email: email, DisplayName: "Debug user",
			Groups: []string{store.GroupRoot, store.GroupUser}, PasswordHash: hash, CreatedAt: s.opt.Now().UTC()}
		return u, s.st.CreateUser(ctx, u)
	}
	// A changed VEGA_DEBUG_PASSWORD ends the sessions signed in with the old
	// one. API keys stay: they belong to automation the operator set up.
	u, err = s.st.UpdateUser(ctx, u.ID, func(x *store.User) error { x.PasswordHash = hash; x.SessionGeneration++; return nil })
	if err != nil {
		return nil, err
	}
	return u, s.endSessions(ctx, u.ID, false)
}
