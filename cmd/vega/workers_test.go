package main

import (
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/srctree"
)

// externalEnv is the configuration of a multi-process deployment on one
// Postgres database and a shared data directory (local blobs).
func externalEnv(t *testing.T, extra ...string) []string {
	return append([]string{
		"VEGA_PERSISTENCE_BACKEND=postgres",
		"VEGA_DATABASE_URL=" + pgtest.NewDatabase(t),
		"VEGA_AUTH_SECRET=" + strings.Repeat("w", 40),
		"VEGA_SCAN_EXECUTION_MODE=external",
		"VEGA_DATA_DIR=" + t.TempDir(),
		"VEGA_MAX_ACTIVE_SCANS_PER_USER=1000",
		"VEGA_LOG_LEVEL=info",
		"VEGA_SCAN_ENGINES=secrets",
	}, extra...)
}

func migrateDB(t *testing.T, env []string) {
	cmd := exec.Command(apitest.VegaBinary(t), "migrate")
	cmd.Env = append(cmd.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vega migrate: %v\n%s", err, out)
	}
}

func startAPI(t *testing.T, env []string) *client {
	addr := apitest.FreeAddr(t)
	start(t, append(env, "VEGA_LISTEN_ADDR="+addr), "serve")
	apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
	return login(t, "http://"+addr)
}

// TestWorkersRunEachScanExactlyOnce: 4 worker processes, 200 queued scans.
func TestWorkersRunEachScanExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	env := externalEnv(t)
	migrateDB(t, env)
	api := startAPI(t, env)
	repo := api.readyRepository(map[string]string{"app/settings.py": srctree.AWSKeyLine(1)})

	const n = 200
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		var s scanView
		api.call("POST", "/v1/repositories/"+repo+"/scans", map[string]any{}, &s)
		ids = append(ids, s.ID)
	}
	for i := 0; i < 4; i++ {
		start(t, append(env, "VEGA_THREAD_CONCURRENCY=2"), "worker")
	}

	deadline := time.Now().Add(8 * time.Minute)
	for {
		var q struct {
			Counts map[string]int `json:"counts"`
		}
		api.call("GET", "/v1/ops/queue", nil, &q)
		if q.Counts["queued"]+q.Counts["claimed"]+q.Counts["running"] == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scans still active: %v", q.Counts)
		}
		time.Sleep(500 * time.Millisecond)
	}
	byWorker := map[string]int{}
	for _, id := range ids {
		s := api.scan(id)
		kinds := api.eventKinds(id)
		if s.Status != "completed" || s.Attempt != 1 || count(kinds, "scan_started") != 1 || count(kinds, "scan_completed") != 1 {
			t.Fatalf("scan %s: status %s attempt %d events %v", id, s.Status, s.Attempt, kinds)
		}
		byWorker[s.ClaimedBy]++
	}
	if len(byWorker) < 2 {
		t.Fatalf("all scans ran on %d worker(s): %v", len(byWorker), byWorker)
	}
	var workers struct {
		Items []struct{ ID string } `json:"items"`
	}
	api.call("GET", "/v1/ops/workers", nil, &workers)
	if len(workers.Items) < 4 {
		t.Fatalf("workers registered: %d", len(workers.Items))
	}
	t.Logf("200 scans, each once; per worker: %v", byWorker)
}

var workerIDLine = regexp.MustCompile(`msg="worker started".* worker_id=(\S+)`)

// TestKilledWorkersScanIsRecovered: kill -9 of the worker running a scan; the
// other worker takes it over within the heartbeat TTL plus a poll interval.
func TestKilledWorkersScanIsRecovered(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const ttl = 4 * time.Second
	env := externalEnv(t, "VEGA_SCAN_HEARTBEAT_SECONDS=1", "VEGA_SCAN_HEARTBEAT_TTL_SECONDS=4", "VEGA_THREAD_CONCURRENCY=1")
	migrateDB(t, env)
	api := startAPI(t, env)
	repo := api.readyRepository(sourceTree(4000))

	w1 := start(t, env, "worker")
	w2 := start(t, env, "worker")
	workerID := func(p *proc) string {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if m := workerIDLine.FindStringSubmatch(p.output()); m != nil {
				return m[1]
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("worker did not start")
		return ""
	}
	procs := map[string]*proc{workerID(w1): w1, workerID(w2): w2}

	var s scanView
	api.call("POST", "/v1/repositories/"+repo+"/scans", map[string]any{}, &s)
	var victim string
	for deadline := time.Now().Add(60 * time.Second); victim == ""; {
		if cur := api.scan(s.ID); cur.Status == "running" {
			victim = cur.ClaimedBy
		} else if cur.Status == "completed" {
			t.Fatal("the scan finished before it could be interrupted; make the tree bigger")
		}
		if time.Now().After(deadline) {
			t.Fatal("scan never started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	killed := time.Now()
	if err := procs[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	var recoveredAfter time.Duration
	for {
		cur := api.scan(s.ID)
		if cur.Attempt == 2 && cur.ClaimedBy != victim && cur.ClaimedBy != "" {
			recoveredAfter = time.Since(killed)
			break
		}
		if time.Since(killed) > 60*time.Second {
			t.Fatalf("not recovered: %+v", cur)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Recovery runs every TTL/4 and idle workers poll every 2 s.
	if limit := ttl + 2*time.Second + ttl/4 + time.Second; recoveredAfter > limit {
		t.Fatalf("recovered after %s, want within %s", recoveredAfter, limit)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		cur := api.scan(s.ID)
		if cur.Status == "completed" {
			break
		}
		if cur.Status == "failed" || time.Now().After(deadline) {
			t.Fatalf("after recovery: %+v", cur)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var found struct {
		Items []struct{ ID string } `json:"items"`
	}
	api.call("GET", "/v1/scans/"+s.ID+"/findings", nil, &found)
	if len(found.Items) != 1 {
		t.Fatalf("findings after recovery: %d (the planted secret, once)", len(found.Items))
	}
	t.Logf("recovered %s after the kill (TTL %s)", recoveredAfter.Round(time.Millisecond), ttl)
}
