package api_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/server/servertest"
	"github.com/vegasec/vega/store"
)

// cspDirectives splits a Content-Security-Policy into directive → value.
func cspDirectives(policy string) map[string]string {
	out := map[string]string{}
	for _, d := range strings.Split(policy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		if name != "" {
			out[name] = value
		}
	}
	return out
}

// checkBrowserDefences: a response no browser may sniff, frame, run script
// from or leak a referrer of. Where script-src is absent, default-src governs.
func checkBrowserDefences(t *testing.T, what string, r servertest.Response, hsts bool) {
	t.Helper()
	if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: nosniff %q, referrer %q", what, r.Header.Get("X-Content-Type-Options"), r.Header.Get("Referrer-Policy"))
	}
	csp := cspDirectives(r.Header.Get("Content-Security-Policy"))
	script, ok := csp["script-src"]
	if !ok {
		script = csp["default-src"]
	}
	if script != "'self'" && script != "'none'" || csp["frame-ancestors"] != "'none'" {
		t.Errorf("%s: CSP %q", what, r.Header.Get("Content-Security-Policy"))
	}
	if got := r.Header.Get("Strict-Transport-Security"); (got != "") != hsts || hsts && !strings.Contains(got, "max-age=31536000") {
		t.Errorf("%s: Strict-Transport-Security %q, want one: %v", what, got, hsts)
	}
}

// TestBrowserDefencesOnEveryKindOfResponse: the dashboard page, API JSON, an
// error, /docs and every download carry the defences; HSTS only when the
// public URL is https. Downloads are attachments with a harmless file name,
// even when the repository's name is markup.
func TestBrowserDefencesOnEveryKindOfResponse(t *testing.T) {
	w := newWorld(t)
	_, err := w.h.Env.Store.UpdateRepository(context.Background(), store.System(), w.ids["repositories"], func(r *store.Repository) error {
		r.Name = `"><img src=x onerror=alert(1)>; filename=evil.html`
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	scan := "/v1/scans/" + w.ids["scans"]
	downloads := map[string]string{
		"artifact":          scan + "/artifacts/report.json",
		"debug bundle":      scan + "/artifacts/debug-bundle.zip",
		"scan export":       scan + "/findings/export?format=csv",
		"repository export": "/v1/repositories/" + w.ids["repositories"] + "/findings/export?format=json",
	}
	safeName := regexp.MustCompile(`^attachment; filename="[A-Za-z0-9_-][A-Za-z0-9._-]*"$`)
	for what, path := range downloads {
		r := w.h.Do("GET", path, w.ownerKey, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", what, r.Status, truncate(r.Body))
		}
		checkBrowserDefences(t, what, r, false)
		if cd := r.Header.Get("Content-Disposition"); !safeName.MatchString(cd) {
			t.Errorf("%s: Content-Disposition %q", what, cd)
		}
	}
	for what, path := range map[string]string{"API JSON": scan, "API error": "/v1/scans/scan_nope", "file": "/v1/repositories/" + w.ids["repositories"] + "/file?path=main.go"} {
		checkBrowserDefences(t, what, w.h.Do("GET", path, w.ownerKey, nil), false)
	}
	checkBrowserDefences(t, "/docs", w.h.Do("GET", "/docs", "", nil), false)
	checkBrowserDefences(t, "dashboard", w.h.Do("GET", "/projects", "", nil), false)

	https := servertest.New(t, map[string]string{"VEGA_PUBLIC_URL": "https://vega.example.com"})
	for _, path := range []string{"/", "/projects/prj_x", "/v1/healthz", "/v1/projects", "/docs", "/v1/openapi.json"} {
		checkBrowserDefences(t, "https "+path, https.Do("GET", path, "", nil), true)
	}
}
