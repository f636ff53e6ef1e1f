package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/app/webhooks"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/srctree"
)

// hookReceiver is a local webhook endpoint: it answers 503 (Retry-After: 1)
// until up, then 200, and checks every signature.
type hookReceiver struct {
	*httptest.Server
	up     atomic.Bool
	mu     sync.Mutex
	secret string
	hits   []hookHit
}

type hookHit struct {
	event, delivery string
	status          int
	sigErr          error
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		status := http.StatusServiceUnavailable
		if r.up.Load() {
			status = http.StatusOK
		}
		r.mu.Lock()
		r.hits = append(r.hits, hookHit{event: req.Header.Get("Vega-Event"), delivery: req.Header.Get("Vega-Delivery"), status: status,
			sigErr: webhooks.Verify(r.secret, req.Header.Get(webhooks.SignatureHeader), body, time.Now(), 5*time.Minute)})
		r.mu.Unlock()
		if status != http.StatusOK {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// deliveries returns, per delivery ID, the statuses it was answered with.
func (r *hookReceiver) deliveries(t *testing.T) map[string][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]int{}
	for _, h := range r.hits {
		if h.sigErr != nil {
			t.Fatalf("delivery %s (%s) failed verification: %v", h.delivery, h.event, h.sigErr)
		}
		out[h.delivery] = append(out[h.delivery], h.status)
	}
	return out
}

// TestWebhookDeliverySurvivesRestart: a scan's events are queued while the
// receiver is down, `vega serve` is killed, and the restarted process
// delivers them, signed, from the persisted queue: on bbolt (the local
// runtime) and on Postgres (leases claimed with SKIP LOCKED).
func TestWebhookDeliverySurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Run("bolt", func(t *testing.T) { webhookRestart(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		webhookRestart(t, []string{"VEGA_PERSISTENCE_BACKEND=postgres", "VEGA_DATABASE_URL=" + pgtest.NewDatabase(t),
			"VEGA_AUTO_MIGRATE=true", "VEGA_AUTH_SECRET=" + strings.Repeat("h", 40)})
	})
}

func webhookRestart(t *testing.T, extra []string) {
	rcv := newHookReceiver(t)
	env := append([]string{"VEGA_DATA_DIR=" + t.TempDir(), "VEGA_SCAN_ENGINES=secrets", "VEGA_LOG_LEVEL=info",
		"VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS=true"}, extra...)
	addr := apitest.FreeAddr(t)
	first := start(t, append(env, "VEGA_LISTEN_ADDR="+addr), "serve")
	apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
	c := login(t, "http://"+addr)

	repo := c.readyRepository(map[string]string{"config/settings.py": srctree.AWSKeyLine(3), "README.md": "# app\n"})
	var r struct {
		ProjectID string `json:"project_id"`
	}
	c.call("GET", "/v1/repositories/"+repo, nil, &r)
	var hook struct{ ID, Secret string }
	if st := c.call("POST", "/v1/projects/"+r.ProjectID+"/webhooks", map[string]any{"url": rcv.URL + "/vega",
		"events": []string{"scan.completed", "finding.new"}, "min_severity": "low"}, &hook); st != 201 {
		t.Fatalf("create webhook: %d", st)
	}
	rcv.mu.Lock()
	rcv.secret = hook.Secret
	rcv.mu.Unlock()

	var s scanView
	c.call("POST", "/v1/repositories/"+repo+"/scans", map[string]any{}, &s)
	waitFor(t, 60*time.Second, "scan completes", func() bool { return c.scan(s.ID).Status == "completed" })
	// Both events were attempted (and refused) before the kill, and those
	// attempts are in the delivery log: the receiver seeing a request is not
	// yet the store recording its answer.
	waitFor(t, 30*time.Second, "first attempts", func() bool { return len(rcv.deliveries(t)) == 2 })
	waitFor(t, 30*time.Second, "first attempts logged", func() bool {
		var logged struct {
			Items []struct {
				Attempts []struct {
					ResponseCode int `json:"response_code"`
				} `json:"attempts"`
			} `json:"items"`
		}
		c.call("GET", "/v1/webhooks/"+hook.ID+"/deliveries", nil, &logged)
		if len(logged.Items) != 2 {
			return false
		}
		for _, d := range logged.Items {
			if len(d.Attempts) == 0 || d.Attempts[0].ResponseCode != 503 {
				return false
			}
		}
		return true
	})
	first.cmd.Process.Kill()
	first.cmd.Wait()
	for id, statuses := range rcv.deliveries(t) {
		for _, st := range statuses {
			if st == http.StatusOK {
				t.Fatalf("delivery %s succeeded before the restart", id)
			}
		}
	}
	if strings.Contains(first.output(), hook.Secret) {
		t.Fatal("the webhook secret is in the log")
	}

	rcv.up.Store(true)
	addr = apitest.FreeAddr(t)
	second := start(t, append(env, "VEGA_LISTEN_ADDR="+addr), "serve")
	apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
	c = login(t, "http://"+addr)
	// Within the lease of an attempt the kill interrupted, at worst.
	waitFor(t, 90*time.Second, "deliveries after the restart", func() bool {
		ds := rcv.deliveries(t)
		for _, statuses := range ds {
			if statuses[len(statuses)-1] != http.StatusOK {
				return false
			}
		}
		return len(ds) == 2
	})
	rcv.mu.Lock()
	events := map[string]bool{}
	for _, h := range rcv.hits {
		events[h.event] = true
	}
	rcv.mu.Unlock()
	if !events["scan.completed"] || !events["finding.new"] {
		t.Fatalf("events delivered: %v", events)
	}
	var log struct {
		Items []struct {
			Status   string `json:"status"`
			Attempts []struct {
				ResponseCode int   `json:"response_code"`
				DurationMS   int64 `json:"duration_ms"`
			} `json:"attempts"`
		} `json:"items"`
	}
	waitFor(t, 10*time.Second, "delivery log settles", func() bool {
		c.call("GET", "/v1/webhooks/"+hook.ID+"/deliveries", nil, &log)
		return len(log.Items) == 2 && log.Items[0].Status == "succeeded" && log.Items[1].Status == "succeeded"
	})
	for _, d := range log.Items {
		if n := len(d.Attempts); n < 2 || d.Attempts[0].ResponseCode != 503 || d.Attempts[n-1].ResponseCode != 200 {
			t.Fatalf("delivery log %+v", d)
		}
	}
	if strings.Contains(second.output(), hook.Secret) || strings.Contains(second.output(), rcv.URL) {
		t.Fatal("the webhook secret or URL is in the log")
	}
}
