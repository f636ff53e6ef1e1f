package api_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/server/servertest"
)

var pathParam = regexp.MustCompile(`:[A-Za-z_]+`)

// TestEveryRouteAnswersBadInputWithTheEnvelope walks every documented /v1
// route, including those added by later features, and sends the kinds of bad
// input clients send. Nothing may produce a 500, and every error must be the
// documented envelope with the right class of code.
func TestEveryRouteAnswersBadInputWithTheEnvelope(t *testing.T) {
	h := servertest.New(t, nil)
	tok := h.DebugToken()
	ops := h.App.Router.Ops()
	if len(ops) < 15 {
		t.Fatalf("only %d operations registered", len(ops))
	}
	bodies := map[string]string{
		"malformed":  `{"name": `,
		"wrong type": `{"name": 1, "email": 2, "password": 3, "status": 4, "engines": "x", "paths": 5, "git_url": 6, "project_id": 7, "refresh_token": 8, "ids": 9, "summary": 10}`,
		"not object": `"just a string"`,
		"oversized":  `{"name": "` + strings.Repeat("x", 1<<21) + `"}`,
	}
	for _, op := range ops {
		path := pathParam.ReplaceAllString(op.Path, "repo_01J0000000000000000000000X")
		t.Run(op.Method+" "+op.Path, func(t *testing.T) {
			if !op.Public {
				r := h.Do(op.Method, path, "", nil)
				if r.Status != 401 || r.ErrCode(t) != "unauthorized" {
					t.Fatalf("without a token: %d %s", r.Status, r.Body)
				}
				r = h.Do(op.Method, path, "Bearer-garbage", nil)
				if r.Status != 401 {
					t.Fatalf("with a garbage token: %d", r.Status)
				}
			}
			if strings.Contains(op.Path, ":") {
				r := h.Do(op.Method, path, tok, nil)
				if r.Status >= 500 {
					t.Fatalf("unknown id: %d %s", r.Status, r.Body)
				}
				if r.Status >= 400 {
					r.ErrCode(t)
				}
			}
			if op.Request != nil && (op.Method == "POST" || op.Method == "PUT" || op.Method == "PATCH") {
				for name, b := range bodies {
					r := h.Do(op.Method, path, tok, b)
					if r.Status >= 500 || r.Status < 400 {
						t.Fatalf("%s body: %d %s", name, r.Status, truncate(r.Body))
					}
					code := r.ErrCode(t)
					if name == "oversized" && code != "payload_too_large" && code != "not_found" && code != "unauthorized" {
						t.Fatalf("oversized body: %s", code)
					}
				}
			}
		})
	}
	for _, p := range []string{"/v1/nope", "/v1/projects/x/y/z", "/v1/"} {
		r := h.Do("GET", p, tok, nil)
		if r.Status != 404 || r.ErrCode(t) != "not_found" {
			t.Fatalf("%s: %d %s", p, r.Status, r.Body)
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// TestOpenAPICoversEveryRoute fails when a route is registered on the router
// without being in /v1/openapi.json.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	h := servertest.New(t, nil)
	doc := h.Do("GET", "/v1/openapi.json", "", nil).JSON(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	missing := 0
	for _, rt := range h.App.HTTP.GetRoutes(true) {
		if !strings.HasPrefix(rt.Path, "/v1/") || rt.Method == "HEAD" || rt.Method == "OPTIONS" || rt.Path == "/v1/openapi.json" {
			continue
		}
		if strings.Contains(rt.Path, "*") || rt.Path == "/v1" || rt.Path == "/v1/" {
			continue // the catch-all that answers unknown routes with 404
		}
		p := pathParam.ReplaceAllStringFunc(rt.Path, func(s string) string { return "{" + s[1:] + "}" })
		item, ok := paths[p].(map[string]any)
		if !ok || item[strings.ToLower(rt.Method)] == nil {
			t.Errorf("route %s %s is not in the OpenAPI document", rt.Method, rt.Path)
			missing++
		}
	}
	if missing == 0 && len(paths) < 10 {
		t.Fatalf("suspiciously few paths: %d", len(paths))
	}
	if r := h.Do("GET", "/docs", "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "/v1/projects") {
		t.Fatalf("/docs: %d", r.Status)
	}
}
