package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

func testPing(t *testing.T, f *fixture) {
	must(t, f.s.Ping(f.ctx), "Ping")
}

func testUsers(t *testing.T, f *fixture) {
	ended := f.tick()
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "Alice@Example.com", DisplayName: "Alice",
		Groups:       []string{store.GroupUser, store.GroupOperator},
		PasswordHash: "$argon2id$v=19$secret", CreatedAt: f.tick(), SessionGeneration: 3, SessionsEndedAt: &ended}
	must(t, f.s.CreateUser(f.ctx, u), "CreateUser")

	got, err := f.s.GetUser(f.ctx, u.ID)
	must(t, err, "GetUser")
	assertSame(t, u, got, "GetUser (password hash, session generation and end of sessions must round-trip)")

	for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
		got, err = f.s.GetUserByEmail(f.ctx, email)
		must(t, err, "GetUserByEmail "+email)
		if got.ID != u.ID {
			t.Fatalf("GetUserByEmail(%q) = %s, want %s", email, got.ID, u.ID)
		}
	}

	// A user of an identity provider is found by subject, never by email.
	c := &store.User{ID: store.NewID(store.PrefixUser), Email: "carol@example.com", DisplayName: "Carol",
		Groups: []string{store.GroupUser}, AuthSubject: "sub-carol", CreatedAt: f.tick()}
	must(t, f.s.CreateUser(f.ctx, c), "CreateUser with a subject")
	got, err = f.s.GetUserBySubject(f.ctx, "sub-carol")
	must(t, err, "GetUserBySubject")
	assertSame(t, c, got, "GetUserBySubject")
	_, err = f.s.GetUserByEmail(f.ctx, "carol@example.com")
	wantErr(t, err, store.ErrNotFound, "GetUserByEmail of a user with a subject")

	_, err = f.s.GetUser(f.ctx, store.NewID(store.PrefixUser))
	wantErr(t, err, store.ErrNotFound, "GetUser missing")
	_, err = f.s.GetUserByEmail(f.ctx, "nobody@example.com")
	wantErr(t, err, store.ErrNotFound, "GetUserByEmail missing")
	_, err = f.s.GetUserBySubject(f.ctx, "sub-nobody")
	wantErr(t, err, store.ErrNotFound, "GetUserBySubject missing")
	_, err = f.s.GetUserBySubject(f.ctx, "")
	wantErr(t, err, store.ErrNotFound, "GetUserBySubject empty")

	login := f.tick()
	upd, err := f.s.UpdateUser(f.ctx, u.ID, func(x *store.User) error {
		x.Email = "alice2@example.com"
		x.LastLoginAt = &login
		x.Groups = []string{store.GroupRoot}
		return nil
	})
	must(t, err, "UpdateUser")
	if upd.Email != "alice2@example.com" || !upd.HasGroup(store.GroupRoot) {
		t.Fatalf("UpdateUser returned %+v", upd)
	}
	got, err = f.s.GetUserByEmail(f.ctx, "ALICE2@example.com")
	must(t, err, "GetUserByEmail after email change")
	sameTime(t, login, got.LastLoginAt, "last_login_at")
	if got.PasswordHash != u.PasswordHash || got.SessionGeneration != 3 {
		t.Fatalf("UpdateUser lost the password hash or session generation: %+v", got)
	}
	sameTime(t, ended, got.SessionsEndedAt, "sessions_ended_at after an update that did not touch it")
	upd, err = f.s.UpdateUser(f.ctx, u.ID, func(x *store.User) error { x.SessionGeneration++; return nil })
	must(t, err, "UpdateUser session generation")
	if got, err = f.s.GetUser(f.ctx, u.ID); err != nil || got.SessionGeneration != 4 || upd.SessionGeneration != 4 {
		t.Fatalf("session generation after a bump: returned %d, stored %+v (%v)", upd.SessionGeneration, got, err)
	}
	later := f.tick()
	_, err = f.s.UpdateUser(f.ctx, c.ID, func(x *store.User) error { x.SessionsEndedAt = &later; return nil })
	must(t, err, "UpdateUser sessions_ended_at")
	got, err = f.s.GetUserBySubject(f.ctx, "sub-carol")
	must(t, err, "GetUserBySubject after ending sessions")
	sameTime(t, later, got.SessionsEndedAt, "sessions_ended_at")
	_, err = f.s.GetUserByEmail(f.ctx, "alice@example.com")
	wantErr(t, err, store.ErrNotFound, "old email after change")

	checkAbortedUpdate(t, "UpdateUser", func() (*store.User, error) { return f.s.GetUser(f.ctx, u.ID) },
		func(fn func(*store.User) error) (*store.User, error) { return f.s.UpdateUser(f.ctx, u.ID, fn) },
		func(x *store.User) { x.DisplayName = "changed" })
	_, err = f.s.UpdateUser(f.ctx, store.NewID(store.PrefixUser), func(*store.User) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateUser missing")

	// Pagination over users: 4 more users, pages of 2.
	all := []string{c.ID, u.ID}
	for range 4 {
		all = append(all, f.user().ID)
	}
	checkPages(t, all, 2, func(p store.Page) ([]string, string, error) {
		xs, next, err := f.s.ListUsers(f.ctx, p)
		return ids(xs, func(x store.User) string { return x.ID }), next, err
	})

	must(t, f.s.DeleteUser(f.ctx, u.ID), "DeleteUser")
	_, err = f.s.GetUser(f.ctx, u.ID)
	wantErr(t, err, store.ErrNotFound, "GetUser after delete")
	_, err = f.s.GetUserByEmail(f.ctx, "alice2@example.com")
	wantErr(t, err, store.ErrNotFound, "GetUserByEmail after delete")
	wantErr(t, f.s.DeleteUser(f.ctx, u.ID), store.ErrNotFound, "DeleteUser twice")
	must(t, f.s.DeleteUser(f.ctx, c.ID), "DeleteUser with a subject")
	_, err = f.s.GetUserBySubject(f.ctx, "sub-carol")
	wantErr(t, err, store.ErrNotFound, "GetUserBySubject after delete")
	// The email and subject are free again.
	again := &store.User{ID: store.NewID(store.PrefixUser), Email: "alice2@example.com",
		Groups: []string{store.GroupUser}, CreatedAt: f.tick()}
	must(t, f.s.CreateUser(f.ctx, again), "CreateUser with a freed email")
	againC := &store.User{ID: store.NewID(store.PrefixUser), Email: "carol@example.com", AuthSubject: "sub-carol",
		Groups: []string{store.GroupUser}, CreatedAt: f.tick()}
	must(t, f.s.CreateUser(f.ctx, againC), "CreateUser with a freed subject")
}

