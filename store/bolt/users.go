package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func emailKey(email string) []byte { return []byte(strings.ToLower(strings.TrimSpace(email))) }

// CreateUser stores u; ErrConflict when its subject is taken or, for a local
// user, its email (case-insensitive) is taken by another local user.
func (s *Store) CreateUser(ctx context.Context, u *store.User) error {
	store.Stamp(&u.ID, &u.CreatedAt, store.PrefixUser, s.nowUTC())
	if len(emailKey(u.Email)) == 0 {
		return fmt.Errorf("bolt: user email is required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if users.has(tx, u.ID) {
			return store.ErrConflict
		}
		return putUser(tx, nil, u)
	})
}

// putUser writes u and moves its email/subject index entries from old (nil on
// create). Only local users (no subject) are in the email index: they sign in
// with it. A user of an identity provider is found by subject, and shares
// their provider's email with whoever else has it (docs/auth.md).
func putUser(tx *bolt.Tx, old, u *store.User) error {
	emails, subjects := tx.Bucket(idxUserEmail), tx.Bucket(idxUserSubject)
	newEmail := emailKey(u.Email)
	if u.AuthSubject == "" {
		if owner := emails.Get(newEmail); owner != nil && string(owner) != u.ID && isLocalUser(tx, string(owner)) {
			return store.ErrConflict
		}
	}
	if u.AuthSubject != "" {
		if owner := subjects.Get([]byte(u.AuthSubject)); owner != nil && string(owner) != u.ID {
			return store.ErrConflict
		}
	}
	if old != nil {
		if err := deleteEmailEntry(tx, old); err != nil {
			return err
		}
		if old.AuthSubject != "" {
			if err := subjects.Delete([]byte(old.AuthSubject)); err != nil {
				return err
			}
		}
	}
	if u.AuthSubject == "" {
		if err := emails.Put(newEmail, []byte(u.ID)); err != nil {
			return err
		}
	}
	if u.AuthSubject != "" {
		if err := subjects.Put([]byte(u.AuthSubject), []byte(u.ID)); err != nil {
			return err
		}
	}
	return users.put(tx, u)
}

// isLocalUser reports whether id is a stored user without a subject. Files
// written before identity-provider users left the email index may still have
// entries pointing at such users, or at deleted ones; those do not hold the email.
func isLocalUser(tx *bolt.Tx, id string) bool {
	u, err := users.get(tx, id)
	return err == nil && u.AuthSubject == ""
}

// deleteEmailEntry drops u's email index entry if it is u's.
func deleteEmailEntry(tx *bolt.Tx, u *store.User) error {
	emails := tx.Bucket(idxUserEmail)
	if owner := emails.Get(emailKey(u.Email)); owner != nil && string(owner) == u.ID {
		return emails.Delete(emailKey(u.Email))
	}
	return nil
}

func (s *Store) GetUser(ctx context.Context, id string) (*store.User, error) {
	return valueIn(ctx, s.view, func(tx *bolt.Tx) (*store.User, error) { return users.get(tx, id) })
}

// GetUserByEmail finds the local user with that email, case-insensitively.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	u, err := s.userByIndex(ctx, idxUserEmail, emailKey(email))
	if err == nil && u.AuthSubject != "" { // an entry of before (see isLocalUser)
		return nil, store.ErrNotFound
	}
	return u, err
}

func (s *Store) GetUserBySubject(ctx context.Context, subject string) (*store.User, error) {
	return s.userByIndex(ctx, idxUserSubject, []byte(subject))
}

func (s *Store) userByIndex(ctx context.Context, idx, key []byte) (*store.User, error) {
	return viewByIndex(ctx, s, idx, key, users.get)
}

func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (*store.User, error) {
	return users.update(ctx, s, store.System(), id, fn, func(tx *bolt.Tx, old, u *store.User) error {
		if len(emailKey(u.Email)) == 0 {
			return fmt.Errorf("bolt: user email is required")
		}
		return putUser(tx, old, u)
	})
}

// DeleteUser removes the user and its index entries. Owned data is left to the caller.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		u, err := users.get(tx, id)
		if err != nil {
			return err
		}
		if err := deleteEmailEntry(tx, u); err != nil {
			return err
		}
		if u.AuthSubject != "" {
			if err := tx.Bucket(idxUserSubject).Delete([]byte(u.AuthSubject)); err != nil {
				return err
			}
		}
		return users.delete(tx, id)
	})
}

func (s *Store) ListUsers(ctx context.Context, p store.Page) ([]store.User, string, error) {
	return users.page(ctx, s, store.System(), p, everything[store.User])
}

// isNotFound keeps error checks short where ErrNotFound is an expected answer.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
