package codex

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/llmproxy"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/bolt"
	"github.com/vegasec/vega/testutil/modelserver"
)

// realCodex returns the pinned Codex CLI installed by .ci/codex.sh. Without
// it the test skips, except under CI=true where it fails.
func realCodex(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("VEGA_TEST_CODEX_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("VEGA_TEST_CODEX_BIN is not set (run: eval \"$(.ci/codex.sh)\")")
		}
		t.Skip("VEGA_TEST_CODEX_BIN is not set; run: eval \"$(.ci/codex.sh)\"")
	}
	return bin
}

// scriptedAudit answers each stage from the schema Codex forwards in text.format.
func scriptedAudit(req modelserver.Request) modelserver.Answer {
	usage := modelserver.Usage{InputTokens: 1000, CachedTokens: 100, OutputTokens: 50}
	schema := string(req.Schema)
	switch {
	case strings.Contains(schema, `"components"`):
		return modelserver.Answer{Text: planAnswer, Usage: usage}
	case strings.Contains(schema, `"verdicts"`) && strings.Contains(req.InputText, `component "database"`):
		return modelserver.Answer{Text: validateDB, Usage: usage}
	case strings.Contains(schema, `"verdicts"`):
		return modelserver.Answer{Text: validateFiles, Usage: usage}
	case strings.Contains(req.InputText, "Component: database"):
		return modelserver.Answer{Text: auditDB, Usage: usage}
	case strings.Contains(req.InputText, "Component: files"):
		return modelserver.Answer{Text: auditFiles, Usage: usage}
	}
	return modelserver.Answer{Status: 400, ErrorBody: `{"error":{"message":"unscripted request","type":"invalid_request_error","code":"unscripted"}}`}
}

type stack struct {
	proxy *llmproxy.Proxy
	model *modelserver.Server
	st    store.Store
	scan  *store.Scan
	llm   engine.LLM
}

