package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/testutil/apitest"
)

// Regression tests for session revocation (issue 15): each one performs the
// attack through the real router, on bolt and (VEGA_TEST_STORE=postgres) on
// Postgres.

const userPassword = apitest.UserPassword

// createUser makes a plain user through the API and returns its ID.
func (h *harness) createUser(rootToken, email, password string) string {
	h.t.Helper()
	return h.create("user", rootToken, "/v1/users", map[string]any{"email": email, "password": password}, "id")
}

// apiKey creates an API key for the bearer and returns its secret.
func (h *harness) apiKey(token, name string) string {
	h.t.Helper()
	return h.create("API key", token, "/v1/api-keys", map[string]string{"name": name}, "secret")
}

// status is the answer to GET /v1/auth/me with a bearer credential.
func (h *harness) meStatus(token string) int {
	h.t.Helper()
	return h.do("GET", "/v1/auth/me", token, nil).Status
}

func (h *harness) refreshStatus(refresh string) int {
	h.t.Helper()
	return h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}).Status
}

// wantStatus fails with what when got is not want.
func wantStatus(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d", what, got, want)
	}
}

func TestPasswordResetEvictsEveryCredential(t *testing.T) {
	h, root := rootHarness(t)
	id := h.createUser(root, "victim@example.com", userPassword)
	access, refresh := h.login("victim@example.com", userPassword)
	key := h.apiKey(access, "laptop")
	wantStatus(t, "access token before the reset", h.meStatus(access), 200)
	wantStatus(t, "API key before the reset", h.meStatus(key), 200)

	// Root resets the password, as after a suspected compromise.
	if r := h.do("PATCH", "/v1/users/"+id, root, map[string]any{"password": "a brand new password"}); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "old access token after the reset", h.meStatus(access), 401)
	wantStatus(t, "old refresh token after the reset", h.refreshStatus(refresh), 401)
	wantStatus(t, "API key after the reset", h.meStatus(key), 401)
	wantStatus(t, "old password", h.do("POST", "/v1/auth/login", "", map[string]string{"email": "victim@example.com", "password": userPassword}).Status, 401)
	if keys := h.do("GET", "/v1/api-keys", root, nil); strings.Contains(string(keys.Body), `"laptop"`) {
		t.Fatal("the victim's key is listed to root") // sanity: keys are per user
	}

	// The new password works; keep_api_keys keeps the keys, and only them.
	access, refresh = h.login("victim@example.com", "a brand new password")
	key = h.apiKey(access, "ci")
	if r := h.do("PATCH", "/v1/users/"+id, root, map[string]any{"password": "yet another password", "keep_api_keys": true}); r.Status != 200 {
		t.Fatalf("reset keeping keys: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "API key after a reset with keep_api_keys", h.meStatus(key), 200)
	wantStatus(t, "access token after a reset with keep_api_keys", h.meStatus(access), 401)
	wantStatus(t, "refresh token after a reset with keep_api_keys", h.refreshStatus(refresh), 401)

	// Changing only the display name ends nothing.
	access, _ = h.login("victim@example.com", "yet another password")
	if r := h.do("PATCH", "/v1/users/"+id, root, map[string]any{"display_name": "Victim"}); r.Status != 200 {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "access token after a rename", h.meStatus(access), 200)
	wantStatus(t, "API key after a rename", h.meStatus(key), 200)
}

func TestRevokeSessions(t *testing.T) {
	h, root := rootHarness(t)
	id := h.createUser(root, "alice@example.com", userPassword)
	a1, r1 := h.login("alice@example.com", userPassword) // laptop
	a2, r2 := h.login("alice@example.com", userPassword) // phone
	key := h.apiKey(a1, "ci")
	mallory := h.newUser(root, "mallory@example.com")

	// Another plain user learns nothing: the same 404 as for a user that does not exist.
	for _, target := range []string{id, "usr_01J0000000000000000000000X"} {
		r := h.do("POST", "/v1/users/"+target+"/revoke-sessions", mallory, nil)
		if r.Status != 404 || r.ErrCode(t) != "not_found" {
			t.Fatalf("mallory revoking %s: %d %s", target, r.Status, r.Body)
		}
	}
	wantStatus(t, "alice after mallory's attempt", h.meStatus(a1), 200)
	if r := h.do("POST", "/v1/users/usr_01J0000000000000000000000X/revoke-sessions", root, nil); r.Status != 404 {
		t.Fatalf("root revoking an unknown user: %d %s", r.Status, r.Body)
	}

	// Alice signs out everywhere from the laptop: both devices are out, keys stay.
	if r := h.do("POST", "/v1/users/"+id+"/revoke-sessions", a1, nil); r.Status != 204 {
		t.Fatalf("revoke own sessions: %d %s", r.Status, r.Body)
	}
	for name, tok := range map[string]string{"laptop access": a1, "phone access": a2} {
		wantStatus(t, name+" after sign out everywhere", h.meStatus(tok), 401)
	}
	for name, tok := range map[string]string{"laptop refresh": r1, "phone refresh": r2} {
		wantStatus(t, name+" after sign out everywhere", h.refreshStatus(tok), 401)
	}
	wantStatus(t, "API key after sign out everywhere", h.meStatus(key), 200)
	wantStatus(t, "root after alice signed out everywhere", h.meStatus(root), 200)

	// Root may do it for her; a fresh sign-in works afterwards.
	a3, _ := h.login("alice@example.com", userPassword)
	if r := h.do("POST", "/v1/users/"+id+"/revoke-sessions", root, nil); r.Status != 204 {
		t.Fatalf("root revoking alice: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "alice's access token after root revoked her sessions", h.meStatus(a3), 401)
	a4, _ := h.login("alice@example.com", userPassword)
	wantStatus(t, "a sign-in after revocation", h.meStatus(a4), 200)
}

func TestLogoutEndsTheAccessToken(t *testing.T) {
	h, root := rootHarness(t)
	h.createUser(root, "bob@example.com", userPassword)
	a1, r1 := h.login("bob@example.com", userPassword)
	a2, r2 := h.login("bob@example.com", userPassword) // another device

	// Logout with the access token alone ends its session: both tokens of it.
	if r := h.do("POST", "/v1/auth/logout", a1, nil); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "access token after logout", h.meStatus(a1), 401)
	wantStatus(t, "refresh token of the logged-out session", h.refreshStatus(r1), 401)
	wantStatus(t, "the other device's access token", h.meStatus(a2), 200)

	// Logout with only the refresh cookie (the dashboard) ends that session too.
	if r := h.do("POST", "/v1/auth/logout", "", nil, "Cookie", api.RefreshCookie+"="+r2); r.Status != 204 {
		t.Fatalf("logout with the cookie: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "access token after a cookie logout", h.meStatus(a2), 401)
	wantStatus(t, "refresh token after a cookie logout", h.refreshStatus(r2), 401)

	// Logout is idempotent and needs no valid credential.
	if r := h.do("POST", "/v1/auth/logout", a1, nil); r.Status != 204 {
		t.Fatalf("second logout: %d %s", r.Status, r.Body)
	}
}

// refreshCookie returns the vega_refresh cookie a response sets.
func refreshCookie(t testing.TB, r response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == api.RefreshCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", api.RefreshCookie, r.Header.Values("Set-Cookie"))
	return nil
}

// deleted reports whether a Set-Cookie tells the browser to drop the cookie.
func deleted(c *http.Cookie) bool {
	return c.Value == "" && (c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())))
}

func TestRefreshCookie(t *testing.T) {
	h := newHarness(t, nil)
	login := h.do("POST", "/v1/auth/login", "", map[string]string{"email": "debug@example.com", "password": "vega-debug-password"})
	if login.Status != 200 {
		t.Fatalf("login: %d %s", login.Status, login.Body)
	}
	c := refreshCookie(t, login)
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/v1/auth" {
		t.Fatalf("cookie flags: HttpOnly=%v Secure=%v SameSite=%v Path=%q (%s)", c.HttpOnly, c.Secure, c.SameSite, c.Path, login.Header.Get("Set-Cookie"))
	}
	if c.MaxAge != int(h.env.Config.RefreshTokenTTL.Seconds()) || c.Value != login.JSON(t)["refresh_token"] {
		t.Fatalf("cookie Max-Age %d / value differs from the JSON refresh token", c.MaxAge)
	}
	if cc := login.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("token response Cache-Control %q", cc)
	}

	// Refresh with the cookie and no body: a new pair and a rotated cookie.
	res := h.do("POST", "/v1/auth/refresh", "", nil, "Cookie", api.RefreshCookie+"="+c.Value)
	if res.Status != 200 {
		t.Fatalf("refresh with the cookie: %d %s", res.Status, res.Body)
	}
	next := refreshCookie(t, res)
	if next.Value == "" || next.Value == c.Value || !next.HttpOnly || !next.Secure || next.Path != "/v1/auth" {
		t.Fatalf("refresh did not rotate the cookie: %+v", next)
	}
	// The page never sees the refresh token: a script could call this route itself.
	if _, ok := res.JSON(t)["refresh_token"]; ok || strings.Contains(string(res.Body), next.Value) {
		t.Fatalf("a cookie refresh returned the refresh token in JSON: %s", res.Body)
	}
	// A body refresh (API clients) still answers with both tokens.
	if body := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": next.Value}); body.Status != 200 || body.JSON(t)["refresh_token"] == nil {
		t.Fatalf("body refresh: %d %s", body.Status, body.Body)
	} else {
		next = refreshCookie(t, body)
	}
	wantStatus(t, "access token from a cookie refresh", h.meStatus(res.JSON(t)["access_token"].(string)), 200)

	// The body wins over the cookie (API clients), and no credential at all is a validation error.
	if r := h.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": "bogus"}, "Cookie", api.RefreshCookie+"="+next.Value); r.Status != 401 {
		t.Fatalf("a bad body token with a good cookie: %d", r.Status)
	}
	if r := h.do("POST", "/v1/auth/refresh", "", nil); r.Status != 400 || r.ErrCode(t) != "validation_failed" {
		t.Fatalf("refresh without any token: %d %s", r.Status, r.Body)
	}

	// A dead cookie is refused and cleared (reusing the rotated one revoked the family).
	dead := h.do("POST", "/v1/auth/refresh", "", nil, "Cookie", api.RefreshCookie+"="+c.Value)
	if dead.Status != 401 {
		t.Fatalf("reused cookie: %d", dead.Status)
	}
	if cleared := refreshCookie(t, dead); !deleted(cleared) {
		t.Fatalf("a refused cookie was not cleared: %+v", cleared)
	}
	out := h.do("POST", "/v1/auth/logout", "", nil, "Cookie", api.RefreshCookie+"="+next.Value)
	if cleared := refreshCookie(t, out); out.Status != 204 || !deleted(cleared) || cleared.Path != "/v1/auth" {
		t.Fatalf("logout did not clear the cookie: %d %+v", out.Status, cleared)
	}
}

