package api_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/app/server/servertest"
)

// TestEngineRoutes: GET /v1/engines reports what the scan service can run,
// and a scan asking for an unavailable engine is refused with the same reason.
func TestEngineRoutes(t *testing.T) {
	type engine struct {
		Name      string `json:"name"`
		Available bool   `json:"available"`
		Default   bool   `json:"default"`
		Reason    string `json:"reason"`
		Enable    string `json:"enable"`
	}
	list := func(t *testing.T, h *servertest.Harness, bearer string) map[string]engine {
		t.Helper()
		r := h.Do("GET", "/v1/engines", bearer, nil)
		if r.Status != 200 {
			t.Fatalf("GET /v1/engines: %d %s", r.Status, r.Body)
		}
		var body struct{ Items []engine }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		out := map[string]engine{}
		for _, e := range body.Items {
			out[e.Name] = e
		}
		return out
	}

	t.Run("codex unavailable", func(t *testing.T) {
		h := servertest.New(t, map[string]string{"VEGA_SCAN_ENGINES": "auto", "VEGA_CODEX_BIN": "/nonexistent/codex",
			"VEGA_LLM_PROVIDER_API_KEY": "sk-test-" + strings.Repeat("q", 24)})
		if r := h.Do("GET", "/v1/engines", "", nil); r.Status != 401 {
			t.Fatalf("anonymous: %d", r.Status)
		}
		tok := h.NewUser(h.DebugToken(), "engines@example.test")
		got := list(t, h, tok)
		if s := got["secrets"]; !s.Available || !s.Default || s.Reason != "" {
			t.Errorf("secrets = %+v", s)
		}
		c, ok := got["codex"]
		if !ok || c.Available || c.Default || !strings.Contains(c.Reason, "not found") || !strings.Contains(c.Enable, "VEGA_CODEX_BIN") {
			t.Fatalf("codex = %+v (ok %v)", c, ok)
		}
		if r := h.Do("GET", "/v1/engines", tok, nil); strings.Contains(string(r.Body), "sk-test-") {
			t.Fatalf("engines list leaks the provider key: %s", r.Body)
		}

		env := &scantest.Env{Store: h.Env.Store, Blobs: h.Env.Blobs, Dir: t.TempDir()}
		u := env.User(t)
		key, _ := h.App.Auth.CreateAPIKey(context.Background(), u.ID, "k", nil)
		repo, _ := env.Repo(t, u.ID, map[string]string{"main.go": "package main\n"})
		r := h.Do("POST", "/v1/repositories/"+repo.ID+"/scans", key.Secret, `{"engines":["codex"]}`)
		if r.Status != 400 || r.ErrCode(t) != "validation_failed" {
			t.Fatalf("scan with unavailable codex: %d %s", r.Status, r.Body)
		}
		if msg, _ := r.JSON(t)["error"].(map[string]any)["details"].(map[string]any)["engines"].(string); !strings.Contains(msg, c.Reason) || !strings.Contains(msg, c.Enable) {
			t.Fatalf("scan with unavailable codex: %d %s", r.Status, r.Body)
		}
		if r := h.Do("POST", "/v1/repositories/"+repo.ID+"/scans", key.Secret, `{"engines":["nope"]}`); r.Status != 400 || !strings.Contains(string(r.Body), "unknown engine") {
			t.Fatalf("unknown engine: %d %s", r.Status, r.Body)
		}
	})

	t.Run("codex available", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "codex")
		if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		h := servertest.New(t, map[string]string{"VEGA_SCAN_ENGINES": "secrets", "VEGA_CODEX_BIN": bin,
			"VEGA_LLM_PROVIDER_API_KEY": "sk-test-" + strings.Repeat("q", 24)})
		got := list(t, h, h.DebugToken())
		if c := got["codex"]; !c.Available || c.Default || c.Reason != "" || c.Enable != "" {
			t.Errorf("codex = %+v", c)
		}
		if s := got["secrets"]; !s.Available || !s.Default {
			t.Errorf("secrets = %+v", s)
		}
	})
}
