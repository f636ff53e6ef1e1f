package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

// harness is the production api role on a temporary data directory, driven
// through its real router without a network listener.
type harness struct {
	t    testing.TB
	app  *App
	env  *Env
	logs *logBuffer // everything the server logged (at VEGA_LOG_LEVEL)
	aws  *s3Harness // set when blobs are in S3 (the emulator)
}

// logBuffer collects the server log; the server writes from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t testing.TB, extraEnv map[string]string, opts ...Option) *harness {
	t.Helper()
	vars := map[string]string{"VEGA_DATA_DIR": t.TempDir(), "VEGA_LOG_LEVEL": "error"}
	// `VEGA_TEST_BLOBS=s3 go test` runs the same suite with files in S3 (the
	// in-process emulator), as the AWS runtime keeps them.
	var aws *s3Harness
	if os.Getenv("VEGA_TEST_BLOBS") == "s3" || extraEnv["VEGA_FILE_STORAGE_BACKEND"] == "s3" {
		aws = newS3Harness(t, vars)
	}
	// The same API suite runs on both stores: `VEGA_TEST_STORE=postgres go test`
	// gives every test its own database (pgtest; a skip without one, a failure under CI=true).
	if os.Getenv("VEGA_TEST_STORE") == "postgres" {
		vars["VEGA_PERSISTENCE_BACKEND"] = "postgres"
		vars["VEGA_DATABASE_URL"] = pgtest.NewDatabase(t)
		vars["VEGA_AUTO_MIGRATE"] = "true"
		vars["VEGA_AUTH_SECRET"] = strings.Repeat("t", 40)
	}
	for k, v := range extraEnv {
		vars[k] = v
	}
	cfg := loadConfig(t, vars)
	logs := &logBuffer{}
	log := NewLogger(cfg, logs)
	ctx := context.Background()
	if aws != nil {
		opts = append(opts, WithAWS(aws.emu.Options()))
	}
	env, err := Open(ctx, cfg, log, "test", opts...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewApp(ctx, env)
	if err != nil {
		env.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); env.Close() })
	return &harness{t: t, app: a, env: env, logs: logs, aws: aws}
}

// runBackground starts the api role's background work (scan pool, sweeps)
// until the test ends, as Serve does once it listens.
func (h *harness) runBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(func() { cancel(); h.app.features.drain(5 * time.Second) })
	h.app.features.start(ctx)
}

// loadConfig loads the api role's configuration from vars, as main does.
func loadConfig(t testing.TB, vars map[string]string) *config.Config {
	t.Helper()
	return loadConfigAs(t, config.RoleAPI, vars)
}

func loadConfigAs(t testing.TB, role string, vars map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(context.Background(), config.Source{Role: role,
		Env: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, LocalSecret: LocalSecret})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object (status %d): %q", r.Status, r.Body)
	}
	return m
}

// errCode checks the body is the documented envelope and returns its code.
func (r response) errCode(t testing.TB) string {
	t.Helper()
	m := r.json(t)
	if m["schema_version"] != float64(1) {
		t.Fatalf("no schema_version 1 in error body: %s", r.Body)
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.Body)
	}
	for _, k := range []string{"code", "message", "retryable", "details", "request_id"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("error envelope lacks %q: %s", k, r.Body)
		}
	}
	if e["request_id"] == "" || e["request_id"] != r.Header.Get("X-Request-ID") {
		t.Fatalf("request_id %v does not match X-Request-ID %q", e["request_id"], r.Header.Get("X-Request-ID"))
	}
	return e["code"].(string)
}

// do sends a request; body may be nil, a string (sent raw) or a value (JSON).
func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	default:
		raw, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	// app.Test reuses one connection; a handler that refuses a streamed body
	// early would otherwise leave the rest of it to be parsed as the next request.
	req.Header.Set("Connection", "close")
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return h.send(req)
}

// send runs req through the router and reads the whole response.
func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	res, err := h.app.HTTP.Test(h.addressed(req), -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// addressed gives a request built by httptest.NewRequest the Host a real
// client of this server sends (its listen address) instead of httptest's
// placeholder example.com, which the server rightly refuses (DNS rebinding).
func (h *harness) addressed(req *http.Request) *http.Request {
	if req.Host == "example.com" {
		req.Host = h.env.Config.ListenAddr
	}
	return req
}

// login signs in and returns the access and refresh tokens.
func (h *harness) login(email, password string) (string, string) {
	h.t.Helper()
	r := h.do("POST", "/v1/auth/login", "", map[string]string{"email": email, "password": password})
	if r.Status != 200 {
		h.t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	m := r.json(h.t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

func (h *harness) debugToken() string {
	a, _ := h.login(config.DefaultDebugEmail, config.DefaultDebugPassword)
	return a
}

// newUser creates a plain user through the API and returns their access token.
func (h *harness) newUser(rootToken, email string) string {
	h.t.Helper()
	r := h.do("POST", "/v1/users", rootToken, map[string]any{"email": email, "password": "correct horse battery"})
	if r.Status != 201 {
		h.t.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	a, _ := h.login(email, "correct horse battery")
	return a
}

// doRaw sends a raw body with an explicit content type.
func (h *harness) doRaw(method, path, contentType, body string) response {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Connection", "close")
	return h.send(req)
}