func TestLoginRefusesPasswordsLongerThanBcryptReads(t *testing.T) {
	h, root := rootHarness(t)
	pw72 := strings.Repeat("p", 60) + "0123456789AB" // 72 bytes: all bcrypt reads
	h.createUser(root, "long@example.com", pw72)
	login := func(pw string) response {
		return h.do("POST", "/v1/auth/login", "", map[string]string{"email": "long@example.com", "password": pw})
	}
	wrong := login("not the password at all")
	for _, suffix := range []string{"x", "anything at all", strings.Repeat("z", 500)} {
		r := login(pw72 + suffix)
		if r.Status != 401 || r.ErrCode(t) != "unauthorized" {
			t.Fatalf("72-byte password + %d bytes signed in: %d %s", len(suffix), r.Status, r.Body)
		}
		if r.JSON(t)["error"].(map[string]any)["message"] != wrong.JSON(t)["error"].(map[string]any)["message"] {
			t.Fatalf("the answer differs from a wrong password's: %s vs %s", r.Body, wrong.Body)
		}
	}
	if r := login(pw72); r.Status != 200 {
		t.Fatalf("the exact 72-byte password: %d %s", r.Status, r.Body)
	}
}

// listen serves the app on a real loopback socket, for tests that need a
// client address or read a response as it streams, and returns its base URL.
func (h *harness) listen() string {
	h.t.Helper()
	return "http://" + h.serve()
}

