package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/billing"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/bolt"
)

// TestBillingUsageRoute drives GET /v1/billing/usage through the real router
// with a real API key on a bolt store.
func TestBillingUsageRoute(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	authSvc, err := auth.New(st, auth.Options{Secret: []byte(strings.Repeat("s", 32)), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	authSvc.MarkSeeded()
	cfg, err := config.Load(context.Background(), config.Source{Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "b@example.com", Groups: []string{store.GroupUser}, CreatedAt: time.Now()}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	key, err := authSvc.CreateAPIKey(ctx, u.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	if err := st.CreateUsageRecord(ctx, &store.UsageRecord{ID: store.NewID(store.PrefixUsage), ScanID: "scan_gone", ProjectID: "prj_gone", UserID: u.ID, Model: "m",
		Usage: store.Usage{Requests: 2, InputTokens: 100, CachedInputTokens: 10, OutputTokens: 20, CostUSD: 0.5}, At: at}); err != nil {
		t.Fatal(err)
	}
	router := NewRouter(Deps{Config: cfg, Auth: authSvc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Extra: []func(*Router){BillingRoutes(billing.New(st, nil))}})

	get := func(url, bearer string) (int, map[string]any) {
		req := httptest.NewRequest("GET", url, nil)
		req.Host = cfg.ListenAddr // httptest's example.com is a foreign host (DNS rebinding check)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := router.App().Test(req, 5000)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}

	status, body := get("/v1/billing/usage?from=2026-11-01&to=2026-11-30&group_by=project", key.Secret)
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	totals := body["totals"].(map[string]any)
	if totals["requests"] != float64(2) || totals["cached_input_tokens"] != float64(10) || totals["cost_usd"] != 0.5 {
		t.Errorf("totals = %v", totals)
	}
	rows := body["rows"].([]any)
	row := rows[0].(map[string]any)
	for _, k := range []string{"key", "label", "requests", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd"} {
		if _, ok := row[k]; !ok {
			t.Errorf("row lacks %s: %v", k, row)
		}
	}
	if row["key"] != "prj_gone" || row["label"] != "prj_gone (deleted)" {
		t.Errorf("row = %v", row)
	}

	if status, body := get("/v1/billing/usage?group_by=week", key.Secret); status != 400 || body["error"].(map[string]any)["code"] != "validation_failed" {
		t.Errorf("bad group_by: %d %v", status, body)
	}
	if status, _ := get("/v1/billing/usage?from=tomorrow", key.Secret); status != 400 {
		t.Errorf("bad from: %d", status)
	}
	if status, _ := get("/v1/billing/usage", ""); status != 401 {
		t.Errorf("anonymous: %d", status)
	}
	found := false
	for _, op := range router.ops {
		found = found || (op.Path == "/v1/billing/usage" && op.Method == "GET")
	}
	if !found {
		t.Error("the route is missing from the OpenAPI operations")
	}
}
