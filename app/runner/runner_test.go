package runner_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/runner"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// awsKey is random (fixed seed) so gitleaks' entropy checks accept it and no
// allowlist of documentation examples hides it.
func awsKey(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte("AKIA")
	for i := 0; i < 16; i++ {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	return string(b)
}

type harness struct {
	t      *testing.T
	env    *scantest.Env
	user   *store.User
	repo   *store.Repository
	svc    *scans.Service
	run    *runner.Runner
	tmp    string
	broker *events.Broker
}

func newHarness(t *testing.T, files map[string]string, extra ...engine.Engine) *harness {
	return newHarnessOn(t, scantest.New, files, extra...)
}

func newHarnessOn(t *testing.T, open func(testing.TB) *scantest.Env, files map[string]string, extra ...engine.Engine) *harness {
	t.Helper()
	env := open(t)
	u := env.User(t)
	repo, _ := env.Repo(t, u.ID, files)
	engines := map[string]engine.Engine{secrets.Name: secrets.New()}
	known := []string{secrets.Name}
	for _, e := range extra {
		engines[e.Name()] = e
		known = append(known, e.Name())
	}
	broker := events.NewBroker()
	tmp := t.TempDir()
	svc := scans.New(env.Store, scans.Options{DefaultEngines: []string{secrets.Name}, KnownEngines: known, MaxActivePerUser: 10, Events: broker})
	r, err := runner.New(runner.Config{Store: env.Store, Scans: svc, Blobs: env.Blobs, Unpacker: runner.SnapshotUnpacker(env.Blobs, ingest.DefaultLimits()),
		Engines: engines, Heartbeat: 50 * time.Millisecond, CancelPoll: 10 * time.Millisecond, TempDir: tmp, Events: broker, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, env: env, user: u, repo: repo, svc: svc, run: r, tmp: tmp, broker: broker}
}

// scan creates, claims and runs one scan to the end.
func (h *harness) scan(in scans.CreateInput) *store.Scan {
	h.t.Helper()
	s := h.start(in)
	if err := h.run.Run(context.Background(), s.ID); err != nil {
		h.t.Fatalf("run: %v", err)
	}
	return h.get(s.ID)
}

func (h *harness) start(in scans.CreateInput) *store.Scan {
	h.t.Helper()
	ctx := context.Background()
	s, err := h.svc.Create(ctx, store.OwnedBy(h.user.ID), h.user.ID, h.repo.ID, in)
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := h.svc.Claim(ctx, "wrk_test")
	if err != nil || c.ID != s.ID {
		h.t.Fatalf("claim: %v", err)
	}
	return c
}

func (h *harness) get(id string) *store.Scan      { h.t.Helper(); return h.env.Scan(h.t, id) }
func (h *harness) events(id string) []store.Event { h.t.Helper(); return h.env.Events(h.t, id) }

func (h *harness) findings(f store.FindingFilter) []store.Finding {
	h.t.Helper()
	items, _, err := h.env.Store.ListFindings(context.Background(), store.System(), f, store.Page{Limit: store.MaxLimit})
	if err != nil {
		h.t.Fatal(err)
	}
	return items
}

func (h *harness) artifact(s *store.Scan, name string) []byte {
	h.t.Helper()
	for _, a := range s.Artifacts {
		if a.Name == name {
			obj, err := h.env.Blobs.Open(context.Background(), a.Key)
			if err != nil {
				h.t.Fatal(err)
			}
			defer obj.Close()
			b, _ := io.ReadAll(obj)
			if int64(len(b)) != a.Size {
				h.t.Fatalf("%s: size %d, recorded %d", name, len(b), a.Size)
			}
			return b
		}
	}
	h.t.Fatalf("artifact %s missing: %+v", name, s.Artifacts)
	return nil
}

func (h *harness) tempDirEmpty() {
	h.t.Helper()
	left, _ := os.ReadDir(h.tmp)
	if len(left) != 0 {
		h.t.Fatalf("the runner left %d entries in its temporary directory", len(left))
	}
}

func TestSecretsScanEndToEnd(t *testing.T) {
	scantest.Stores(t, secretsScanEndToEnd)
}

func secretsScanEndToEnd(t *testing.T, open func(testing.TB) *scantest.Env) {
	key := awsKey(1)
	files := map[string]string{
		"config/app.env": "REGION=eu-west-1\nAWS_ACCESS_KEY_ID=" + key + "\n",
		"src/main.go":    "package main\n\nfunc main() {}\n",
	}
	h := newHarnessOn(t, open, files)
	sub, unsub := h.broker.Subscribe("") // a subscription to another scan is never woken
	defer unsub()
	s := h.scan(scans.CreateInput{})
	if s.Status != store.ScanCompleted || s.StopReason != "" || s.FinishedAt == nil {
		t.Fatalf("scan did not complete: %+v", s)
	}
	if s.FindingCounts.Total() != 1 {
		t.Fatalf("want 1 finding, counts %+v", s.FindingCounts)
	}
	fs := h.findings(store.FindingFilter{ScanID: s.ID})
	if len(fs) != 1 {
		t.Fatalf("want 1 finding, got %d", len(fs))
	}
	f := fs[0]
	if f.Engine != secrets.Name || f.FilePath != "config/app.env" || f.StartLine != 2 || f.Status != store.FindingOpen ||
		f.FirstSeenScanID != s.ID || f.LastSeenScanID != s.ID {
		t.Fatalf("unexpected finding %+v", f)
	}
	if strings.Contains(f.Evidence, key) {
		t.Fatal("evidence holds the raw secret")
	}
	select {
	case <-sub:
		t.Fatal("unrelated subscriber woken")
	default:
	}

	evs := h.events(s.ID)
	if evs[0].Kind != store.EventScanStarted || evs[len(evs)-1].Kind != store.EventScanCompleted {
		t.Fatalf("events must start with scan_started and end with scan_completed: %s … %s", evs[0].Kind, evs[len(evs)-1].Kind)
	}
	sawFinding := false
	for i, ev := range evs {
		if ev.Seq != int64(i+1) {
			t.Fatalf("seq gap at %d: %d", i, ev.Seq)
		}
		if strings.Contains(string(ev.Payload), key) {
			t.Fatalf("event %s holds the raw secret", ev.Kind)
		}
		if ev.Kind == store.EventFindingUpdated {
			sawFinding = true
			var p struct {
				ID       string `json:"id"`
				FilePath string `json:"file_path"`
			}
			if err := json.Unmarshal(ev.Payload, &p); err != nil || p.ID != f.ID || p.FilePath != "config/app.env" {
				t.Fatalf("finding_updated payload: %s", ev.Payload)
			}
		}
	}
	if !sawFinding {
		t.Fatal("no finding_updated event")
	}
	var started struct {
		Engines    []string `json:"engines"`
		SnapshotID string   `json:"snapshot_id"`
		FileCount  int      `json:"file_count"`
	}
	if err := json.Unmarshal(evs[0].Payload, &started); err != nil || started.FileCount != 2 || started.SnapshotID != s.SnapshotID || started.Engines[0] != "secrets" {
		t.Fatalf("scan_started payload: %s", evs[0].Payload)
	}

	for _, name := range []string{runner.ArtifactEvents, runner.ArtifactSummary, runner.ArtifactReport, runner.ArtifactSARIF, runner.ArtifactDebug} {
		b := h.artifact(s, name)
		if bytes.Contains(b, []byte(key)) {
			t.Fatalf("artifact %s holds the raw secret", name)
		}
	}
	if n := bytes.Count(h.artifact(s, runner.ArtifactEvents), []byte("\n")); n != len(evs) {
		t.Fatalf("events.jsonl has %d lines, store has %d events", n, len(evs))
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(h.artifact(s, runner.ArtifactSARIF), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs[0].Results) != 1 {
		t.Fatalf("report.sarif: %v %+v", err, sarif)
	}
	stages := map[string]store.StageStatus{}
	for _, st := range s.Stages {
		stages[st.Engine+"/"+st.Stage] = st.Status
	}
	if stages["runner/unpack"] != "succeeded" || stages["runner/artifacts"] != "succeeded" {
		t.Fatalf("stages: %+v", s.Stages)
	}
	h.tempDirEmpty()

	// Second scan without the secret: the finding is fixed by system.
	h.env.Snapshot(t, h.repo, map[string]string{"config/app.env": "REGION=eu-west-1\n", "src/main.go": "package main\n"})
	s2 := h.scan(scans.CreateInput{})
	if s2.Status != store.ScanCompleted || s2.FindingCounts.Total() != 0 {
		t.Fatalf("second scan: %+v", s2)
	}
	got, _ := h.env.Store.GetFinding(context.Background(), store.System(), f.ID)
	if got.Status != store.FindingFixed {
		t.Fatalf("absent finding must become fixed, is %s", got.Status)
	}
	hist, _ := h.env.Store.ListFindingHistory(context.Background(), f.ID)
	last := hist[len(hist)-1]
	if last.Actor != findings.ActorSystem || last.ToStatus != store.FindingFixed || last.FromStatus != store.FindingOpen {
		t.Fatalf("fixed history: %+v", last)
	}

	// The secret comes back (on another line): same finding, reopened, first_seen kept.
	h.env.Snapshot(t, h.repo, map[string]string{"config/app.env": "# moved\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID=" + key + "\n"})
	s3 := h.scan(scans.CreateInput{})
	fs3 := h.findings(store.FindingFilter{ScanID: s3.ID})
	if len(fs3) != 1 || fs3[0].ID != f.ID || fs3[0].Status != store.FindingOpen || fs3[0].FirstSeenScanID != s.ID || fs3[0].LastSeenScanID != s3.ID || fs3[0].StartLine != 3 {
		t.Fatalf("reappearing finding must reopen the same row: %+v", fs3)
	}

	// Dismissed stays dismissed when seen again, and is not marked fixed by a scan of another scope.
	tri := findings.NewService(h.env.Store, nil)
	if _, err := tri.Triage(context.Background(), store.OwnedBy(h.user.ID), h.user.ID, f.ID, findings.Triage{Status: store.FindingDismissed, DismissedReason: store.DismissUsedInTests}); err != nil {
		t.Fatal(err)
	}
	h.scan(scans.CreateInput{})
	got, _ = h.env.Store.GetFinding(context.Background(), store.System(), f.ID)
	if got.Status != store.FindingDismissed {
		t.Fatalf("dismissal must stand, is %s", got.Status)
	}
}

func TestSeverityThresholdAndScope(t *testing.T) {
	key := awsKey(2)
	h := newHarness(t, map[string]string{"a/cfg.env": "AWS_ACCESS_KEY_ID=" + key + "\n", "b/cfg.env": "AWS_ACCESS_KEY_ID=" + awsKey(3) + "\n"})
	s := h.scan(scans.CreateInput{})
	if s.FindingCounts.Total() != 2 {
		t.Fatalf("want 2 findings, %+v", s.FindingCounts)
	}
	// A scan scoped to a/ that no longer sees a/'s secret fixes only a/'s finding.
	h.env.Snapshot(t, h.repo, map[string]string{"a/cfg.env": "x=1\n", "b/cfg.env": "x=1\n"})
	h.scan(scans.CreateInput{Paths: []string{"a"}})
	for _, f := range h.findings(store.FindingFilter{RepositoryID: h.repo.ID}) {
		want := store.FindingOpen
		if f.FilePath == "a/cfg.env" {
			want = store.FindingFixed
		}
		if f.Status != want {
			t.Fatalf("%s: status %s, want %s", f.FilePath, f.Status, want)
		}
	}
	// A threshold above the findings' severity filters them out.
	h.env.Snapshot(t, h.repo, map[string]string{"c/cfg.env": "AWS_ACCESS_KEY_ID=" + awsKey(4) + "\n"})
	if err := h.env.Store.PutThreatProfile(context.Background(), &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: h.repo.ID,
		OwnerUserID: h.user.ID, Status: store.ProfileReady, Content: store.ThreatProfileContent{SeverityThreshold: store.SeverityCritical}}); err != nil {
		t.Fatal(err)
	}
	s = h.scan(scans.CreateInput{})
	fs := h.findings(store.FindingFilter{ScanID: s.ID})
	for _, f := range fs {
		if store.SeverityRank(f.Severity) < store.SeverityRank(store.SeverityCritical) {
			t.Fatalf("finding below the threshold recorded: %+v", f)
		}
	}
}

// plainPassword is what a scripted engine quotes without redacting it.
const plainPassword = "Tr0ub4dor-horse"

// scripted is an engine whose behaviour each test sets: it reports one
// finding, then blocks until cancelled or returns err.
type scripted struct {
	name    string
	err     error
	block   bool
	started chan struct{}
}

func (e *scripted) Name() string { return e.name }
func (e *scripted) Run(ctx context.Context, in engine.Input, emit engine.Emitter) error {
	emit.Finding(engine.Report{Key: "k1", Title: "SQL injection in " + e.name, Severity: "high", Confidence: "medium",
		Category: "injection", CWE: []string{"89"}, FilePath: "src/main.go", StartLine: 3, EndLine: 3,
		Evidence: `db.connect(password="` + plainPassword + `")`}) // an engine that forgot to redact
	emit.Log("info", "read "+in.SourceDir+"/src/main.go") // the private path must not leak
	emit.Log("warn", "quoting DATABASE_URL=postgres://admin:"+plainPassword+"@db/app")
	_ = os.WriteFile(in.ArtifactDir+"/prompt.txt", []byte("prompt"), 0o600)
	if e.started != nil {
		close(e.started)
	}
	if e.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return e.err
}

func TestBudgetExceededKeepsFindings(t *testing.T) {
	eng := &scripted{name: "codex", err: errors.Join(errors.New("429"), engine.ErrBudgetExceeded)}
	h := newHarness(t, map[string]string{"src/main.go": "package main\n"}, eng)
	s := h.scan(scans.CreateInput{Engines: []string{"codex"}})
	if s.Status != store.ScanCompleted || s.StopReason != store.StopBudgetExceeded || s.FindingCounts.High != 1 {
		t.Fatalf("budget stop: %+v", s)
	}
	for _, ev := range h.events(s.ID) {
		if strings.Contains(string(ev.Payload), h.tmp) {
			t.Fatalf("event leaks the runner's directory: %s", ev.Payload)
		}
		if strings.Contains(string(ev.Payload), plainPassword) {
			t.Fatalf("event leaks what an engine quoted: %s", ev.Payload)
		}
	}
	if !strings.Contains(string(h.artifact(s, runner.ArtifactEvents)), "postgres://admin:[redacted]@db/app") {
		t.Error("the engine's log line is not in events.jsonl, redacted")
	}
	if fs := h.findings(store.FindingFilter{ScanID: s.ID}); len(fs) != 1 || fs[0].Evidence != `db.connect(password="[redacted]")` {
		t.Errorf("findings: %+v", fs)
	}
	zr, err := zip.NewReader(bytes.NewReader(h.artifact(s, runner.ArtifactDebug)), int64(len(h.artifact(s, runner.ArtifactDebug))))
	if err != nil {
		t.Fatalf("debug bundle: %v", err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if len(names) != 2 || !names["codex/prompt.txt"] || !names["runner/scan.json"] {
		t.Fatalf("debug bundle holds %v, want the engine's prompt and the runner's record", names)
	}
	h.tempDirEmpty()
}

func TestEngineFailureFailsScan(t *testing.T) {
	eng := &scripted{name: "codex", err: errors.New("codex exited 2")}
	h := newHarness(t, map[string]string{"src/main.go": "package main\n"}, eng)
	s := h.scan(scans.CreateInput{Engines: []string{"secrets", "codex"}})
	if s.Status != store.ScanFailed || s.Error == nil || s.Error.Code != "engine_failed" || s.StopReason != store.StopError {
		t.Fatalf("engine failure: %+v", s)
	}
	failed := false
	for _, st := range s.Stages {
		if st.Engine == "codex" && st.Status == "failed" && strings.Contains(st.Message, "codex exited 2") {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("the failed stage must be recorded: %+v", s.Stages)
	}
	evs := h.events(s.ID)
	if evs[len(evs)-1].Kind != store.EventScanFailed {
		t.Fatalf("last event %s", evs[len(evs)-1].Kind)
	}
	if s.FindingCounts.High != 1 {
		t.Fatalf("partial findings are kept: %+v", s.FindingCounts)
	}
}

// runningCodexScan runs, with ctx, a scan whose only engine (codex) blocks
// until its context ends, and returns once the engine has started; done
// receives what Run returned.
func runningCodexScan(ctx context.Context, t *testing.T) (*harness, *store.Scan, <-chan error) {
	eng := &scripted{name: "codex", block: true, started: make(chan struct{})}
	h := newHarness(t, map[string]string{"src/main.go": "package main\n"}, eng)
	s := h.start(scans.CreateInput{Engines: []string{"codex"}})
	done := make(chan error, 1)
	go func() { done <- h.run.Run(ctx, s.ID) }()
	<-eng.started
	return h, s, done
}

func TestCancelRunningScan(t *testing.T) {
	h, s, done := runningCodexScan(context.Background(), t)
	if _, err := h.svc.Cancel(context.Background(), store.OwnedBy(h.user.ID), h.user.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not stop the run")
	}
	got := h.get(s.ID)
	if got.Status != store.ScanCancelled || got.StopReason != store.StopCancelled || got.FindingCounts.High != 1 {
		t.Fatalf("cancelled scan: %+v", got)
	}
	evs := h.events(s.ID)
	if evs[len(evs)-1].Kind != store.EventScanCancelled {
		t.Fatalf("last event %s", evs[len(evs)-1].Kind)
	}
	// The stopped engine's stage reads cancelled, not failed.
	if !slices.ContainsFunc(got.Stages, func(st store.StageResult) bool { return st.Engine == "codex" && st.Status == store.StageCancelled }) {
		t.Fatalf("stages of a cancelled scan: %+v", got.Stages)
	}
	if e := got.Progress.Engines; len(e) != 1 || e[0].State != store.EngineCancelled {
		t.Fatalf("engine progress of a cancelled scan: %+v", e)
	}
	h.tempDirEmpty()
}

func TestShutdownHandsScanBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	h, s, done := runningCodexScan(ctx, t)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("shutdown returns the context error, got %v", err)
	}
	got := h.get(s.ID)
	if got.Status != store.ScanQueued || got.Attempt != 0 || got.ClaimedBy != "" {
		t.Fatalf("interrupted scan must be re-queued, its attempt not counted: %+v", got)
	}
	// Not claimed any more: a second Run refuses it.
	if err := h.run.Run(context.Background(), s.ID); !errors.Is(err, runner.ErrNotClaimed) {
		t.Fatalf("want ErrNotClaimed, got %v", err)
	}
	h.tempDirEmpty()
}

func TestLostClaimStopsWithoutWriting(t *testing.T) {
	h, s, done := runningCodexScan(context.Background(), t)
	// Recovery (wrongly thinking the runner dead) re-queues it under our feet.
	if _, err := h.svc.RecoverAbandoned(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, runner.ErrLostClaim) {
			t.Fatalf("want ErrLostClaim, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("runner kept running a scan that is no longer its own")
	}
	if got := h.get(s.ID); got.Status != store.ScanQueued {
		t.Fatalf("the runner must not overwrite the recovered scan: %+v", got)
	}
}

// panicking is an engine with a bug.
type panicking struct{}

func (panicking) Name() string { return "codex" }
func (panicking) Run(context.Context, engine.Input, engine.Emitter) error {
	panic("engine bug")
}

// TestPanickingEngineLetsTheScanGoStale: the dispatcher recovers a panic, so
// the run must not leave anything behind that keeps the scan looking alive
// (its heartbeat) or leaks the source (its private directory). Recovery then
// hands the scan back.
func TestPanickingEngineLetsTheScanGoStale(t *testing.T) {
	h := newHarness(t, map[string]string{"src/main.go": "package main\n"}, panicking{})
	s := h.start(scans.CreateInput{Engines: []string{"codex"}})
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("the engine's panic reached nobody")
			}
		}()
		_ = h.run.Run(context.Background(), s.ID)
	}()
	h.tempDirEmpty()
	beat := h.get(s.ID).HeartbeatAt
	time.Sleep(200 * time.Millisecond) // four heartbeat intervals
	got := h.get(s.ID)
	if got.Status != store.ScanRunning || !got.HeartbeatAt.Equal(*beat) {
		t.Fatalf("nothing may beat for a run that is gone: %v then %v", beat, got.HeartbeatAt)
	}
	res, err := h.svc.Recover(context.Background(), time.Now().Add(3*time.Minute))
	if err != nil || len(res.Requeued) != 1 || res.Requeued[0] != s.ID {
		t.Fatalf("recovery hands the scan back: %+v %v", res, err)
	}
}
