package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/srctree"
)

// Chaos rounds (issue 13; figures in docs/benchmarks.md, "Chaos rounds"):
// start the process, queue a mix of scans, kill -9 it at a random moment of
// their lifecycle, start it again; N rounds (VEGA_CHAOS_ROUNDS, 5 by
// default; `make chaos` runs more). Then let everything finish and check:
//   - every scan is terminal;
//   - no scan ran on two runners at once: each attempt has at most one
//     scan_started, attempts only grow, and exactly one terminal event
//     closes the log;
//   - no finding is duplicated: each repository has exactly its planted
//     secrets, each once, and so has each completed scan;
//   - the store opens cleanly (a clean stop, then `vega users list`);
//   - no temporary directory is left (data/tmp and TMPDIR are empty).
// The seed is logged; VEGA_CHAOS_SEED replays a run.

func chaosRounds(t *testing.T) int {
	if v := os.Getenv("VEGA_CHAOS_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("VEGA_CHAOS_ROUNDS=%q: want a whole number ≥ 1", v)
		}
		return n
	}
	return 5
}

func chaosRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("VEGA_CHAOS_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("VEGA_CHAOS_SEED=%q", v)
		}
	}
	t.Logf("VEGA_CHAOS_SEED=%d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// chaosRepo is a repository with a known number of planted secrets.
type chaosRepo struct {
	id      string
	planted int
}

// chaosRepos uploads three repositories of different sizes, so scans take
// from a moment to a few seconds and a kill lands in every phase.
func chaosRepos(c *client) []chaosRepo {
	var out []chaosRepo
	for i, size := range []struct{ files, planted int }{{2, 1}, {300, 2}, {2500, 3}} {
		tree := sourceTree(size.files)
		delete(tree, "config/settings.py")
		for k := 0; k < size.planted; k++ {
			tree[fmt.Sprintf("config/secret%d.py", k)] = srctree.AWSKeyLine(100*i + k)
		}
		out = append(out, chaosRepo{id: c.readyRepository(tree), planted: size.planted})
	}
	return out
}

// chaosLog counts what the rounds did, for the log and docs/benchmarks.md.
type chaosLog struct {
	rounds, scans, cancels int
	atKill                 map[string]int // scan statuses the moment before each kill
}

// queueMix creates 2–4 scans on random repositories and cancels one of
// them now and then, right away or a little later.
func (l *chaosLog) queueMix(c *client, rng *rand.Rand, repos []chaosRepo, scans map[string]chaosRepo) []string {
	var ids []string
	for range 2 + rng.IntN(3) {
		r := repos[rng.IntN(len(repos))]
		var s scanView
		c.call("POST", "/v1/repositories/"+r.id+"/scans", map[string]any{}, &s)
		scans[s.ID] = r
		ids = append(ids, s.ID)
		l.scans++
	}
	if rng.IntN(3) == 0 {
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		status, _ := apiCall(c, "POST", "/v1/scans/"+ids[rng.IntN(len(ids))]+"/cancel")
		if status < 300 {
			l.cancels++
		}
	}
	return ids
}

// apiCall is a call whose failure is part of the test (a cancel of a scan
// that just finished answers 409).
func apiCall(c *client, method, path string) (int, string) {
	status, raw := apitest.Call(c.t, c.base, c.token, method, path, nil, nil)
	return status, string(raw)
}

// killAtRandom kills p with SIGKILL at a random moment of the round's scans:
// it draws a phase (queued, running, or just finished), waits until one of
// ids is there (5 s at most, the backlog of earlier rounds may hold them
// back), adds a random delay and kills. The statuses just before the kill
// are counted, to show which moments the rounds hit.
func (l *chaosLog) killAtRandom(t *testing.T, c *client, rng *rand.Rand, p *proc, ids []string) {
	phase := []string{"queued", "running", "running", "completed"}[rng.IntN(4)]
	jitter := map[string]int{"queued": 300, "running": 1500, "completed": 50}[phase]
	for deadline := time.Now().Add(5 * time.Second); phase != "queued" && time.Now().Before(deadline); {
		reached := false
		for _, id := range ids {
			reached = reached || c.scan(id).Status == phase
		}
		if reached {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Duration(rng.IntN(jitter)) * time.Millisecond)
	for _, id := range ids {
		l.atKill[c.scan(id).Status]++
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	l.rounds++
}

func (l *chaosLog) String() string {
	var phases []string
	for k, v := range l.atKill {
		phases = append(phases, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(phases)
	return fmt.Sprintf("%d rounds, %d scans (%d cancel requests); scans at the kills: %s",
		l.rounds, l.scans, l.cancels, strings.Join(phases, ", "))
}

// waitAllTerminal waits until no scan of ids is queued, claimed or running.
func waitAllTerminal(t *testing.T, c *client, ids map[string]chaosRepo, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		open := 0
		for id := range ids {
			switch c.scan(id).Status {
			case "completed", "failed", "cancelled":
			default:
				open++
			}
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d scans still not terminal after %s", open, within)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

type chaosEvent struct {
	Seq     int            `json:"seq"`
	Kind    string         `json:"kind"`
	Payload map[string]any `json:"payload"`
}

func (c *client) events(scanID string) []chaosEvent {
	var out []chaosEvent
	after := 0
	for {
		var page struct {
			Items []chaosEvent `json:"items"`
		}
		c.call("GET", fmt.Sprintf("/v1/scans/%s/events?after_seq=%d&limit=500", scanID, after), nil, &page)
		if len(page.Items) == 0 {
			return out
		}
		out = append(out, page.Items...)
		after = page.Items[len(page.Items)-1].Seq
	}
}

type findingKey struct {
	path string
	line int
	rule string
}

// findingKeys lists a repository's or a scan's findings (path "/v1/…/findings").
func (c *client) findingKeys(path string) []findingKey {
	var out []findingKey
	cursor := ""
	for {
		var page struct {
			Items []struct {
				FilePath  string `json:"file_path"`
				StartLine int    `json:"start_line"`
				RuleID    string `json:"rule_id"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		c.call("GET", path+"?limit=500&cursor="+cursor, nil, &page)
		for _, f := range page.Items {
			out = append(out, findingKey{f.FilePath, f.StartLine, f.RuleID})
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return out
		}
		cursor = *page.NextCursor
	}
}

// checkChaosInvariants is the list at the top of this file, but the store
// and temporary-directory checks, which need the processes stopped.
func checkChaosInvariants(t *testing.T, c *client, scans map[string]chaosRepo) map[string]int {
	t.Helper()
	outcomes := map[string]int{}
	for id, repo := range scans {
		s := c.scan(id)
		var e struct {
			Error *struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		c.call("GET", "/v1/scans/"+id, nil, &e)
		if e.Error != nil {
			outcomes[s.Status+" ("+e.Error.Code+")"]++
		} else {
			outcomes[s.Status]++
		}
		evs := c.events(id)
		lastAttempt, terminal := 0, 0
		for i, e := range evs {
			switch e.Kind {
			case "scan_started":
				a := int(e.Payload["attempt"].(float64))
				if a <= lastAttempt {
					t.Errorf("scan %s: scan_started of attempt %d after attempt %d: two runs of one attempt", id, a, lastAttempt)
				}
				lastAttempt = a
			case "scan_completed", "scan_failed", "scan_cancelled":
				terminal++
				if i != len(evs)-1 {
					t.Errorf("scan %s: %s is not the last event (%d of %d)", id, e.Kind, i+1, len(evs))
				}
			}
		}
		if terminal != 1 || lastAttempt > s.Attempt {
			t.Errorf("scan %s (%s, attempt %d): %d terminal events, last scan_started of attempt %d", id, s.Status, s.Attempt, terminal, lastAttempt)
		}
		if s.Status == "completed" {
			if keys := c.findingKeys("/v1/scans/" + id + "/findings"); !uniqueKeys(keys) || len(keys) != repo.planted {
				t.Errorf("completed scan %s reports %d findings (%v), want its repository's %d planted secrets once each", id, len(keys), keys, repo.planted)
			}
		}
	}
	seen := map[string]bool{}
	for _, repo := range scans {
		if seen[repo.id] {
			continue
		}
		seen[repo.id] = true
		keys := c.findingKeys("/v1/repositories/" + repo.id + "/findings")
		if !uniqueKeys(keys) || len(keys) > repo.planted {
			t.Errorf("repository %s has %d findings (%v), want at most its %d planted secrets, each once", repo.id, len(keys), keys, repo.planted)
		}
	}
	return outcomes
}

func uniqueKeys(keys []findingKey) bool {
	seen := map[findingKey]bool{}
	for _, k := range keys {
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// assertNoTempLeft: nothing under data/tmp (every process's proc-* removed)
// nor in the processes' TMPDIR.
func assertNoTempLeft(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("temporary files left in %s: %v", d, names)
		}
	}
}

// assertStoreOpens runs `vega users list` on the stopped store: it opens
// (bolt: the file, its freelist and buckets; Postgres: the schema) and reads.
func assertStoreOpens(t *testing.T, env []string) {
	t.Helper()
	cmd := exec.Command(apitest.VegaBinary(t), "users", "list")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "debug@example.com") {
		t.Fatalf("vega users list after the rounds: %v\n%s", err, out)
	}
}

func stopCleanly(t *testing.T, p *proc) {
	t.Helper()
	if took := sigterm(t, p); took > shutdownBudget {
		t.Errorf("clean stop took %s", took)
	}
}

// TestChaosServe: `vega serve` on bolt, thread mode.
func TestChaosServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	rounds, rng := chaosRounds(t), chaosRand(t)
	dataDir, tmp := t.TempDir(), t.TempDir()
	addr := apitest.FreeAddr(t)
	env := []string{"VEGA_DATA_DIR=" + dataDir, "VEGA_LISTEN_ADDR=" + addr, "VEGA_SCAN_ENGINES=secrets",
		"VEGA_MAX_ACTIVE_SCANS_PER_USER=1000", "VEGA_THREAD_CONCURRENCY=2", "TMPDIR=" + tmp}
	serve := func() (*proc, *client) {
		p := start(t, env, "serve")
		apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
		return p, login(t, "http://"+addr)
	}
	p, c := serve()
	repos := chaosRepos(c)
	scans := map[string]chaosRepo{}
	l := &chaosLog{atKill: map[string]int{}}
	began := time.Now()
	for round := range rounds {
		if round > 0 {
			p, c = serve()
		}
		ids := l.queueMix(c, rng, repos, scans)
		l.killAtRandom(t, c, rng, p, ids)
	}
	p, c = serve()
	waitAllTerminal(t, c, scans, 3*time.Minute)
	outcomes := checkChaosInvariants(t, c, scans)
	stopCleanly(t, p)
	assertStoreOpens(t, env)
	assertNoTempLeft(t, filepath.Join(dataDir, "tmp"), tmp)
	t.Logf("vega serve (bolt): %s; outcomes %v; %s", l, outcomes, time.Since(began).Round(time.Second))
}

// TestChaosWorker: two `vega worker` processes on Postgres behind one
// `vega serve`; each round starts workers up to two and kills one at random.
func TestChaosWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	rounds, rng := chaosRounds(t), chaosRand(t)
	tmp := t.TempDir()
	env := append(externalEnv(t, "VEGA_SCAN_HEARTBEAT_SECONDS=1", "VEGA_SCAN_HEARTBEAT_TTL_SECONDS=3"), "TMPDIR="+tmp)
	dataDir := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "VEGA_DATA_DIR="); ok {
			dataDir = v
		}
	}
	migrateDB(t, env)
	addr := apitest.FreeAddr(t)
	api := start(t, append(env, "VEGA_LISTEN_ADDR="+addr), "serve")
	apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
	c := login(t, "http://"+addr)
	repos := chaosRepos(c)
	scans := map[string]chaosRepo{}
	l := &chaosLog{atKill: map[string]int{}}
	worker := func() *proc { return start(t, append(env, "VEGA_THREAD_CONCURRENCY=2"), "worker") }
	var workers []*proc
	began := time.Now()
	for range rounds {
		for len(workers) < 2 {
			workers = append(workers, worker())
		}
		ids := l.queueMix(c, rng, repos, scans)
		i := rng.IntN(len(workers))
		l.killAtRandom(t, c, rng, workers[i], ids)
		workers = append(workers[:i], workers[i+1:]...)
	}
	workers = append(workers, worker()) // sweeps the dead workers' temporary files
	waitAllTerminal(t, c, scans, 3*time.Minute)
	outcomes := checkChaosInvariants(t, c, scans)
	for _, w := range workers {
		stopCleanly(t, w)
	}
	stopCleanly(t, api)
	assertStoreOpens(t, env)
	assertNoTempLeft(t, filepath.Join(dataDir, "tmp"), tmp)
	t.Logf("vega worker (Postgres): %s; outcomes %v; %s", l, outcomes, time.Since(began).Round(time.Second))
}
