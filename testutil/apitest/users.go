package apitest

import "testing"

// Do sends one request through a harness (app/server's internal one or
// servertest) and reads the whole response; body and headers are as for
// NewRequest. The helpers below take one so both harnesses share them.
type Do func(method, path, bearer string, body any, headers ...string) Response

// UserPassword is the password NewUser gives the users it makes.
const UserPassword = "correct horse battery"

// Login signs in with the custom provider and returns the access and
// refresh tokens.
func Login(t testing.TB, do Do, email, password string) (access, refresh string) {
	t.Helper()
	r := do("POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if r.Status != 200 {
		t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	m := r.JSON(t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// Create posts body to path as bearer, fails unless the answer is 201
// Created, and returns the field of the created resource (its "id", an API
// key's "secret"): the one shape of every create call the tests make.
func Create(t testing.TB, do Do, what, bearer, path string, body any, field string) string {
	t.Helper()
	r := do("POST", path, bearer, body)
	if r.Status != 201 {
		t.Fatalf("create %s: %d %s", what, r.Status, r.Body)
	}
	return r.JSON(t)[field].(string)
}

// NewUser creates a plain user through the API with UserPassword and returns
// their access token.
func NewUser(t testing.TB, do Do, rootToken, email string) string {
	t.Helper()
	Create(t, do, "user", rootToken, "/v1/users", map[string]any{"email": email, "password": UserPassword}, "id")
	a, _ := Login(t, do, email, UserPassword)
	return a
}
