package main

import (
	"bufio"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/modelserver"
)

// Safe shutdown (README, "Stopping"): SIGTERM to `vega serve` or
// `vega worker` while scans run. The process exits within 10 s, the scans it
// ran are queued again with their attempt not counted, open event streams
// get a final "reconnect" event, and after the restart the scans finish
// without waiting for the heartbeat TTL (120 s here, the default).

const shutdownBudget = 10 * time.Second

// gatedModel is a scripted provider for the codex engine whose answers wait
// until open is called: codex scans stay running until then.
type gatedModel struct {
	*modelserver.Server
	gate chan struct{}
	once sync.Once
}

func newGatedModel(t *testing.T) *gatedModel {
	g := &gatedModel{gate: make(chan struct{})}
	g.Server = modelserver.New(func(req modelserver.Request) modelserver.Answer {
		<-g.gate
		return sqlInjectionAnswers(req)
	})
	t.Cleanup(g.Server.Close)
	t.Cleanup(g.open) // runs first: no handler stays blocked
	return g
}

func (g *gatedModel) open() { g.once.Do(func() { close(g.gate) }) }

// codexEnv runs scans with the codex engine against the gated provider.
func codexEnv(t *testing.T, g *gatedModel) []string {
	bin := os.Getenv("VEGA_TEST_CODEX_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("VEGA_TEST_CODEX_BIN is not set")
		}
		t.Skip("VEGA_TEST_CODEX_BIN is not set")
	}
	return []string{"VEGA_CODEX_BIN=" + bin, "VEGA_CODEX_SANDBOX=none", "VEGA_CODEX_MODEL=test-model",
		"VEGA_LLM_PROVIDER_BASE_URL=" + g.BaseURL(), "VEGA_LLM_PROVIDER_API_KEY=sk-provider-key-for-shutdown-tests",
		"VEGA_CODEX_CALL_TIMEOUT_SECONDS=120", "VEGA_SCAN_ENGINES=secrets,codex"}
}

var codexTree = map[string]string{
	"app/db.py": "import sqlite3\n\ndef find_user(conn, name):\n    return conn.execute(\"SELECT * FROM users WHERE name = '\" + name + \"'\").fetchall()\n",
}

// sigterm sends SIGTERM and returns how long the process took to exit.
func sigterm(t *testing.T, p *proc) time.Duration {
	t.Helper()
	done := make(chan error, 1)
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		took := time.Since(sent)
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, apitest.Tail(p.output(), 3000))
		}
		return took
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after SIGTERM\n%s", apitest.Tail(p.output(), 3000))
	}
	return 0
}

// waitStatus polls a scan until it has one of statuses.
func (c *client) waitStatus(id string, within time.Duration, statuses ...string) scanView {
	c.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := c.scan(id)
		for _, want := range statuses {
			if s.Status == want {
				return s
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("scan %s is %s after %s, want %v", id, s.Status, within, statuses)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sseFrames follows a scan's event stream and sends every non-empty line.
func (c *client) sseFrames(scanID string) <-chan string {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+"/v1/scans/"+scanID+"/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != 200 {
		c.t.Fatalf("event stream: %d", res.StatusCode)
	}
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if l := sc.Text(); l != "" {
				lines <- l
			}
		}
	}()
	return lines
}

// assertHandedBackAndFinished checks a scan interrupted by one SIGTERM: it
// completed, on attempt 1 (the stopped attempt was not counted), with two
// scan_started and the hand-back's log line between them.
func assertHandedBackAndFinished(t *testing.T, c *client, id string) {
	t.Helper()
	s := c.scan(id)
	kinds := c.eventKinds(id)
	if s.Status != "completed" || s.Attempt != 1 || count(kinds, "scan_started") != 2 || count(kinds, "scan_completed") != 1 {
		t.Fatalf("scan %s: %+v events %v", id, s, kinds)
	}
	var page struct {
		Items []struct {
			Kind    string         `json:"kind"`
			Payload map[string]any `json:"payload"`
		} `json:"items"`
	}
	c.call("GET", "/v1/scans/"+id+"/events?limit=500", nil, &page)
	for _, e := range page.Items {
		if e.Kind == "scan_log" && strings.Contains(e.Payload["message"].(string), "queued again (this attempt does not count)") {
			return
		}
	}
	t.Fatalf("scan %s: no hand-back log line in %v", id, kinds)
}

func TestSIGTERMServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	g := newGatedModel(t)
	addr := apitest.FreeAddr(t)
	env := append(codexEnv(t, g), "VEGA_DATA_DIR="+t.TempDir(), "VEGA_LISTEN_ADDR="+addr, "VEGA_THREAD_CONCURRENCY=2")
	serve := start(t, env, "serve")
	apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
	api := login(t, "http://"+addr)
	repo := api.readyRepository(codexTree)
	ids := startRunningCodexScans(api, repo, 2)
	for len(g.Requests()) == 0 { // codex is waiting on the provider
		time.Sleep(20 * time.Millisecond)
	}
	frames := api.sseFrames(ids[0])

	took := sigterm(t, serve)
	if took > shutdownBudget {
		t.Fatalf("serve exited %s after SIGTERM, want within %s", took, shutdownBudget)
	}
	var got []string
	for l := range frames {
		got = append(got, l)
	}
	if n := len(got); n < 2 || got[n-2] != "event: reconnect" || got[n-1] != `data: {"reason":"server_shutdown"}` {
		t.Fatalf("the stream did not end with a reconnect event: %q", got)
	}
	t.Logf("vega serve: SIGTERM to exit %s with 2 codex scans running", took.Round(time.Millisecond))

	g.open()
	start(t, env, "serve")
	apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
	api = login(t, "http://"+addr)
	for _, id := range ids {
		api.waitStatus(id, 90*time.Second, "completed", "failed", "cancelled")
		assertHandedBackAndFinished(t, api, id)
	}
}

func TestSIGTERMWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	g := newGatedModel(t)
	proxyAddr := apitest.FreeAddr(t)
	env := append(externalEnv(t), codexEnv(t, g)...)
	env = append(env, "VEGA_LLM_PROXY_LISTEN_ADDR="+proxyAddr, "VEGA_LLM_PROXY_URL=http://"+proxyAddr,
		"VEGA_LLM_PROXY_ADMIN_TOKEN="+strings.Repeat("p", 40))
	migrateDB(t, env)
	start(t, env, "llm-proxy")
	apitest.WaitOK(t, "http://"+proxyAddr+"/healthz", 30*time.Second)
	api := startAPI(t, env)
	repo := api.readyRepository(codexTree)
	worker := start(t, append(env, "VEGA_THREAD_CONCURRENCY=2"), "worker")
	ids := startRunningCodexScans(api, repo, 2)
	for len(g.Requests()) == 0 {
		time.Sleep(20 * time.Millisecond)
	}

	took := sigterm(t, worker)
	if took > shutdownBudget {
		t.Fatalf("worker exited %s after SIGTERM, want within %s", took, shutdownBudget)
	}
	// Back in the queue the moment the worker is gone: no heartbeat TTL.
	for _, id := range ids {
		if s := api.scan(id); s.Status != "queued" || s.Attempt != 0 || s.ClaimedBy != "" {
			t.Fatalf("after the worker's SIGTERM scan %s is %+v, want queued, attempt 0", id, s)
		}
	}
	t.Logf("vega worker: SIGTERM to exit %s with 2 codex scans running", took.Round(time.Millisecond))

	g.open()
	restarted := time.Now()
	start(t, append(env, "VEGA_THREAD_CONCURRENCY=2"), "worker")
	for _, id := range ids {
		api.waitStatus(id, 90*time.Second, "completed", "failed", "cancelled")
		assertHandedBackAndFinished(t, api, id)
	}
	t.Logf("both scans finished %s after the restart (heartbeat TTL 120 s)", time.Since(restarted).Round(time.Millisecond))
}

// startRunningCodexScans queues n codex scans of repo and waits until every
// one is running.
func startRunningCodexScans(api *client, repo string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		var s scanView
		api.call("POST", "/v1/repositories/"+repo+"/scans", map[string]any{"engines": []string{"codex"}}, &s)
		ids[i] = s.ID
	}
	for _, id := range ids {
		api.waitStatus(id, 60*time.Second, "running")
	}
	return ids
}
