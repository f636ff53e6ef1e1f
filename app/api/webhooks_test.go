package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/app/server/servertest"
	"github.com/vegasec/vega/app/webhooks"
)

func TestWebhooksAPI(t *testing.T) {
	h := servertest.New(t, map[string]string{"VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS": "true"})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h.App.Start(ctx)
	root := h.DebugToken()
	user := h.NewUser(root, "hooks@example.com")
	other := h.NewUser(root, "other@example.com")
	pid := h.Do("POST", "/v1/projects", user, map[string]string{"name": "Payments"}).JSON(t)["id"].(string)

	var mu sync.Mutex
	var secret string
	var got []error
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, webhooks.Verify(secret, r.Header.Get(webhooks.SignatureHeader), body, time.Now(), 5*time.Minute))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer rcv.Close()

	r := h.Do("POST", "/v1/projects/"+pid+"/webhooks", user, map[string]any{"url": rcv.URL + "/in", "events": []string{"scan.completed", "finding.new"}, "min_severity": "medium"})
	if r.Status != 201 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	created := r.JSON(t)
	id := created["id"].(string)
	mu.Lock()
	secret = created["secret"].(string)
	mu.Unlock()
	if !strings.HasPrefix(secret, "whsec_") || created["min_severity"] != "medium" || created["format"] != "json" {
		t.Fatalf("created: %s", r.Body)
	}
	// The secret is never shown again.
	for _, path := range []string{"/v1/webhooks/" + id, "/v1/projects/" + pid + "/webhooks"} {
		r := h.Do("GET", path, user, nil)
		if r.Status != 200 || strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), "secret") {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	if items := h.Do("GET", "/v1/projects/"+pid+"/webhooks", user, nil).JSON(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("list: %v", items)
	}
	// Another user sees none of it; root manages it.
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/webhooks/" + id}, {"DELETE", "/v1/webhooks/" + id}, {"POST", "/v1/webhooks/" + id + "/test"},
		{"GET", "/v1/webhooks/" + id + "/deliveries"}, {"GET", "/v1/projects/" + pid + "/webhooks"},
	} {
		if r := h.Do(c.method, c.path, other, nil); r.Status != 404 || r.ErrCode(t) != "not_found" {
			t.Fatalf("%s %s by another user: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if r := h.Do("POST", "/v1/projects/"+pid+"/webhooks", other, map[string]any{"url": rcv.URL, "events": []string{"scan.failed"}}); r.Status != 404 {
		t.Fatalf("create on another user's project: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/v1/webhooks/"+id, root, nil); r.Status != 200 {
		t.Fatalf("root reads the webhook: %d %s", r.Status, r.Body)
	}

	for name, body := range map[string]any{
		"no events":     map[string]any{"url": rcv.URL, "events": []string{}},
		"unknown event": map[string]any{"url": rcv.URL, "events": []string{"scan.started"}},
		"bad severity":  map[string]any{"url": rcv.URL, "events": []string{"finding.new"}, "min_severity": "urgent"},
		"bad format":    map[string]any{"url": rcv.URL, "events": []string{"scan.failed"}, "format": "xml"},
		"credentials":   map[string]any{"url": "https://u:p@hooks.example.com/x", "events": []string{"scan.failed"}},
		"not a URL":     map[string]any{"url": "hooks", "events": []string{"scan.failed"}},
		"other scheme":  map[string]any{"url": "ftp://hooks.example.com/x", "events": []string{"scan.failed"}},
		"missing url":   map[string]any{"events": []string{"scan.failed"}},
	} {
		if r := h.Do("POST", "/v1/projects/"+pid+"/webhooks", user, body); r.Status != 400 {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if r := h.Do("POST", "/v1/projects/"+pid+"/webhooks", user, map[string]any{"url": "https://169.254.169.254/x", "events": []string{"scan.failed"}}); r.Status != 422 || r.ErrCode(t) != "host_not_allowed" {
		t.Fatalf("metadata address with the opt-in: %d %s", r.Status, r.Body)
	}

	// Send test: delivered in the background, signed, logged.
	r = h.Do("POST", "/v1/webhooks/"+id+"/test", user, nil)
	if r.Status != 202 || r.JSON(t)["event"] != "webhook.test" {
		t.Fatalf("test: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	var log []any
	for {
		log = h.Do("GET", "/v1/webhooks/"+id+"/deliveries", user, nil).JSON(t)["items"].([]any)
		if len(log) == 1 && log[0].(map[string]any)["status"] == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("test delivery not delivered: %v", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	attempts := log[0].(map[string]any)["attempts"].([]any)
	if a := attempts[0].(map[string]any); len(attempts) != 1 || a["response_code"] != float64(200) || a["duration_ms"] == nil {
		t.Fatalf("attempts: %v", attempts)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != nil {
		t.Fatalf("receiver: %v", got)
	}
	mu.Unlock()

	// Maintenance keeps a recent delivery (retention is 30 days).
	if r := h.Do("POST", "/v1/ops/cleanup", root, nil); r.Status != 200 || r.JSON(t)["old_webhook_deliveries"] != float64(0) {
		t.Fatalf("cleanup: %d %s", r.Status, r.Body)
	}
	if log := h.Do("GET", "/v1/webhooks/"+id+"/deliveries", user, nil).JSON(t)["items"].([]any); len(log) != 1 {
		t.Fatalf("a recent delivery was cleaned up: %v", log)
	}

	if r := h.Do("DELETE", "/v1/webhooks/"+id, user, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := h.Do("GET", "/v1/webhooks/"+id+"/deliveries", user, nil); r.Status != 404 {
		t.Fatalf("deliveries of a deleted webhook: %d", r.Status)
	}
}

func TestWebhookLoopbackRefusedWithoutOptIn(t *testing.T) {
	h := servertest.New(t, nil)
	me := h.DebugToken()
	pid := h.Do("POST", "/v1/projects", me, map[string]string{"name": "P"}).JSON(t)["id"].(string)
	for _, u := range []string{"https://127.0.0.1:8443/hook", "https://localhost/hook", "https://[::1]/hook", "https://192.168.1.10/hook"} {
		r := h.Do("POST", "/v1/projects/"+pid+"/webhooks", me, map[string]any{"url": u, "events": []string{"scan.completed"}})
		if r.Status != 422 || r.ErrCode(t) != "host_not_allowed" {
			t.Fatalf("%s: %d %s", u, r.Status, r.Body)
		}
	}
	// Plain http is only for local receivers, which need the opt-in.
	if r := h.Do("POST", "/v1/projects/"+pid+"/webhooks", me, map[string]any{"url": "http://hooks.example.com/x", "events": []string{"scan.completed"}}); r.Status != 400 {
		t.Fatalf("http without the opt-in: %d %s", r.Status, r.Body)
	}
}
