package dispatch_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/apitest"
)

// TestCrashRecoveryWithRealBinary builds bin/vega, queues scans, kills the
// server with SIGKILL while scans are queued and running, restarts it on the
// same data directory and checks that the store opens, every scan reaches a
// terminal state, and no scan ran twice at once (its event log shows one run
// at a time: every scan_started after the first follows a hand-back).
func TestCrashRecoveryWithRealBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin := apitest.VegaBinary(t)
	data := t.TempDir()
	addr := apitest.FreeAddr(t)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "VEGA_DATA_DIR="+data, "VEGA_LISTEN_ADDR="+addr, "VEGA_THREAD_CONCURRENCY=2",
			"VEGA_SCAN_HEARTBEAT_SECONDS=1", "VEGA_SCAN_HEARTBEAT_TTL_SECONDS=5", "VEGA_MAX_ACTIVE_SCANS_PER_USER=50", "VEGA_LOG_LEVEL=warn")
		logf, _ := os.OpenFile(filepath.Join(data, "..", filepath.Base(data)+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
		apitest.WaitOK(t, "http://"+addr+"/v1/healthz", 4*time.Minute)
		return cmd
	}
	srv := start()
	c := &client{t: t, base: "http://" + addr}
	c.login()
	prj := c.json("POST", "/v1/projects", `{"name":"crash"}`, 201)["id"].(string)
	repo := c.upload(prj, bigArchive(t, 4000))
	waitFor(t, "ingest", func() bool {
		return c.json("GET", "/v1/repositories/"+repo, "", 200)["ingest_status"] == "ready"
	})
	var ids []string
	for i := 0; i < 6; i++ {
		ids = append(ids, c.json("POST", "/v1/repositories/"+repo+"/scans", "", 202)["id"].(string))
	}
	waitFor(t, "a running scan", func() bool {
		for _, id := range ids {
			if c.json("GET", "/v1/scans/"+id, "", 200)["status"] == "running" {
				return true
			}
		}
		return false
	})
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = srv.Process.Wait()

	start() // the bolt store must open cleanly after the kill
	c.login()
	deadline := time.Now().Add(3 * time.Minute)
	waitFor(t, "every scan terminal", func() bool {
		if time.Now().After(deadline) {
			t.Fatal("scans did not finish after the restart")
		}
		for _, id := range ids {
			switch c.json("GET", "/v1/scans/"+id, "", 200)["status"] {
			case "completed", "failed", "cancelled":
			default:
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		scan := c.json("GET", "/v1/scans/"+id, "", 200)
		if scan["status"] != "completed" {
			t.Errorf("scan %s ended %v (%v); one crash must not exhaust 2 attempts", id, scan["status"], scan["error"])
		}
		evs := c.events(id)
		runs, open := 0, false
		for i, ev := range evs {
			if ev.Seq != int64(i+1) {
				t.Fatalf("scan %s: seq gap", id)
			}
			switch ev.Kind {
			case "scan_started":
				if open {
					t.Errorf("scan %s: started again without being handed back (two runs at once)", id)
				}
				runs++
				open = true
			case "scan_log":
				if strings.Contains(string(ev.Payload), "queued again") || strings.Contains(string(ev.Payload), "handed back") {
					open = false
				}
			case "scan_completed", "scan_failed", "scan_cancelled":
				if i != len(evs)-1 {
					t.Errorf("scan %s: terminal event %s is not the last", id, ev.Kind)
				}
			}
		}
		if runs > 2 {
			t.Errorf("scan %s started %d times", id, runs)
		}
		// A claim cut short before its first (batched) event was stored
		// counts as an attempt without a scan_started.
		if attempt, _ := scan["attempt"].(float64); runs < 1 || float64(runs) > attempt {
			t.Errorf("scan %s: attempt %v but %d runs", id, scan["attempt"], runs)
		}
	}
}

type event struct {
	Seq     int64           `json:"seq"`
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload"`
}

func bigArchive(t *testing.T, n int) []byte {
	files := map[string]string{}
	for i := 0; i < n; i++ {
		body := strings.Repeat("// token handling; the api key is read from the environment\nfunc f() {}\n", 40)
		if i%500 == 0 {
			body += "AWS_ACCESS_KEY_ID=AKIAQZ7XK2LMN4PB6RT" + string(rune('A'+i/500)) + "\n"
		}
		files[fmt.Sprintf("src/pkg%02d/file%05d.go", i%50, i)] = body
	}
	return apitest.Zip(t, files)
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) login() {
	m := c.json("POST", "/v1/auth/login", `{"email":"debug@example.com","password":"vega-debug-password"}`, 200)
	c.token = m["access_token"].(string)
}

// json sends body (JSON, or nothing when empty) and wants the status want.
func (c *client) json(method, path, body string, want int) map[string]any {
	c.t.Helper()
	var rd any
	if body != "" {
		rd = strings.NewReader(body)
	}
	status, raw := apitest.Call(c.t, c.base, c.token, method, path, rd, nil)
	if status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, raw)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func (c *client) upload(project string, archive []byte) string {
	c.t.Helper()
	var m map[string]any
	_, raw := apitest.Call(c.t, c.base, c.token, "POST", "/v1/projects/"+project+"/repositories", apitest.Upload("big", archive), nil)
	if err := json.Unmarshal(raw, &m); err != nil || m["id"] == nil {
		c.t.Fatalf("upload: %s", raw)
	}
	return m["id"].(string)
}

func (c *client) events(scanID string) []event {
	c.t.Helper()
	var out []event
	after := int64(0)
	for {
		var page struct {
			Items []event `json:"items"`
		}
		if status, raw := apitest.Call(c.t, c.base, c.token, "GET", fmt.Sprintf("/v1/scans/%s/events?after_seq=%d&limit=500", scanID, after), nil, &page); status != 200 {
			c.t.Fatalf("events: %d %s", status, raw)
		}
		out = append(out, page.Items...)
		if len(page.Items) < 500 {
			return out
		}
		after = page.Items[len(page.Items)-1].Seq
	}
}
