package server

import (
	"testing"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/config"
)

// in is a copy of h whose failures go to the sub-benchmark b.
func (h *harness) in(b *testing.B) *harness {
	hb := *h
	hb.t = b
	return &hb
}

// benchGet measures GET path with token through h, each answer a 200.
func (h *harness) benchGet(b *testing.B, path, token string) {
	hb := h.in(b)
	for b.Loop() {
		if r := hb.do("GET", path, token, nil); r.Status != 200 {
			b.Fatalf("%d %s", r.Status, r.Body)
		}
	}
}

// BenchmarkAuthenticatedRequest measures what authentication costs a request
// through the real router: /v1/healthz (no credential) is the baseline, then
// GET /v1/auth/me with an access token (one GetSessionUser read: user, live
// family, generation) and with an API key (key and user reads), and the
// cookie refresh a dashboard page load now makes (a rotation: one write).
// Both stores: VEGA_TEST_STORE=postgres selects Postgres.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	h := newHarness(b, nil)
	access, refresh := h.login(config.DefaultDebugEmail, config.DefaultDebugPassword)
	key := h.apiKey(access, "bench")
	for _, c := range []struct{ name, path, token string }{
		{"healthz (baseline, no credential)", "/v1/healthz", ""},
		{"me with an access token", "/v1/auth/me", access},
		{"me with an API key", "/v1/auth/me", key},
	} {
		b.Run(c.name, func(b *testing.B) { h.benchGet(b, c.path, c.token) })
	}
	b.Run("refresh with the cookie (page-load restore)", func(b *testing.B) {
		hb := h.in(b)
		for b.Loop() {
			r := hb.do("POST", "/v1/auth/refresh", "", nil, "Cookie", api.RefreshCookie+"="+refresh)
			if r.Status != 200 {
				b.Fatalf("%d %s", r.Status, r.Body)
			}
			refresh = refreshCookie(b, r).Value
		}
	})
}
