package apitest

import (
	"testing"

	"github.com/vegasec/vega/app/config"
)

// Do sends one request through a harness (app/server's internal one or
// servertest) and reads the whole response; body and headers are as for
// NewRequest.
type Do func(method, path, bearer string, body any, headers ...string) Response

// UserPassword is the password NewUser gives the users it makes.
const UserPassword = "correct horse battery"

// Client makes the calls nearly every API test starts with (sign in, make a
// user or a project) through a harness's Do, so both harnesses share them.
type Client struct {
	TB   testing.TB
	Send Do
}

// Login signs in with the custom provider and returns the access and
// refresh tokens.
func (c Client) Login(email, password string) (access, refresh string) {
	c.TB.Helper()
	r := c.Send("POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if r.Status != 200 {
		c.TB.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	m := r.JSON(c.TB)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// DebugToken is an access token of the built-in debug account (root).
func (c Client) DebugToken() string {
	c.TB.Helper()
	a, _ := c.Login(config.DefaultDebugEmail, config.DefaultDebugPassword)
	return a
}

// Create posts body to path as bearer, fails unless the answer is 201
// Created, and returns the field of the created resource (its "id", an API
// key's "secret"): the one shape of every create call the tests make.
func (c Client) Create(what, bearer, path string, body any, field string) string {
	c.TB.Helper()
	r := c.Send("POST", path, bearer, body)
	if r.Status != 201 {
		c.TB.Fatalf("create %s: %d %s", what, r.Status, r.Body)
	}
	return r.JSON(c.TB)[field].(string)
}

// NewUser creates a plain user through the API with UserPassword and returns
// their access token.
func (c Client) NewUser(rootToken, email string) string {
	c.TB.Helper()
	c.Create("user", rootToken, "/v1/users", map[string]any{"email": email, "password": UserPassword}, "id")
	a, _ := c.Login(email, UserPassword)
	return a
}
