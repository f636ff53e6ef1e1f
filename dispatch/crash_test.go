package dispatch_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	bin := filepath.Join(t.TempDir(), "vega")
	build := exec.Command("go", "build", "-o", bin, "github.com/vegasec/vega/cmd/vega")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := t.TempDir()
	addr := freeAddr(t)
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
		waitFor(t, "healthz", func() bool {
			resp, err := http.Get("http://" + addr + "/v1/healthz")
			if err == nil {
				resp.Body.Close()
			}
			return err == nil && resp.StatusCode == 200
		})
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

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func bigArchive(t *testing.T, n int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < n; i++ {
		w, _ := zw.Create(fmt.Sprintf("src/pkg%02d/file%05d.go", i%50, i))
		body := strings.Repeat("// token handling; the api key is read from the environment\nfunc f() {}\n", 40)
		if i%500 == 0 {
			body += "AWS_ACCESS_KEY_ID=AKIAQZ7XK2LMN4PB6RT" + string(rune('A'+i/500)) + "\n"
		}
		_, _ = io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
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

func (c *client) do(req *http.Request) []byte {
	c.t.Helper()
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	req.Header.Set("X-Status", fmt.Sprint(resp.StatusCode))
	return b
}

func (c *client) json(method, path, body string, want int) map[string]any {
	c.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, c.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	b := c.do(req)
	if got := req.Header.Get("X-Status"); got != fmt.Sprint(want) {
		c.t.Fatalf("%s %s: status %s, want %d: %s", method, path, got, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func (c *client) upload(project string, archive []byte) string {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("name", "big")
	fw, _ := mw.CreateFormFile("archive", "big.zip")
	_, _ = fw.Write(archive)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.base+"/v1/projects/"+project+"/repositories", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	b := c.do(req)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m["id"] == nil {
		c.t.Fatalf("upload: %s", b)
	}
	return m["id"].(string)
}

func (c *client) events(scanID string) []event {
	var out []event
	after := int64(0)
	for {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/scans/%s/events?after_seq=%d&limit=500", c.base, scanID, after), nil)
		var page struct {
			Items []event `json:"items"`
		}
		if err := json.Unmarshal(c.do(req), &page); err != nil {
			c.t.Fatal(err)
		}
		out = append(out, page.Items...)
		if len(page.Items) < 500 {
			return out
		}
		after = page.Items[len(page.Items)-1].Seq
	}
}