// serve serves the app on a loopback socket until the test ends and returns
// the socket's host:port, for clients that speak raw TCP or git.
func (h *harness) serve() string {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	go func() { _ = h.app.HTTP.Listener(ln) }()
	h.t.Cleanup(func() { _ = h.app.HTTP.ShutdownWithTimeout(5 * time.Second) })
	return ln.Addr().String()
}

// clientFrom connects from a given loopback address (127.0.0.2, …), which the
// server sees as the client's address.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 30 * time.Second}
}

// postJSON posts body and returns status, Retry-After and the error code.
func postJSON(t *testing.T, c *http.Client, url string, body any) (int, string, string) {
	t.Helper()
	raw, _ := json.Marshal(body)
	res, err := c.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(res.Body).Decode(&env)
	return res.StatusCode, res.Header.Get("Retry-After"), env.Error.Code
}

// The probe: wrong passwords for someone's account from one address must not
// lock its owner out. The attacker is slowed down; the owner, from another
// address, signs in within seconds.
func TestLoginLimiterIsNotALockoutWeapon(t *testing.T) {
	h := newHarness(t, nil)
	h.createUser(h.debugToken(), "target@example.com", userPassword)
	base := h.listen()
	attacker, owner := clientFrom("127.0.0.2"), clientFrom("127.0.0.3")
	wrong := map[string]string{"email": "target@example.com", "password": "guess-guess-guess"}
	right := map[string]string{"email": "target@example.com", "password": userPassword}

	// A burst: the first failures are answered, then 429 with Retry-After.
	failures, limited := 0, 0
	for range 12 {
		switch status, retry, code := postJSON(t, attacker, base+"/v1/auth/login", wrong); status {
		case 401:
			failures++
		case 429:
			limited++
			if n, err := strconv.Atoi(retry); err != nil || n < 1 || code != "rate_limited" {
				t.Fatalf("429 with Retry-After %q and code %q", retry, code)
			}
		default:
			t.Fatalf("wrong password answered %d", status)
		}
	}
	if failures == 0 || limited == 0 {
		t.Fatalf("burst of 12: %d failures, %d throttled", failures, limited)
	}
	// A patient attacker honours Retry-After until 10 guesses were judged.
	for failures < 10 {
		status, retry, _ := postJSON(t, attacker, base+"/v1/auth/login", wrong)
		switch status {
		case 401:
			failures++
		case 429:
			n, _ := strconv.Atoi(retry)
			if n > 15 {
				t.Fatalf("after %d failures the attacker must wait %d s: that is a lockout", failures, n)
			}
			time.Sleep(time.Duration(n) * time.Second)
		default:
			t.Fatalf("wrong password answered %d", status)
		}
	}
	// The attacker's address is now locked out of this account…
	if status, retry, _ := postJSON(t, attacker, base+"/v1/auth/login", right); status != 429 {
		t.Fatalf("the right password from the attacker's address after 10 failures: %d", status)
	} else if n, _ := strconv.Atoi(retry); n < 60 {
		t.Fatalf("the attacker's address waits only %d s", n)
	}
	// …but the owner, from another address, is in within seconds.
	start := time.Now()
	for {
		status, retry, _ := postJSON(t, owner, base+"/v1/auth/login", right)
		if status == 200 {
			break
		}
		n, _ := strconv.Atoi(retry)
		if status != 429 || n < 1 || time.Since(start)+time.Duration(n)*time.Second > 12*time.Second {
			t.Fatalf("the owner from another address: %d (Retry-After %q) after %s", status, retry, time.Since(start))
		}
		time.Sleep(time.Duration(n) * time.Second)
	}
	t.Logf("owner signed in from a new address %s after the attack", time.Since(start).Round(time.Millisecond))
}

