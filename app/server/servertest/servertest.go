// Package servertest runs the production api role for tests of the HTTP
// surface: the configuration, store, blob store, services and router are
// built by server.Open and server.NewApp, exactly as `vega serve` builds
// them, on a temporary data directory, and requests go through the router
// without a network listener. Tests of an API area (app/api/*_test.go) use it
// so that what they exercise is the wiring that ships, not a copy of it.
package servertest

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/server"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/awsemu"
)

// Harness is one api role on its own data directory.
type Harness struct {
	T   testing.TB
	App *server.App
	Env *server.Env
	// Login, DebugToken, NewUser and Create sign in and make users.
	apitest.Client
}

// New builds the api role from vars (VEGA_* variables; the data directory
// and an error-level log are set unless given). `VEGA_TEST_STORE=postgres`
// gives it a database of its own (pgtest: a skip without one, a failure
// under CI=true), and `VEGA_TEST_BLOBS=s3` keeps its files in S3 (the
// in-process emulator, testutil/awsemu). Its background work (the scan pool, sweeps) does not run:
// a test runs scans itself, or calls Start.
func New(t testing.TB, vars map[string]string) *Harness {
	t.Helper()
	all := map[string]string{"VEGA_DATA_DIR": t.TempDir(), "VEGA_LOG_LEVEL": "error"}
	if os.Getenv("VEGA_TEST_STORE") == "postgres" {
		all["VEGA_PERSISTENCE_BACKEND"] = "postgres"
		all["VEGA_DATABASE_URL"] = pgtest.NewDatabase(t)
		all["VEGA_AUTO_MIGRATE"] = "true"
		all["VEGA_AUTH_SECRET"] = strings.Repeat("t", 40)
	}
	var opts []server.Option
	if os.Getenv("VEGA_TEST_BLOBS") == "s3" {
		emu := awsemu.Start(t)
		source, artifacts := awsemu.Unique("vega-source"), awsemu.Unique("vega-artifacts")
		emu.CreateBucket(t, source)
		emu.CreateBucket(t, artifacts)
		all["VEGA_FILE_STORAGE_BACKEND"] = "s3"
		all["VEGA_S3_SOURCE_BUCKET"] = source
		all["VEGA_S3_ARTIFACTS_BUCKET"] = artifacts
		all["VEGA_S3_FORCE_PATH_STYLE"] = "true"
		all["VEGA_AWS_ENDPOINT_URL"] = emu.URL
		opts = append(opts, server.WithAWS(emu.Options()))
	}
	for k, v := range vars {
		all[k] = v
	}
	cfg, err := config.Load(context.Background(), config.Source{Role: config.RoleAPI,
		Env: func(k string) (string, bool) { v, ok := all[k]; return v, ok }, LocalSecret: server.LocalSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env, err := server.Open(ctx, cfg, server.NewLogger(cfg, io.Discard), "test", opts...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := server.NewApp(ctx, env)
	if err != nil {
		env.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); env.Close() })
	h := &Harness{T: t, App: a, Env: env}
	h.Client = apitest.Client{TB: t, Send: h.Do}
	return h
}

// Response is a whole response (testutil/apitest: JSON, ErrCode).
type Response = apitest.Response

// Do sends a request with an optional bearer credential; body may be nil, a
// string (sent as it is) or a value (sent as JSON). headers are name, value pairs.
func (h *Harness) Do(method, path, bearer string, body any, headers ...string) Response {
	h.T.Helper()
	return apitest.Read(h.Open(apitest.NewRequest(h.T, method, path, bearer, body, headers...)))
}

// Open sends req and returns the response unread, for streams. The request
// is addressed to the server's listen address: httptest's example.com is a
// host the server rightly refuses (DNS rebinding defence).
func (h *Harness) Open(req *http.Request) *http.Response {
	h.T.Helper()
	if req.Host == "example.com" {
		req.Host = h.Env.Config.ListenAddr
	}
	// app.Test reuses one connection; a handler that refuses a streamed body
	// early would otherwise leave the rest of it to be parsed as the next request.
	req.Header.Set("Connection", "close")
	res, err := h.App.HTTP.Test(req, -1)
	if err != nil {
		h.T.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	return res
}