// newStack wires model server ← proxy ← (engine) on a real bolt store with a running scan.
func newStack(t *testing.T, cfg llmproxy.Config) *stack {
	t.Helper()
	ms := modelserver.New(scriptedAudit)
	t.Cleanup(ms.Close)
	st, err := bolt.Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	scan := seedRunningScan(t, st)
	cfg.ProviderBaseURL, cfg.ProviderAPIKey, cfg.AdminToken = ms.BaseURL(), "sk-provider-key-never-in-codex", "admin"
	p := llmproxy.New(cfg, st)
	t.Cleanup(p.Close)
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	llm, err := llmproxy.LocalTokenSource{Proxy: p, BaseURL: srv.URL}.ScanToken(context.Background(), scan.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{proxy: p, model: ms, st: st, scan: scan, llm: llm}
}

func seedRunningScan(t *testing.T, st store.Store) *store.Scan {
	ctx := context.Background()
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "u@example.com", Groups: []string{store.GroupUser}, CreatedAt: time.Now()}
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: "p", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: "r", SourceType: store.SourceArchive, IngestStatus: store.IngestReady, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	s := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: u.ID, Status: store.ScanRunning, CreatedAt: time.Now()}
	for _, err := range []error{st.CreateUser(ctx, u), st.CreateProject(ctx, p), st.CreateRepository(ctx, r), st.CreateScan(ctx, s)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func realEngine(bin string, concurrency int) *Engine {
	return New(Config{Bin: bin, Model: "test-model", Concurrency: concurrency, CallTimeout: 2 * time.Minute, IdleTimeout: time.Minute, Validate: true})
}

// runRealAudit runs the real Codex engine over the vulnerable tree through s's
// proxy (4-minute cap): both real-audit tests start the same way.
func runRealAudit(t *testing.T, s *stack, bin string, concurrency int) (*recorder, time.Duration, error) {
	t.Helper()
	rec := &recorder{}
	in := engine.Input{ScanID: s.scan.ID, SourceDir: vulnerableTree(t), ArtifactDir: t.TempDir(), LLM: s.llm}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	err := realEngine(bin, concurrency).Run(ctx, in, rec)
	return rec, time.Since(start), err
}

func TestRealCodexAuditThroughTheProxy(t *testing.T) {
	bin := realCodex(t)
	s := newStack(t, llmproxy.Config{PriceUSDPer1K: 0.01})
	rec, _, err := runRealAudit(t, s, bin, 2)
	if err != nil {
		t.Fatalf("run: %v\nlogs:\n%s", err, rec.AllLogs())
	}
	if len(rec.Reports) != 2 || findingByTitle(rec.Reports, "SQL injection") == nil || findingByTitle(rec.Reports, "Path traversal").Severity != "medium" {
		t.Errorf("findings = %+v", rec.Reports)
	}
	for _, st := range []string{StagePlan, StageAudit, StageValidate} {
		if got := rec.StageNamed(st); got.Status != "succeeded" {
			t.Errorf("stage %s = %+v", st, got)
		}
	}
	reqs := s.model.Requests()
	if len(reqs) != 5 { // plan, 2 audits, 2 validations
		t.Errorf("model server saw %d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Header.Get("Authorization") != "Bearer sk-provider-key-never-in-codex" {
			t.Errorf("upstream auth = %q", r.Header.Get("Authorization"))
		}
		if strings.Contains(r.InputText, "Ignore previous instructions") {
			t.Error("Codex loaded the scanned repository's AGENTS.md")
		}
		if r.SchemaName == "" {
			t.Error("a request without the stage's output schema")
		}
	}
	// Usage: Codex's turn.completed totals match what the proxy put on the scan.
	if err := s.proxy.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	scan, err := s.st.GetScan(context.Background(), store.System(), s.scan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if scan.Usage.Requests != 5 || scan.Usage.InputTokens != 5000 || scan.Usage.CachedInputTokens != 500 || scan.Usage.OutputTokens != 250 {
		t.Errorf("scan usage = %+v", scan.Usage)
	}
	if u := rec.TotalUsage(); u.InputTokens != 5000 || u.OutputTokens != 250 {
		t.Errorf("engine-reported usage = %+v", u)
	}
}

func TestRealCodexBudgetStopKeepsFindings(t *testing.T) {
	bin := realCodex(t)
	// plan, audit database, validate database pass; the files audit is refused.
	s := newStack(t, llmproxy.Config{MaxRequestsPerScan: 3})
	rec, took, err := runRealAudit(t, s, bin, 1)
	if !errors.Is(err, engine.ErrBudgetExceeded) {
		t.Fatalf("err = %v, want ErrBudgetExceeded\nlogs:\n%s", err, rec.AllLogs())
	}
	if took > time.Minute {
		t.Errorf("a budget stop took %v: Codex retried instead of giving up", took)
	}
	if findingByTitle(rec.Reports, "SQL injection") == nil {
		t.Errorf("findings before the stop were lost: %+v", rec.Reports)
	}
	_ = s.proxy.Flush(context.Background())
	scan, _ := s.st.GetScan(context.Background(), store.System(), s.scan.ID)
	if scan.Usage.Requests != 3 {
		t.Errorf("scan usage = %+v", scan.Usage)
	}
}

func TestRealCodexGeneratesAProfileWithAProfileToken(t *testing.T) {
	bin := realCodex(t)
	ms := modelserver.New(func(req modelserver.Request) modelserver.Answer {
		if strings.Contains(string(req.Schema), `"trust_boundaries"`) {
			return modelserver.Answer{Text: profileAnswer, Usage: modelserver.Usage{InputTokens: 300, OutputTokens: 30}}
		}
		return modelserver.Answer{Status: 400}
	})
	defer ms.Close()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scan := seedRunningScan(t, st)
	ctx := context.Background()
	if err := st.PutThreatProfile(ctx, &store.ThreatProfile{ID: store.NewID(store.PrefixProfile), RepositoryID: scan.RepositoryID, OwnerUserID: scan.OwnerUserID,
		Status: store.ProfileGenerating, Source: store.ProfileSourceGenerated, UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p := llmproxy.New(llmproxy.Config{ProviderBaseURL: ms.BaseURL(), ProviderAPIKey: "sk-x", AdminToken: "admin"}, st)
	defer p.Close()
	ls, err := p.ServeLoopback()
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close(ctx)
	llm, err := ls.TokenSource(p).ProfileToken(ctx, scan.RepositoryID)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	prof, err := realEngine(bin, 1).GenerateProfile(cctx, engine.Input{SourceDir: vulnerableTree(t), ArtifactDir: t.TempDir(), LLM: llm}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(prof.EntryPoints) != 2 || len(prof.OutOfScope) != 1 {
		t.Errorf("profile = %+v", prof)
	}
	_ = p.Flush(ctx)
	recs, _ := st.ListUsageRecords(ctx, store.UsageFilter{UserID: scan.OwnerUserID})
	if len(recs) != 1 || recs[0].InputTokens != 300 || recs[0].ScanID != "" {
		t.Errorf("usage records = %+v", recs)
	}
}