func testUserConflicts(t *testing.T, f *fixture) {
	a := f.user()
	b := f.user()

	dupEmail := &store.User{ID: store.NewID(store.PrefixUser), Email: strings.ToUpper(a.Email),
		Groups: []string{store.GroupUser}, CreatedAt: f.tick()}
	wantErr(t, f.s.CreateUser(f.ctx, dupEmail), store.ErrConflict, "CreateUser same email other case")

	// Users of an identity provider share emails with anyone: a user deleted
	// and re-created there comes back with a new subject and the same email.
	idp1 := &store.User{ID: store.NewID(store.PrefixUser), Email: a.Email, AuthSubject: "sub-old",
		Groups: []string{store.GroupUser}, CreatedAt: f.tick()}
	must(t, f.s.CreateUser(f.ctx, idp1), "CreateUser with a subject and a local user's email")
	idp2 := &store.User{ID: store.NewID(store.PrefixUser), Email: a.Email, AuthSubject: "sub-new",
		Groups: []string{store.GroupUser}, CreatedAt: f.tick()}
	must(t, f.s.CreateUser(f.ctx, idp2), "CreateUser with a subject and another subject's email")
	dupSubject := &store.User{ID: store.NewID(store.PrefixUser), Email: "carol@example.com",
		AuthSubject: "sub-new", Groups: []string{store.GroupUser}, CreatedAt: f.tick()}
	wantErr(t, f.s.CreateUser(f.ctx, dupSubject), store.ErrConflict, "CreateUser same subject")
	got, err := f.s.GetUserByEmail(f.ctx, a.Email)
	must(t, err, "GetUserByEmail with users of a provider sharing the email")
	if got.ID != a.ID {
		t.Fatalf("GetUserByEmail = %s, want the local user %s", got.ID, a.ID)
	}
	// Changing or deleting a provider's user leaves the local user's email alone.
	_, err = f.s.UpdateUser(f.ctx, idp1.ID, func(x *store.User) error { x.Email = "moved@example.com"; return nil })
	must(t, err, "UpdateUser email of a provider's user")
	must(t, f.s.DeleteUser(f.ctx, idp2.ID), "DeleteUser of a provider's user")
	if got, err = f.s.GetUserByEmail(f.ctx, a.Email); err != nil || got.ID != a.ID {
		t.Fatalf("local user's email after a provider's user changed: %+v, %v", got, err)
	}
	// A local user may take an email that only users of a provider have.
	local := &store.User{ID: store.NewID(store.PrefixUser), Email: "Moved@example.com",
		Groups: []string{store.GroupUser}, CreatedAt: f.tick()}
	must(t, f.s.CreateUser(f.ctx, local), "CreateUser local with a provider's user's email")

	_, err = f.s.UpdateUser(f.ctx, b.ID, func(x *store.User) error { x.Email = strings.ToUpper(a.Email); return nil })
	wantErr(t, err, store.ErrConflict, "UpdateUser to a taken email")
	got, err = f.s.GetUser(f.ctx, b.ID)
	must(t, err, "read back")
	if got.Email != b.Email {
		t.Fatalf("conflicting UpdateUser changed the email to %q", got.Email)
	}
	// A user may change only the case of their own email.
	_, err = f.s.UpdateUser(f.ctx, a.ID, func(x *store.User) error { x.Email = strings.ToUpper(a.Email); return nil })
	must(t, err, "UpdateUser own email case change")
	got, err = f.s.GetUserByEmail(f.ctx, a.Email)
	must(t, err, "GetUserByEmail after case change")
	if got.ID != a.ID {
		t.Fatalf("email index points at %s, want %s", got.ID, a.ID)
	}
}

