package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/config"
)

// doHost sends a request with an explicit Host header, as a browser on a
// DNS-rebound name would.
func (h *harness) doHost(host, method, path, token string, body string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = host
	req.Header.Set("Connection", "close")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return h.send(req)
}

// The DNS rebinding attack: a page on a name the attacker controls is
// re-pointed at 127.0.0.1, so the victim's browser treats Vega as that page's
// origin. Its requests still carry the attacker's name in Host; every one of
// them is refused before any route, whatever the path.
func TestForeignHostIsRefusedOnEveryPath(t *testing.T) {
	h := newHarness(t, map[string]string{"VEGA_PUBLIC_URL": "https://vega.example.com", "VEGA_ALLOWED_HOSTS": ".corp.example", "VEGA_LOG_LEVEL": "warn"})
	tok := h.debugToken()
	login := `{"email":"` + config.DefaultDebugEmail + `","password":"` + config.DefaultDebugPassword + `"}`
	requests := []struct{ method, path, token, body string }{
		{"GET", "/v1/auth/config", "", ""},
		{"POST", "/v1/auth/login", "", login},
		{"GET", "/v1/projects", tok, ""},
		{"GET", "/v1/readyz", "", ""},
		{"GET", "/v1/openapi.json", "", ""},
		{"GET", "/v1/no-such-route", "", ""},
		{"GET", "/git/sometoken.git/info/refs?service=git-receive-pack", "", ""},
		{"POST", "/git/sometoken.git/git-receive-pack", "", ""},
		{"GET", "/", "", ""},
		{"GET", "/projects/prj_x", "", ""},
		{"GET", "/assets/index.js", "", ""},
		{"GET", "/config.json", "", ""},
		{"GET", "/docs", "", ""},
	}
	foreign := []string{"attacker.example", "127.0.0.1.nip.io", "127.0.0.1.nip.io:8000", "localhost.attacker.example",
		"vega.example.com.attacker.example", "evilcorp.example", "attacker.example."}
	for _, host := range foreign {
		for _, rq := range requests {
			r := h.doHost(host, rq.method, rq.path, rq.token, rq.body)
			if r.Status != 421 || r.ErrCode(t) != "misdirected_request" {
				t.Fatalf("Host %s %s %s: %d %s, want 421 misdirected_request", host, rq.method, rq.path, r.Status, r.Body)
			}
			if strings.Contains(string(r.Body), "access_token") || strings.Contains(string(r.Body), config.DefaultDebugPassword) {
				t.Fatalf("Host %s %s: the refusal leaks: %s", host, rq.path, r.Body)
			}
		}
	}
	// A page can add X-Forwarded-Host to its own requests; it does not count.
	req := httptest.NewRequest("GET", "/v1/auth/config", nil)
	req.Host = "attacker.example"
	req.Header.Set("X-Forwarded-Host", "127.0.0.1")
	if r := h.send(req); r.Status != 421 {
		t.Fatalf("X-Forwarded-Host overrode the Host check: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(h.logs.String(), "127.0.0.1.nip.io") {
		t.Error("a refused host is not logged for the operator")
	}

	// Loopback, the listen address, any IP address (a load balancer's health
	// check uses the target's IP), VEGA_PUBLIC_URL's host and the allowed list pass.
	allowed := []string{h.env.Config.ListenAddr, "127.0.0.1", "localhost:8000", "LOCALHOST", "[::1]:8000", "10.0.3.17:8000",
		"vega.example.com", "VEGA.Example.COM:443", "corp.example", "build.corp.example:8000"}
	for _, host := range allowed {
		if r := h.doHost(host, "GET", "/v1/auth/config", "", ""); r.Status != 200 {
			t.Errorf("Host %s refused: %d %s", host, r.Status, r.Body)
		}
		if r := h.doHost(host, "GET", "/v1/projects", tok, ""); r.Status != 200 {
			t.Errorf("Host %s, authenticated: %d %s", host, r.Status, r.Body)
		}
	}
	// Liveness reveals nothing and health checkers use names nobody lists.
	if r := h.doHost("vega-api.internal", "GET", "/v1/healthz", "", ""); r.Status != 200 {
		t.Fatalf("healthz under a service name: %d %s", r.Status, r.Body)
	}
}

// With the defaults (loopback listen, no public URL) only addresses and
// localhost are answered: the double-clicked binary of the original attack.
func TestDefaultInstallAnswersOnlyLoopback(t *testing.T) {
	h := newHarness(t, nil)
	if r := h.doHost("127.0.0.1.nip.io:8000", "GET", "/v1/auth/config", "", ""); r.Status != 421 {
		t.Fatalf("rebound name on the default install: %d %s", r.Status, r.Body)
	}
	if r := h.doHost("127.0.0.1.nip.io:8000", "POST", "/v1/auth/login", "",
		`{"email":"`+config.DefaultDebugEmail+`","password":"`+config.DefaultDebugPassword+`"}`); r.Status != 421 {
		t.Fatalf("login through a rebound name: %d %s", r.Status, r.Body)
	}
	if r := h.doHost("localhost:8000", "GET", "/v1/auth/config", "", ""); r.Status != 200 {
		t.Fatalf("localhost: %d %s", r.Status, r.Body)
	}
}

// The public sign-in settings never carry a password, for either provider.
func TestAuthConfigCarriesNoPassword(t *testing.T) {
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys":[]}`)
	}))
	t.Cleanup(jwks.Close)
	for name, env := range map[string]map[string]string{
		"custom, default password": nil,
		"custom, own password":     {"VEGA_DEBUG_PASSWORD": "a-long-unique-password"},
		"cognito": {"VEGA_AUTH_PROVIDER": "cognito", "VEGA_COGNITO_ISSUER": jwks.URL + "/pool", "VEGA_COGNITO_APP_CLIENT_ID": "client-1",
			"VEGA_COGNITO_DOMAIN": "auth.example.com", "VEGA_COGNITO_REGION": "eu-west-1"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, env)
			r := h.do("GET", "/v1/auth/config", "", nil)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			body := strings.ToLower(string(r.Body))
			for _, leak := range []string{"password", "debug", config.DefaultDebugPassword, "a-long-unique-password"} {
				if strings.Contains(body, leak) {
					t.Fatalf("/v1/auth/config mentions %q: %s", leak, r.Body)
				}
			}
		})
	}
}

