package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/vegasec/vega/app/server/servertest"
	"github.com/vegasec/vega/store"
)

// TestBillingUsageRoute drives GET /v1/billing/usage through the production
// router with a real API key.
func TestBillingUsageRoute(t *testing.T) {
	ctx := context.Background()
	h := servertest.New(t, nil)
	st := h.Env.Store
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "b@example.com", Groups: []string{store.GroupUser}, CreatedAt: time.Now()}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	key, err := h.App.Auth.CreateAPIKey(ctx, u.ID, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	if err := st.CreateUsageRecord(ctx, &store.UsageRecord{ID: store.NewID(store.PrefixUsage), ScanID: "scan_gone", ProjectID: "prj_gone", UserID: u.ID, Model: "m",
		Usage: store.Usage{Requests: 2, InputTokens: 100, CachedInputTokens: 10, OutputTokens: 20, CostUSD: 0.5}, At: at}); err != nil {
		t.Fatal(err)
	}

	get := func(url, bearer string) (int, map[string]any) {
		r := h.Do("GET", url, bearer, nil)
		return r.Status, r.JSON(t)
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
	for _, op := range h.App.Router.Ops() {
		found = found || (op.Path == "/v1/billing/usage" && op.Method == "GET")
	}
	if !found {
		t.Error("the route is missing from the OpenAPI operations")
	}
}
