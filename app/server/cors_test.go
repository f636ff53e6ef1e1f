package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// The dashboard on another origin (CloudFront) calls the API with a bearer
// token and the refresh cookie: allowed origins get CORS headers with
// credentials, others get none.
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
	if got := r.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "X-Request-ID") || !strings.Contains(got, "Retry-After") {
		t.Fatalf("X-Request-ID, Content-Disposition and Retry-After must be exposed to the dashboard: %q", got)
	}
	// The dashboard there sends the refresh cookie with credentials: "include",
	// which the browser allows only with this header (and an exact origin).
	if res.Header.Get("Access-Control-Allow-Credentials") != "true" || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("credentials not allowed for the dashboard's origin: %v", r.Header)
	}
	evil := h.do("GET", "/v1/projects", tok, nil, "Origin", "https://evil.example.net")
	if v := evil.Header.Get("Access-Control-Allow-Origin"); v != "" || evil.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("another origin was allowed: %q", v)
	}
}