// The start-up log, read by whoever started the binary, names the default
// credentials while they are in use (the API no longer does), and only then.
func TestStartupLogNamesDefaultCredentials(t *testing.T) {
	for _, own := range []bool{false, true} {
		vars := map[string]string{"VEGA_LISTEN_ADDR": "127.0.0.1:0", "VEGA_LOG_LEVEL": "warn"}
		if own {
			vars["VEGA_DEBUG_PASSWORD"] = "a-long-unique-password"
		}
		h := newHarness(t, vars)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		ready := make(chan string, 1)
		go func() { done <- Serve(ctx, h.env, func(addr string) { ready <- addr }) }()
		select {
		case <-ready:
		case err := <-done:
			t.Fatal(err)
		case <-time.After(30 * time.Second):
			t.Fatal("server did not start")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		logs := h.logs.String()
		if has := strings.Contains(logs, config.DefaultDebugPassword) && strings.Contains(logs, config.DefaultDebugEmail); has == own {
			t.Fatalf("own password %v: start-up log names the default credentials = %v:\n%s", own, has, logs)
		}
		if strings.Contains(logs, "a-long-unique-password") {
			t.Fatal("a configured password was logged")
		}
	}
}

// API responses (source, findings, tokens) are never cached; the dashboard's
// hashed assets are, its index.html is revalidated, and its CSP lets scripts
// talk only to this origin, the configured API origin and Cognito.
func TestCachingAndContentSecurityPolicy(t *testing.T) {
	h := newHarness(t, map[string]string{"VEGA_PUBLIC_URL": "https://vega.example.com:8443/base"})
	tok := h.debugToken()
	pid := h.project(tok, "cache")
	for _, p := range []string{"/v1/auth/me", "/v1/projects/" + pid, "/v1/projects/" + pid + "/findings", "/v1/healthz", "/v1/nope"} {
		r := h.do("GET", p, tok, nil)
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", p, r.Status, got)
		}
	}
	if r := h.do("POST", "/v1/auth/login", "", map[string]string{"email": "x@example.com", "password": "wrong"}); r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("error response: Cache-Control %q", r.Header.Get("Cache-Control"))
	}

	page := h.do("GET", "/projects", "", nil)
	csp := page.Header.Get("Content-Security-Policy")
	if page.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("index.html: Cache-Control %q", page.Header.Get("Cache-Control"))
	}
	want := map[string]string{
		"connect-src":     "'self' https://vega.example.com:8443",
		"script-src":      "'self'",
		"frame-ancestors": "'none'",
		"object-src":      "'none'",
	}
	got := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		got[name] = value
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("CSP %s = %q, want %q (policy: %s)", k, got[k], v, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") && !strings.Contains(got["style-src"], "unsafe-inline") || strings.Contains(got["script-src"], "unsafe") {
		t.Errorf("inline script allowed: %s", csp)
	}

	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"keys":[]}`) }))
	t.Cleanup(jwks.Close)
	c := newHarness(t, map[string]string{"VEGA_AUTH_PROVIDER": "cognito", "VEGA_COGNITO_ISSUER": jwks.URL + "/pool",
		"VEGA_COGNITO_APP_CLIENT_ID": "client-1", "VEGA_COGNITO_DOMAIN": "vega.auth.eu-west-1.amazoncognito.com"})
	csp = c.do("GET", "/", "", nil).Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' http://127.0.0.1:8000 https://vega.auth.eu-west-1.amazoncognito.com;") {
		t.Errorf("Cognito CSP: %s", csp)
	}
}

// A client that sends part of a header and stalls (slowloris) is cut off
// after the header timeout, while an upload whose body takes longer than
// that still goes through.
func TestStalledHeadersAreCutOff(t *testing.T) {
	if api.HeaderReadTimeout <= 0 || api.HeaderReadTimeout > 30*time.Second {
		t.Fatalf("production header timeout %v, want (0, 30s]", api.HeaderReadTimeout)
	}
	h := newHarness(t, nil)
	srv := h.app.HTTP.Server()
	if srv.ReadTimeout != api.HeaderReadTimeout {
		t.Fatalf("the server's header timeout is %v, not api.HeaderReadTimeout", srv.ReadTimeout)
	}
	const short = 700 * time.Millisecond
	srv.ReadTimeout = short // only the test shortens it
	addr := h.serve()

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	io.WriteString(conn, "GET /v1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	io.Copy(io.Discard, conn) // returns when the server closes the connection
	if took := time.Since(start); took > short+3*time.Second {
		t.Fatalf("a stalled header held the connection for %v (timeout %v)", took, short)
	} else if took < short/2 {
		t.Fatalf("connection closed after %v, before the header timeout: something else closed it", took)
	}

	// Headers in promptly, body trickled over three header timeouts: allowed.
	tok := h.debugToken()
	body := `{"name":"slow upload","description":"` + strings.Repeat("x", 64) + `"}`
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "POST /v1/projects HTTP/1.1\r\nHost: "+addr+"\r\nAuthorization: Bearer "+tok+
		"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n")
	for i := 0; i < len(body); i += len(body)/6 + 1 {
		time.Sleep(3 * short / 6)
		io.WriteString(slow, body[i:min(len(body), i+len(body)/6+1)])
	}
	slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatalf("slow body: %v", err)
	}
	defer res.Body.Close()
	var created map[string]any
	json.NewDecoder(res.Body).Decode(&created)
	if res.StatusCode != 201 || created["name"] != "slow upload" {
		t.Fatalf("slow body: %d %v", res.StatusCode, created)
	}
}
