package server

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/vegasec/vega/app/config"
)

func TestLoginScenarios(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		name   string
		body   any
		ctype  string
		status int
		code   string
	}{
		{"ok", map[string]string{"email": config.DefaultDebugEmail, "password": config.DefaultDebugPassword}, "", 200, ""},
		{"email is case-insensitive", map[string]string{"email": "DEBUG@example.com", "password": config.DefaultDebugPassword}, "", 200, ""},
		{"wrong password", map[string]string{"email": config.DefaultDebugEmail, "password": "nope"}, "", 401, "unauthorized"},
		{"unknown user", map[string]string{"email": "ghost@example.com", "password": "whatever-it-is"}, "", 401, "unauthorized"},
		{"missing fields", map[string]string{}, "", 400, "validation_failed"},
		{"wrong types", `{"email": 5, "password": true}`, "", 400, "validation_failed"},
		{"malformed JSON", `{"email": `, "", 400, "bad_request"},
		{"not an object", `[1,2]`, "", 400, "bad_request"},
		{"two values", `{} {}`, "", 400, "bad_request"},
		{"empty body", ``, "", 400, "bad_request"},
		{"form body", `email=a&password=b`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"oversized body", `{"email":"` + strings.Repeat("a", 2<<20) + `"}`, "", 413, "payload_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r response
			if c.ctype != "" {
				r = h.doRaw("POST", "/v1/auth/login", c.ctype, c.body.(string))
			} else {
				r = h.do("POST", "/v1/auth/login", "", c.body)
			}
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
			}
			if c.code != "" && r.ErrCode(t) != c.code {
				t.Fatalf("code %s, want %s", r.ErrCode(t), c.code)
			}
		})
	}
}

func TestTokensRejected(t *testing.T) {
	h := newHarness(t, nil)
	access, refresh := h.login(config.DefaultDebugEmail, config.DefaultDebugPassword)
	if r := h.do("GET", "/v1/auth/me", access, nil); r.Status != 200 {
		t.Fatalf("valid token refused: %d %s", r.Status, r.Body)
	}

	parts := strings.Split(access, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"typ": "access", "sub": "usr_x", "jti": "j", "iss": "vega",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(strings.Repeat("k", 32)))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"typ": "access", "sub": "usr_x", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	me := h.do("GET", "/v1/auth/me", access, nil).JSON(t)
	// Correctly signed with the server's own key, but expired a minute ago.
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"typ": "access", "sub": me["id"], "jti": "j", "iss": "vega",
		"iat": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(-time.Minute).Unix()}).SignedString([]byte(h.env.Config.AuthSecret))

	for name, tok := range map[string]string{
		"tampered":                tampered,
		"signed with another key": forged,
		"alg none":                none,
		"expired":                 expired,
		"refresh used as access":  refresh,
		"garbage":                 "not-a-token",
		"unknown api key":         "vega_" + strings.Repeat("A", 43),
		"missing":                 "",
	} {
		t.Run(name, func(t *testing.T) {
			r := h.do("GET", "/v1/auth/me", tok, nil)
			if r.Status != 401 || r.ErrCode(t) != "unauthorized" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}

	t.Run("access used as refresh", func(t *testing.T) {
		r := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": access})
		if r.Status != 401 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	h := newHarness(t, nil)
	_, r0 := h.login(config.DefaultDebugEmail, config.DefaultDebugPassword)
	res := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r0})
	if res.Status != 200 {
		t.Fatalf("refresh: %d %s", res.Status, res.Body)
	}
	r1 := res.JSON(t)["refresh_token"].(string)
	if r1 == r0 {
		t.Fatal("refresh token was not rotated")
	}
	// Presenting r0 again at once is a retry of a rotation whose answer was
	// lost (a reload mid-request): it rotates r1 away and answers a new pair.
	res = h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r0})
	if res.Status != 200 {
		t.Fatalf("retry of a lost rotation: %d %s", res.Status, res.Body)
	}
	r2 := res.JSON(t)["refresh_token"].(string)
	if r2 == r1 || r2 == r0 {
		t.Fatal("the retry did not issue a new refresh token")
	}
	// Now r0 is several rotations back: theft. Rejected, and the family dies too.
	if res := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r0}); res.Status != 401 {
		t.Fatalf("reused refresh token accepted: %d", res.Status)
	}
	if res := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r2}); res.Status != 401 {
		t.Fatalf("family survived reuse detection: %d", res.Status)
	}

	// Logout revokes the family.
	a2, r2 := h.login(config.DefaultDebugEmail, config.DefaultDebugPassword)
	if res := h.do("POST", "/v1/auth/logout", a2, map[string]string{"refresh_token": r2}); res.Status != 204 {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	if res := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r2}); res.Status != 401 {
		t.Fatalf("refresh after logout: %d", res.Status)
	}
}

func TestAPIKeys(t *testing.T) {
	h, tok := rootHarness(t)
	res := h.do("POST", "/v1/api-keys", tok, map[string]string{"name": "ci"})
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	created := res.JSON(t)
	secret, id := created["secret"].(string), created["id"].(string)
	if !strings.HasPrefix(secret, "vega_") || len(secret) < 5+43 {
		t.Fatalf("secret %q lacks the vega_ prefix or 32 random bytes", secret)
	}
	list := h.do("GET", "/v1/api-keys", tok, nil)
	if strings.Contains(string(list.Body), secret) || strings.Contains(string(list.Body), `"hash"`) {
		t.Fatal("the list leaks the secret or its hash")
	}
	if r := h.do("GET", "/v1/auth/me", secret, nil); r.Status != 200 {
		t.Fatalf("API key not usable as bearer: %d %s", r.Status, r.Body)
	}
	other := h.newUser(tok, "other@example.com")
	if r := h.do("DELETE", "/v1/api-keys/"+id, other, nil); r.Status != 404 {
		t.Fatalf("another user revoked my key: %d", r.Status)
	}
	if r := h.do("DELETE", "/v1/api-keys/"+id, tok, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Body)
	}
	if r := h.do("GET", "/v1/auth/me", secret, nil); r.Status != 401 {
		t.Fatalf("revoked key still works: %d", r.Status)
	}
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if r := h.do("POST", "/v1/api-keys", tok, map[string]string{"name": "old", "expires_at": past}); r.Status != 400 || r.ErrCode(t) != "validation_failed" {
		t.Fatalf("expired key accepted: %d %s", r.Status, r.Body)
	}
}

func TestUsersNeedRoot(t *testing.T) {
	h, root := rootHarness(t)
	user := h.newUser(root, "plain@example.com")
	if r := h.do("GET", "/v1/users", user, nil); r.Status != 403 || r.ErrCode(t) != "forbidden" {
		t.Fatalf("non-root listed users: %d %s", r.Status, r.Body)
	}
	if r := h.do("POST", "/v1/users", root, map[string]any{"email": "plain@example.com", "password": "another long one"}); r.Status != 409 {
		t.Fatalf("duplicate email: %d %s", r.Status, r.Body)
	}
	if r := h.do("POST", "/v1/users", root, map[string]any{"email": "x@example.com", "password": "short"}); r.Status != 400 || r.ErrCode(t) != "validation_failed" {
		t.Fatalf("short password: %d %s", r.Status, r.Body)
	}
	if r := h.do("POST", "/v1/users", root, map[string]any{"email": "y@example.com", "password": "long enough pass", "groups": []string{"admin"}}); r.Status != 400 {
		t.Fatalf("unknown group: %d %s", r.Status, r.Body)
	}
}