// testUserSubjectRace: the first requests of a new identity-provider user
// arrive together, and each creates the user. Exactly one create wins; the
// others see ErrConflict and find the winner by subject.
func testUserSubjectRace(t *testing.T, f *fixture) {
	const n = 12
	errs := make([]error, n) // each create's outcome, judged below
	Parallel(t, n, func(i int) error {
		errs[i] = f.s.CreateUser(f.ctx, &store.User{ID: store.NewID(store.PrefixUser), Email: "race@example.com",
			AuthSubject: "sub-race", Groups: []string{store.GroupUser}, CreatedAt: time.Now().UTC()})
		return nil
	})
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, store.ErrConflict):
			t.Fatalf("concurrent CreateUser: %v, want nil or ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent creates of one subject succeeded, want exactly 1", won)
	}
	us, _, err := f.s.ListUsers(f.ctx, store.Page{Limit: store.MaxLimit})
	must(t, err, "ListUsers")
	if len(us) != 1 || us[0].AuthSubject != "sub-race" {
		t.Fatalf("users after the race: %+v", us)
	}
}

func testAPIKeys(t *testing.T, f *fixture) {
	alice, bob := f.user(), f.user()
	exp := f.tick().Add(24 * time.Hour)
	k := &store.APIKey{ID: store.NewID(store.PrefixAPIKey), UserID: alice.ID, Name: "ci", Prefix: "vega_ab12",
		Hash: "sha256:aaaa", CreatedAt: f.tick(), ExpiresAt: &exp}
	must(t, f.s.CreateAPIKey(f.ctx, k), "CreateAPIKey")
	keyByHash := func(h string) (*store.APIKey, error) { return f.s.GetAPIKeyByHash(f.ctx, h) }
	checkLookup(t, "GetAPIKeyByHash", k, "sha256:aaaa", "sha256:nope", keyByHash)

	dup := &store.APIKey{ID: store.NewID(store.PrefixAPIKey), UserID: bob.ID, Name: "x", Prefix: "p",
		Hash: "sha256:aaaa", CreatedAt: f.tick()}
	wantErr(t, f.s.CreateAPIKey(f.ctx, dup), store.ErrConflict, "CreateAPIKey duplicate hash")

	aliceKeys := []string{k.ID}
	for i := range 3 {
		x := &store.APIKey{ID: store.NewID(store.PrefixAPIKey), UserID: alice.ID, Name: "k", Prefix: "p",
			Hash: "sha256:alice-" + string(rune('a'+i)), CreatedAt: f.tick()}
		must(t, f.s.CreateAPIKey(f.ctx, x), "CreateAPIKey")
		aliceKeys = append(aliceKeys, x.ID)
	}
	bobKey := &store.APIKey{ID: store.NewID(store.PrefixAPIKey), UserID: bob.ID, Name: "b", Prefix: "p",
		Hash: "sha256:bob", CreatedAt: f.tick()}
	must(t, f.s.CreateAPIKey(f.ctx, bobKey), "CreateAPIKey bob")

	checkPages(t, aliceKeys, 3, func(p store.Page) ([]string, string, error) {
		xs, next, err := f.s.ListAPIKeys(f.ctx, alice.ID, p)
		return ids(xs, func(x store.APIKey) string { return x.ID }), next, err
	})

	// TouchAPIKeys: many keys at once, unknown IDs are ignored.
	t1, t2 := f.tick(), f.tick()
	must(t, f.s.TouchAPIKeys(f.ctx, map[string]time.Time{k.ID: t1, bobKey.ID: t2,
		store.NewID(store.PrefixAPIKey): t2}), "TouchAPIKeys")
	got, err := keyByHash("sha256:aaaa")
	must(t, err, "read back")
	sameTime(t, t1, got.LastUsedAt, "alice key last_used_at")
	got, err = keyByHash("sha256:bob")
	must(t, err, "read back")
	sameTime(t, t2, got.LastUsedAt, "bob key last_used_at")
	must(t, f.s.TouchAPIKeys(f.ctx, nil), "TouchAPIKeys empty")

	// DeleteAPIKey is scoped by user.
	wantErr(t, f.s.DeleteAPIKey(f.ctx, bob.ID, k.ID), store.ErrNotFound, "DeleteAPIKey by another user")
	wantErr(t, f.s.DeleteAPIKey(f.ctx, "", k.ID), store.ErrNotFound, "DeleteAPIKey without a user")
	if _, err := f.s.GetAPIKeyByHash(f.ctx, "sha256:aaaa"); err != nil {
		t.Fatalf("key deleted by another user: %v", err)
	}
	must(t, f.s.DeleteAPIKey(f.ctx, alice.ID, k.ID), "DeleteAPIKey by owner")
	_, err = f.s.GetAPIKeyByHash(f.ctx, "sha256:aaaa")
	wantErr(t, err, store.ErrNotFound, "GetAPIKeyByHash after delete")
	wantErr(t, f.s.DeleteAPIKey(f.ctx, alice.ID, k.ID), store.ErrNotFound, "DeleteAPIKey twice")
	xs, _, err := f.s.ListAPIKeys(f.ctx, bob.ID, store.Page{})
	must(t, err, "ListAPIKeys bob")
	sameOrder(t, []string{bobKey.ID}, ids(xs, func(x store.APIKey) string { return x.ID }), "bob's keys")

	// DeleteUserAPIKeys removes all of one user's keys (a password change) and no one else's.
	n, err := f.s.DeleteUserAPIKeys(f.ctx, alice.ID)
	must(t, err, "DeleteUserAPIKeys")
	if n != 3 {
		t.Fatalf("DeleteUserAPIKeys deleted %d keys, want alice's remaining 3", n)
	}
	for i := range 3 {
		_, err := f.s.GetAPIKeyByHash(f.ctx, "sha256:alice-"+string(rune('a'+i)))
		wantErr(t, err, store.ErrNotFound, "alice's key after DeleteUserAPIKeys")
	}
	xs, _, err = f.s.ListAPIKeys(f.ctx, alice.ID, store.Page{})
	wantNone(t, xs, err, "alice's keys after DeleteUserAPIKeys")
	if _, err := f.s.GetAPIKeyByHash(f.ctx, "sha256:bob"); err != nil {
		t.Fatalf("DeleteUserAPIKeys removed another user's key: %v", err)
	}
	if n, err := f.s.DeleteUserAPIKeys(f.ctx, alice.ID); err != nil || n != 0 {
		t.Fatalf("DeleteUserAPIKeys again = %d, %v", n, err)
	}
	if n, err := f.s.DeleteUserAPIKeys(f.ctx, ""); err != nil || n != 0 {
		t.Fatalf("DeleteUserAPIKeys without a user = %d, %v", n, err)
	}
	// The hash is free again (its index entry went with the key).
	again := &store.APIKey{ID: store.NewID(store.PrefixAPIKey), UserID: alice.ID, Name: "again", Prefix: "p",
		Hash: "sha256:alice-a", CreatedAt: f.tick()}
	must(t, f.s.CreateAPIKey(f.ctx, again), "CreateAPIKey with a freed hash")
}