// openStream opens a scan's SSE stream with a credential and reads up to the
// first frame, so the stream is known to be open.
func openStream(t *testing.T, base, scanID, credential string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/scans/"+scanID+"/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+credential)
	res, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != 200 {
		t.Fatalf("stream: %d", res.StatusCode)
	}
	rd := bufio.NewReader(res.Body)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("stream did not start: %q %v", line, err)
	}
	return res, rd
}

// closesWithin reads the stream until the server ends it and fails unless
// that happens within limit of now; it returns how long it took.
func closesWithin(t *testing.T, rd *bufio.Reader, limit time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, rd); done <- err }()
	select {
	case err := <-done:
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: stream ended with %v", what, err)
		}
		t.Logf("%s: stream closed %s after the revocation", what, took.Round(time.Millisecond))
		return took
	case <-time.After(limit):
		t.Fatalf("%s: stream still open %s after the revocation", what, limit)
	}
	return 0
}

func TestRevocationEndsOpenEventStreams(t *testing.T) {
	h, root := rootHarness(t)
	uid := h.createUser(root, "watcher@example.com", userPassword)
	tok, _ := h.login("watcher@example.com", userPassword)
	repoID := h.ingestedRepo(tok, "watched", "r", map[string]string{"main.py": "print(1)\n"})
	// No dispatcher runs in this harness, so the scan stays queued and its
	// stream stays open until something ends it.
	scanID := h.startScan(tok, repoID, map[string]any{})
	base := h.listen()

	cases := []struct {
		name   string
		cred   func() string // a credential of the watcher
		revoke func(cred string)
	}{
		{"API key deleted", func() string { return h.apiKey(tok, "stream") }, func(cred string) {
			keys := h.do("GET", "/v1/api-keys", tok, nil).JSON(t)["items"].([]any)
			for _, k := range keys {
				if k := k.(map[string]any); strings.HasPrefix(cred, k["prefix"].(string)) {
					wantStatus(t, "delete key", h.do("DELETE", "/v1/api-keys/"+k["id"].(string), tok, nil).Status, 204)
				}
			}
		}},
		{"logout", func() string { a, _ := h.login("watcher@example.com", userPassword); return a }, func(cred string) {
			wantStatus(t, "logout", h.do("POST", "/v1/auth/logout", cred, nil).Status, 204)
		}},
		{"sign out everywhere", func() string { a, _ := h.login("watcher@example.com", userPassword); return a }, func(cred string) {
			wantStatus(t, "revoke-sessions", h.do("POST", "/v1/users/"+uid+"/revoke-sessions", root, nil).Status, 204)
		}},
		{"password reset", func() string { a, _ := h.login("watcher@example.com", userPassword); return a }, func(cred string) {
			wantStatus(t, "reset", h.do("PATCH", "/v1/users/"+uid, root, map[string]any{"password": userPassword}).Status, 200)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cred := c.cred()
			_, rd := openStream(t, base, scanID, cred)
			time.Sleep(500 * time.Millisecond) // the stream is idle, waiting for events
			c.revoke(cred)
			if took := closesWithin(t, rd, 10*time.Second, c.name); took <= 0 {
				t.Fatal("no measurement")
			}
			wantStatus(t, "reconnecting with the revoked credential", h.meStatus(cred), 401)
		})
	}

	// A stream whose credential stays valid is not cut by the checks.
	live, _ := h.login("watcher@example.com", userPassword)
	_, rd := openStream(t, base, scanID, live)
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Second) // two re-checks
	defer cancel()
	ended := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, rd); close(ended) }()
	select {
	case <-ended:
		t.Fatal("a stream with a valid credential was closed")
	case <-ctx.Done():
	}
}

