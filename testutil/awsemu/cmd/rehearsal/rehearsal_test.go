package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/srctree"
)

// The test binary doubles as the command: with this variable set it runs
// main, so the test runs the rehearsal as its own process without a second
// build of the emulator.
const asMain = "VEGA_REHEARSAL_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRehearsal runs the rehearsal as a developer does, signs in with what it
// prints, scans a planted AWS key through SQS and an ECS task, then sends
// SIGINT and checks that every process it started is gone.
func TestRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dbURL := pgtest.NewDatabase(t) // under CI=true a missing Postgres fails
	tmp := t.TempDir()
	vega := apitest.VegaBinary(t)
	addr := apitest.FreeAddr(t)
	cmd := exec.Command(os.Args[0], "-vega", vega, "-listen", addr, "-workers", "2", "-dir", filepath.Join(tmp, "work"))
	cmd.Env = []string{asMain + "=1", "PATH=" + os.Getenv("PATH"), "HOME=" + tmp, "VEGA_DATABASE_URL=" + dbURL}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &apitest.SyncBuffer{}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			_, _ = io.WriteString(log, sc.Text()+"\n")
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("rehearsal output:\n%s", apitest.Tail(log.String(), 6000))
		}
	})

	waitLine(t, log, exited, 75*time.Second, "rehearsal ready")
	m := regexp.MustCompile(`sign in:\s+(\S+) / (\S+)`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatal("no sign-in line")
	}
	// Each role took only its secrets from the one secret: the provider
	// key reached llm-proxy and nothing else (docs/deploy-aws.md).
	took := secretReads(t, log.String())
	for who, want := range map[string]string{"llm-proxy": "VEGA_DATABASE_URL,VEGA_LLM_PROXY_ADMIN_TOKEN,VEGA_LLM_PROVIDER_API_KEY",
		"serve": "VEGA_DATABASE_URL,VEGA_AUTH_SECRET,VEGA_LLM_PROXY_ADMIN_TOKEN", "worker-1": "VEGA_DATABASE_URL,VEGA_LLM_PROXY_ADMIN_TOKEN",
		"worker-2": "VEGA_DATABASE_URL,VEGA_LLM_PROXY_ADMIN_TOKEN"} {
		if took[who] != want {
			t.Errorf("%s took %q from the secret, want %q", who, took[who], want)
		}
	}
	base := "http://" + addr
	if res, err := http.Get(base + "/"); err != nil || res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("dashboard: %v %v", res, err)
	}

	c := &api{t: t, base: base}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.call("POST", "/v1/auth/login", map[string]string{"email": m[1], "password": m[2]}, &tok)
	c.token = tok.AccessToken
	repo := apitest.ReadyRepository(t, base, c.token, "rehearsal", map[string]string{"config/settings.py": srctree.AWSKeyLine(3), "app/main.py": "print(1)\n"})
	var scan struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	c.call("POST", "/v1/repositories/"+repo+"/scans", map[string]any{"engines": []string{"secrets"}}, &scan)
	deadline := time.Now().Add(60 * time.Second)
	for scan.Status != "completed" {
		if scan.Status == "failed" || scan.Status == "cancelled" || time.Now().After(deadline) {
			t.Fatalf("scan: %+v", scan)
		}
		time.Sleep(200 * time.Millisecond)
		c.call("GET", "/v1/scans/"+scan.ID, nil, &scan)
	}
	var found struct {
		Items []json.RawMessage `json:"items"`
	}
	c.call("GET", "/v1/scans/"+scan.ID+"/findings", nil, &found)
	if len(found.Items) != 1 || !strings.Contains(string(found.Items[0]), "config/settings.py") {
		t.Fatalf("findings: %s", found.Items)
	}
	// The scan ran in a Fargate task: the data plane logged its RunTask.
	if !strings.Contains(log.String(), "for scan "+scan.ID+" started (pid ") {
		t.Fatal("no Fargate task ran the scan")
	}

	// Both workers are registered and alive (the ops view of the dashboard).
	var workers struct {
		Items []struct {
			Stale bool `json:"stale"`
		} `json:"items"`
	}
	c.call("GET", "/v1/ops/workers", nil, &workers)
	if len(workers.Items) != 2 || workers.Items[0].Stale || workers.Items[1].Stale {
		t.Fatalf("ops workers: %+v", workers)
	}
	for who, vars := range secretReads(t, log.String()) {
		if strings.HasPrefix(who, "task ") {
			t.Errorf("runner %s read the secret (%s); ECS injects its database URL only", who, vars)
		}
	}

	pids := map[int]string{}
	for _, l := range strings.Split(log.String(), "\n") {
		if sm := regexp.MustCompile(`(started \S+|RunTask: task \S+) .*\(pid (\d+)\)`).FindStringSubmatch(l); sm != nil {
			pid, _ := strconv.Atoi(sm[2])
			pids[pid] = sm[1]
		}
	}
	if len(pids) < 5 { // llm-proxy, serve, two workers, one task
		t.Fatalf("started processes: %v", pids)
	}

	stopped = true
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("rehearsal exited with %v", err)
		}
	case <-time.After(45 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("rehearsal did not stop within 45s of SIGINT")
	}
	if !strings.Contains(log.String(), "rehearsal  | stopped") {
		t.Fatal("no clean stop logged")
	}
	for pid, what := range pids {
		// Reaped children are gone; an orphan would still answer signal 0.
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) is still running after the rehearsal exited: %v", what, pid, err)
		}
	}
}

// secretReads is, per process, the variables it logged taking from the
// Secrets Manager secret.
func secretReads(t *testing.T, log string) map[string]string {
	took := map[string]string{}
	for _, l := range strings.Split(log, "\n") {
		who, js, ok := strings.Cut(l, " | ")
		if !ok || !strings.Contains(js, "configuration read from Secrets Manager") {
			continue
		}
		var e struct{ Variables []string }
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		took[strings.TrimSpace(who)] = strings.Join(e.Variables, ",")
	}
	return took
}

func waitLine(t *testing.T, l *apitest.SyncBuffer, exited chan error, within time.Duration, want string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(l.String(), want) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("rehearsal exited before %q: %v", want, err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s", want, within)
		}
	}
}

type api struct {
	t           *testing.T
	base, token string
}

func (c *api) call(method, path string, body any, out any) {
	c.t.Helper()
	if status, raw := apitest.Call(c.t, c.base, c.token, method, path, body, out); status >= 300 {
		c.t.Fatalf("%s %s: %d %s", method, path, status, raw)
	}
}