func testRefreshSessions(t *testing.T, f *fixture) {
	u := f.user()
	now := f.tick()
	first := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: "h1",
		Family: "fam-1", ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	must(t, f.s.CreateRefreshSession(f.ctx, first), "CreateRefreshSession")
	sessionByHash := func(h string) (*store.RefreshSession, error) { return f.s.GetRefreshSessionByHash(f.ctx, h) }
	checkLookup(t, "GetRefreshSessionByHash", first, "h1", "nope", sessionByHash)
	dup := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: "h1",
		Family: "fam-x", ExpiresAt: now.Add(time.Hour), CreatedAt: now}
	wantErr(t, f.s.CreateRefreshSession(f.ctx, dup), store.ErrConflict, "duplicate token hash")

	rotateAt := f.tick()
	second := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: "h2",
		Family: "fam-1", ExpiresAt: rotateAt.Add(time.Hour), CreatedAt: rotateAt}
	must(t, f.s.RotateRefreshSession(f.ctx, first.ID, second, rotateAt), "RotateRefreshSession")
	got, err := sessionByHash("h1")
	must(t, err, "read back")
	sameTime(t, rotateAt, got.RevokedAt, "rotated session revoked_at")
	got, err = sessionByHash("h2")
	must(t, err, "new session after rotation")
	if got.RevokedAt != nil || got.Family != "fam-1" {
		t.Fatalf("new session = %+v", got)
	}

	// Reuse: rotating the already rotated token again is a conflict and stores nothing.
	third := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: "h3",
		Family: "fam-1", ExpiresAt: rotateAt.Add(time.Hour), CreatedAt: f.tick()}
	wantErr(t, f.s.RotateRefreshSession(f.ctx, first.ID, third, f.tick()), store.ErrConflict, "rotate a revoked session")
	_, err = sessionByHash("h3")
	wantErr(t, err, store.ErrNotFound, "session from a refused rotation")
	wantErr(t, f.s.RotateRefreshSession(f.ctx, store.NewID(store.PrefixRefresh), third, f.tick()),
		store.ErrNotFound, "rotate a missing session")

	other := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: "o1",
		Family: "fam-2", ExpiresAt: now.Add(time.Minute), CreatedAt: now}
	must(t, f.s.CreateRefreshSession(f.ctx, other), "CreateRefreshSession other family")

	revokeAt := f.tick()
	must(t, f.s.RevokeRefreshFamily(f.ctx, "fam-1", revokeAt), "RevokeRefreshFamily")
	got, err = sessionByHash("h2")
	must(t, err, "read back")
	sameTime(t, revokeAt, got.RevokedAt, "family member revoked_at")
	got, err = sessionByHash("h1")
	must(t, err, "read back")
	sameTime(t, rotateAt, got.RevokedAt, "already revoked session keeps its revoked_at")
	got, err = sessionByHash("o1")
	must(t, err, "read back")
	if got.RevokedAt != nil {
		t.Fatalf("another family was revoked")
	}

	// Expiry: first/second expire after now+1h, other after now+1m.
	n, err := f.s.DeleteExpiredRefreshSessions(f.ctx, now.Add(30*time.Minute))
	must(t, err, "DeleteExpiredRefreshSessions")
	if n != 1 {
		t.Fatalf("DeleteExpiredRefreshSessions deleted %d, want 1", n)
	}
	_, err = sessionByHash("o1")
	wantErr(t, err, store.ErrNotFound, "expired session")
	if _, err := sessionByHash("h2"); err != nil {
		t.Fatalf("unexpired session deleted: %v", err)
	}
}