// The race a page load can lose: the browser reloads while its refresh is in
// flight, the server has rotated the cookie, the new one never arrives, and
// the next load sends the old cookie again. That must restore the session,
// not end it as theft (docs/auth.md, RefreshRetryGrace).
func TestRefreshRetryAfterAReload(t *testing.T) {
	h := newHarness(t, nil)
	login := h.do("POST", "/v1/auth/login", "", map[string]string{"email": "debug@example.com", "password": "vega-debug-password"})
	c0 := refreshCookie(t, login).Value
	if lost := h.do("POST", "/v1/auth/refresh", "", nil, "Cookie", api.RefreshCookie+"="+c0); lost.Status != 200 {
		t.Fatalf("first refresh: %d %s", lost.Status, lost.Body)
	}
	again := h.do("POST", "/v1/auth/refresh", "", nil, "Cookie", api.RefreshCookie+"="+c0)
	if again.Status != 200 {
		t.Fatalf("the reload's refresh with the old cookie: %d %s", again.Status, again.Body)
	}
	if c := refreshCookie(t, again); c.Value == "" || c.Value == c0 {
		t.Fatalf("no new cookie after the retry: %+v", c)
	}
	wantStatus(t, "access token after the retry", h.meStatus(again.JSON(t)["access_token"].(string)), 200)
}
