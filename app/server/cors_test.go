package server

import (
	"net/http/httptest"
	"testing"
)

// The dashboard on another origin (CloudFront) calls the API with a bearer
// token: allowed origins get CORS headers, others get none.
func TestCORSForADashboardOnAnotherOrigin(t *testing.T) {
	h := newHarness(t, map[string]string{"VEGA_CORS_ALLOWED_ORIGINS": "https://vega.example.com"})
	pre := httptest.NewRequest("OPTIONS", "/v1/projects", nil)
	pre.Header.Set("Origin", "https://vega.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res, err := h.app.HTTP.Test(h.addressed(pre), -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode >= 300 || res.Header.Get("Access-Control-Allow-Origin") != "https://vega.example.com" {
		t.Fatalf("preflight from the allowed origin: %d %v", res.StatusCode, res.Header)
	}
	tok := h.debugToken()
	r := h.do("GET", "/v1/projects", tok, nil, "Origin", "https://vega.example.com")
	if r.Status != 200 || r.Header.Get("Access-Control-Allow-Origin") != "https://vega.example.com" {
		t.Fatalf("request from the allowed origin: %d %v", r.Status, r.Header)
	}
	if got := r.Header.Get("Access-Control-Expose-Headers"); got == "" {
		t.Fatal("X-Request-ID and Content-Disposition must be exposed to the dashboard")
	}
	evil := h.do("GET", "/v1/projects", tok, nil, "Origin", "https://evil.example.net")
	if v := evil.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Fatalf("another origin was allowed: %q", v)
	}
}