// testSessionUser pins down GetSessionUser, the per-request check behind
// access tokens, and per-user revocation.
func testSessionUser(t *testing.T, f *fixture) {
	alice, bob := f.user(), f.user()
	now := f.tick()
	session := func(u *store.User, hash, family string, ttl time.Duration) *store.RefreshSession {
		rs := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: u.ID, TokenHash: hash,
			Family: family, ExpiresAt: now.Add(ttl), CreatedAt: now}
		must(t, f.s.CreateRefreshSession(f.ctx, rs), "CreateRefreshSession")
		return rs
	}
	live := func(userID, family string, at time.Time, what string) {
		t.Helper()
		u, err := f.s.GetSessionUser(f.ctx, userID, family, at)
		must(t, err, what)
		if u.ID != userID {
			t.Fatalf("%s: got user %s, want %s", what, u.ID, userID)
		}
	}
	dead := func(userID, family string, at time.Time, what string) {
		t.Helper()
		_, err := f.s.GetSessionUser(f.ctx, userID, family, at)
		wantErr(t, err, store.ErrNotFound, what)
	}

	a1 := session(alice, "sa1", "fam-a1", time.Hour)
	session(alice, "sa2", "fam-a2", time.Hour)
	session(bob, "sb1", "fam-b1", time.Hour)
	session(alice, "sa3", "fam-a3", time.Minute)

	live(alice.ID, "fam-a1", now, "live family")
	u, err := f.s.GetSessionUser(f.ctx, alice.ID, "fam-a1", now)
	must(t, err, "GetSessionUser")
	assertSame(t, alice, u, "GetSessionUser returns the whole user")
	dead(bob.ID, "fam-a1", now, "a family of another user")
	dead(alice.ID, "fam-unknown", now, "an unknown family")
	dead(alice.ID, "", now, "no family")
	dead("", "fam-a1", now, "no user")
	live(alice.ID, "fam-a3", now.Add(30*time.Second), "before its expiry")
	dead(alice.ID, "fam-a3", now.Add(2*time.Minute), "after its expiry")

	head, err := f.s.GetLiveRefreshSession(f.ctx, "fam-a1")
	must(t, err, "GetLiveRefreshSession")
	assertSame(t, a1, head, "the live session of a new family")

	// Rotation keeps the family live: the new head is its live session.
	next := &store.RefreshSession{ID: store.NewID(store.PrefixRefresh), UserID: alice.ID, TokenHash: "sa1-next",
		Family: "fam-a1", ExpiresAt: now.Add(time.Hour), CreatedAt: f.tick()}
	must(t, f.s.RotateRefreshSession(f.ctx, a1.ID, next, f.tick()), "RotateRefreshSession")
	live(alice.ID, "fam-a1", now, "after rotation")
	head, err = f.s.GetLiveRefreshSession(f.ctx, "fam-a1")
	must(t, err, "GetLiveRefreshSession after rotation")
	if head.ID != next.ID || head.RevokedAt != nil {
		t.Fatalf("live session after rotation = %+v, want %s", head, next.ID)
	}
	_, err = f.s.GetLiveRefreshSession(f.ctx, "fam-unknown")
	wantErr(t, err, store.ErrNotFound, "GetLiveRefreshSession of an unknown family")

	// Logout (family revocation) ends one family only.
	must(t, f.s.RevokeRefreshFamily(f.ctx, "fam-a1", f.tick()), "RevokeRefreshFamily")
	dead(alice.ID, "fam-a1", now, "a revoked family")
	_, err = f.s.GetLiveRefreshSession(f.ctx, "fam-a1")
	wantErr(t, err, store.ErrNotFound, "GetLiveRefreshSession of a revoked family")
	live(alice.ID, "fam-a2", now, "another family of the same user")

	// Per-user revocation ends every family of the user and nobody else's.
	at := f.tick()
	must(t, f.s.RevokeUserRefreshSessions(f.ctx, alice.ID, at), "RevokeUserRefreshSessions")
	dead(alice.ID, "fam-a2", now, "after RevokeUserRefreshSessions")
	got, err := f.s.GetRefreshSessionByHash(f.ctx, "sa2")
	must(t, err, "read back")
	sameTime(t, at, got.RevokedAt, "revoked_at set by RevokeUserRefreshSessions")
	got, err = f.s.GetRefreshSessionByHash(f.ctx, "sa1")
	must(t, err, "read back")
	if got.RevokedAt == nil || got.RevokedAt.Equal(at) {
		t.Fatalf("an already revoked session was revoked again: %+v", got)
	}
	live(bob.ID, "fam-b1", now, "another user's family after RevokeUserRefreshSessions")
	must(t, f.s.RevokeUserRefreshSessions(f.ctx, "", at), "RevokeUserRefreshSessions without a user")

	// A new login after revocation is live again, and a deleted user has no sessions.
	session(alice, "sa4", "fam-a4", time.Hour)
	live(alice.ID, "fam-a4", now, "a new family after revocation")
	must(t, f.s.DeleteUser(f.ctx, alice.ID), "DeleteUser")
	dead(alice.ID, "fam-a4", now, "a deleted user")
}
