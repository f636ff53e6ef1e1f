package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
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

// rootHarness is the api role with the default configuration, and an access
// token of its root (debug) account: where most API tests start.
func rootHarness(t testing.TB) (*harness, string) {
	t.Helper()
	h := newHarness(t, nil)
	return h, h.debugToken()
}

// runBackground starts the api role's background work (scan pool, sweeps)
// until the test ends, as Serve does once it listens.
func (h *harness) runBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(func() { cancel(); h.app.features.drain() })
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

type response = apitest.Response

// do sends a request; body may be nil, a string (sent raw) or a value (JSON).
func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	return h.send(apitest.NewRequest(h.t, method, path, token, body, headers...))
}

// send runs req through the router and reads the whole response.
func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	res, err := h.app.HTTP.Test(h.addressed(req), -1)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return apitest.Read(res)
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

// client signs in and makes users and projects through this harness.
func (h *harness) client() apitest.Client { return apitest.Client{TB: h.t, Send: h.do} }

// login signs in and returns the access and refresh tokens.
func (h *harness) login(email, password string) (string, string) {
	h.t.Helper()
	return h.client().Login(email, password)
}

func (h *harness) debugToken() string { h.t.Helper(); return h.client().DebugToken() }

// newUser creates a plain user through the API and returns their access token.
func (h *harness) newUser(rootToken, email string) string {
	h.t.Helper()
	return h.client().NewUser(rootToken, email)
}

// create posts body to path, wants 201 and returns the created resource's field.
func (h *harness) create(what, token, path string, body any, field string) string {
	h.t.Helper()
	return h.client().Create(what, token, path, body, field)
}

// doRaw sends a raw body with an explicit content type.
func (h *harness) doRaw(method, path, contentType, body string) response {
	h.t.Helper()
	return h.do(method, path, "", body, "Content-Type", contentType)
}
