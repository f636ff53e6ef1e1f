package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/server"
)

// TestDashboardAssetsCompressed drives the production router with an
// embedded-like dashboard: brotli and gzip by Accept-Encoding and q-values,
// identity otherwise, cache headers unchanged, HEAD and Range sane.
func TestDashboardAssetsCompressed(t *testing.T) {
	js := []byte(strings.Repeat("export const finding = {severity: 'critical', path: 'src/main.go'};\n", 400))
	index := []byte("<!doctype html><html><head><script type=module src=/assets/index-abc.js></script></head><body>" + strings.Repeat("<div></div>", 100) + "</body></html>")
	cfg, err := config.Load(context.Background(), config.Source{Role: config.RoleAPI,
		Env: func(k string) (string, bool) {
			if k == "VEGA_DATA_DIR" {
				return t.TempDir(), true
			}
			return "", false
		}, LocalSecret: server.LocalSecret})
	if err != nil {
		t.Fatal(err)
	}
	app := api.New(api.Deps{Config: cfg, Logger: slog.New(slog.DiscardHandler), UI: fstest.MapFS{
		"index.html":          {Data: index},
		"assets/index-abc.js": {Data: js},
		"favicon.svg":         {Data: []byte("<svg/>")},
	}})
	get := func(method, path string, hdr ...string) (int, map[string]string, []byte) {
		t.Helper()
		req := httptest.NewRequest(method, path, nil)
		req.Host = cfg.ListenAddr
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		h := map[string]string{}
		for _, k := range []string{"Content-Encoding", "Vary", "Cache-Control", "Content-Type", "Content-Length", "Content-Security-Policy"} {
			h[k] = res.Header.Get(k)
		}
		return res.StatusCode, h, b
	}
	decode := func(enc string, b []byte) []byte {
		t.Helper()
		var r io.Reader
		switch enc {
		case "br":
			r = brotli.NewReader(bytes.NewReader(b))
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			r = zr
		default:
			return b
		}
		out, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	for _, c := range []struct {
		accept, want string
	}{
		{"br", "br"},
		{"gzip", "gzip"},
		{"", ""},
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0.5, gzip;q=0.9", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"gzip;q=0, br;q=0", ""},
		{"*", "br"},
		{"identity;q=1, gzip;q=0.5", ""},
		{"deflate", ""},
		{"GZIP;Q=1", "gzip"},
		{"br;q=abc", ""},
	} {
		for _, path := range []string{"/assets/index-abc.js", "/", "/repositories/x"} {
			status, h, body := get("GET", path, "Accept-Encoding", c.accept)
			if status != 200 || h["Content-Encoding"] != c.want || !strings.Contains(h["Vary"], "Accept-Encoding") {
				t.Fatalf("%s with %q: %d %v, want encoding %q", path, c.accept, status, h, c.want)
			}
			want := index
			if strings.HasPrefix(path, "/assets/") {
				want = js
				if h["Cache-Control"] != "public, max-age=31536000, immutable" || !strings.HasPrefix(h["Content-Type"], "text/javascript") {
					t.Fatalf("asset headers: %v", h)
				}
			} else if h["Cache-Control"] != "no-cache" || h["Content-Security-Policy"] == "" {
				t.Fatalf("index headers: %v", h)
			}
			if got := decode(h["Content-Encoding"], body); !bytes.Equal(got, want) {
				t.Fatalf("%s with %q: body does not decode to the original (%d bytes)", path, c.accept, len(got))
			}
			if c.want != "" && len(body) >= len(want) {
				t.Fatalf("%s: %s body %d bytes, original %d", path, c.want, len(body), len(want))
			}
		}
	}

	// A tiny file is not worth encoding; config.json keeps no-store.
	if _, h, b := get("GET", "/favicon.svg", "Accept-Encoding", "br"); h["Content-Encoding"] != "" || string(b) != "<svg/>" || h["Cache-Control"] != "no-cache" {
		t.Fatalf("small file: %v %q", h, b)
	}
	if _, h, _ := get("GET", "/config.json", "Accept-Encoding", "br"); h["Cache-Control"] != "no-store" {
		t.Fatalf("config.json: %v", h)
	}
	// HEAD: same headers as GET, no body.
	if status, h, b := get("HEAD", "/assets/index-abc.js", "Accept-Encoding", "br"); status != 200 || h["Content-Encoding"] != "br" || len(b) != 0 {
		t.Fatalf("HEAD: %d %v %d bytes", status, h, len(b))
	}
	// Range: the whole identity body, never a slice of a compressed one.
	if status, h, b := get("GET", "/assets/index-abc.js", "Accept-Encoding", "br", "Range", "bytes=0-9"); status != 200 || h["Content-Encoding"] != "" || !bytes.Equal(b, js) {
		t.Fatalf("Range: %d %v %d bytes", status, h, len(b))
	}
}
