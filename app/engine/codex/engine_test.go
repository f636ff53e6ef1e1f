package codex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// The test binary doubles as a fake Codex CLI: helperSandbox re-executes it
// with the real codex argv, and TestMain answers like `codex exec --json`
// from the scenario named in VEGA_FAKE_CODEX. It is a real child process, so
// the exec runner, process groups, timeouts and stream handling are all real.
func TestMain(m *testing.M) {
	if sc := os.Getenv("VEGA_FAKE_CODEX"); sc != "" {
		os.Exit(fakeCodex(sc, os.Args[1:]))
	}
	os.Exit(m.Run())
}

type helperSandbox struct {
	scenario string
	inner    HostSandbox
	seen     chan Command
}

func (h helperSandbox) Command(inv Invocation) Command {
	c := h.inner.Command(inv)
	if h.seen != nil {
		select {
		case h.seen <- c:
		default:
		}
	}
	self, _ := os.Executable()
	c.Path = self
	c.Env = append(c.Env, "VEGA_FAKE_CODEX="+h.scenario)
	return c
}

func fakeCodex(scenario string, args []string) int {
	var schemaFile string
	for i, a := range args {
		if a == "--output-schema" && i+1 < len(args) {
			schemaFile = args[i+1]
		}
	}
	schema, _ := os.ReadFile(schemaFile)
	prompt := args[len(args)-1]
	say := func(s string) { fmt.Println(s) }
	msg := func(text string) {
		b, _ := json.Marshal(map[string]any{"type": "item.completed", "item": map[string]any{"id": "i1", "type": "agent_message", "text": text}})
		say(string(b))
	}
	say(`{"type":"thread.started","thread_id":"t1"}`)
	say(`{"type":"turn.started"}`)
	say(`{"type":"item.completed","item":{"id":"i0","type":"command_execution","command":"cat app/db.py; echo ` + os.Getenv("VEGA_SCAN_TOKEN") + `","aggregated_output":"","exit_code":0,"status":"completed"}}`)
	switch scenario {
	case "hang":
		// A grandchild that must die with the process group.
		child := exec.Command("sleep", "3600")
		if err := child.Start(); err == nil {
			_ = os.WriteFile(filepath.Join(filepath.Dir(schemaFile), "child.pid"), []byte(fmt.Sprint(child.Process.Pid)), 0o600)
		}
		time.Sleep(time.Hour)
	case "huge":
		msg(strings.Repeat("A", 10<<20))
	case "budget":
		if strings.Contains(string(schema), "findings") && strings.Contains(prompt, "Component: files") {
			say(`{"type":"error","message":"Quota exceeded. Check your plan and billing details."}`)
			say(`{"type":"turn.failed","error":{"message":"Quota exceeded. Check your plan and billing details."}}`)
			return 1
		}
		fallthrough
	case "ok":
		switch {
		case strings.Contains(string(schema), `"trust_boundaries"`):
			msg(profileAnswer)
		case strings.Contains(string(schema), `"components"`):
			msg(planAnswer)
		case strings.Contains(string(schema), `"verdicts"`) && strings.Contains(prompt, "database"):
			msg(validateDB)
		case strings.Contains(string(schema), `"verdicts"`):
			msg(validateFiles)
		case strings.Contains(prompt, "Component: database"):
			msg(auditDB)
		default:
			msg(auditFiles)
		}
	case "garbage":
		say("this is not json")
		msg("```json\n{not valid")
	}
	say(`{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":40,"output_tokens":10}}`)
	return 0
}

func testEngine(scenario string, mod func(*Config)) *Engine {
	cfg := Config{Bin: "codex", Model: "test-model", Concurrency: 2, CallTimeout: 20 * time.Second, IdleTimeout: 10 * time.Second,
		Validate: true, Sandbox: helperSandbox{scenario: scenario}}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg)
}

func testInput(t *testing.T) engine.Input {
	return engine.Input{ScanID: store.NewID(store.PrefixScan), SourceDir: vulnerableTree(t), ArtifactDir: t.TempDir(),
		LLM: engine.LLM{BaseURL: "http://127.0.0.1:1", Token: "vst1.SCANTOKEN.SIG"}}
}

func findingByTitle(rs []engine.Report, prefix string) *engine.Report {
	for i := range rs {
		if strings.HasPrefix(rs[i].Title, prefix) {
			return &rs[i]
		}
	}
	return nil
}

func TestRunPlansAuditsValidatesAndSanitises(t *testing.T) {
	rec := &recorder{}
	in := testInput(t)
	perTurn := func(model string, input, cached, output int64) float64 { return float64(input+output) / 1e3 }
	if err := testEngine("ok", func(c *Config) { c.Cost = perTurn }).Run(context.Background(), in, rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Reports) != 2 {
		t.Fatalf("findings = %+v", rec.Reports)
	}
	sqli := findingByTitle(rec.Reports, "SQL injection")
	if sqli == nil || sqli.Severity != "critical" || sqli.FilePath != "app/db.py" || sqli.StartLine != 5 || sqli.EndLine != 6 {
		t.Errorf("sql injection finding (end line must be clamped to the file's 6 lines): %+v", sqli)
	}
	if sqli != nil && (len(sqli.Locations) != 1 || sqli.Locations[0].FilePath != "app/web.py" || sqli.CWE[0] != "CWE-89" || sqli.Key == "") {
		t.Errorf("locations/cwe/key: %+v", sqli)
	}
	pt := findingByTitle(rec.Reports, "Path traversal")
	if pt == nil || pt.Severity != "medium" || pt.Confidence != "medium" || pt.StartLine != 1 || len(pt.CWE) != 1 || pt.CWE[0] != "CWE-22" {
		t.Errorf("path traversal finding must be downgraded, clamped and CWE-normalised: %+v", pt)
	}
	if findingByTitle(rec.Reports, "Through a symlink") != nil {
		t.Error("a finding on a symlink out of the tree was reported")
	}
	if strings.Count(rec.AllLogs(), "does not exist in the snapshot") != 2 {
		t.Errorf("want the missing file and the symlink dropped:\n%s", rec.AllLogs())
	}
	if findingByTitle(rec.Reports, "Verbose") != nil {
		t.Error("a rejected finding was reported")
	}
	logs := rec.AllLogs()
	for _, want := range []string{"not inside the repository", "does not exist in the snapshot", "ran: cat app/db.py"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "SCANTOKEN") {
		t.Error("the scan token reached scan_log")
	}
	for _, s := range []string{StagePlan, StageAudit, StageValidate} {
		if got := rec.StageNamed(s); got.Status != "succeeded" {
			t.Errorf("stage %s = %+v", s, got)
		}
	}
	// plan + 2 audits + 2 validations (the "escape" component was dropped: no valid paths).
	if u := rec.TotalUsage(); u.InputTokens != 500 || u.CachedInputTokens != 200 || u.OutputTokens != 50 || u.CostUSD < 0.5499 || u.CostUSD > 0.5501 {
		t.Errorf("usage = %+v", u)
	}
	last := rec.ProgressUpdates[len(rec.ProgressUpdates)-1]
	if last.Percent != 100 || last.ComponentsDone != 2 || last.ComponentsTotal != 2 {
		t.Errorf("final progress = %+v", last)
	}
	// Artifacts: prompt, schema, raw output and stderr per call, with the token redacted.
	calls, _ := filepath.Glob(filepath.Join(in.ArtifactDir, "codex", "*"))
	if len(calls) != 5 {
		t.Errorf("%d call directories", len(calls))
	}
	for _, c := range calls {
		for _, f := range []string{"prompt.md", "schema.json", "stdout.jsonl", "stderr.txt"} {
			b, err := os.ReadFile(filepath.Join(c, f))
			if err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if strings.Contains(string(b), "SCANTOKEN") {
				t.Errorf("%s/%s contains the scan token", filepath.Base(c), f)
			}
		}
	}
}

func TestThresholdScopeAndOutOfScopeFilterReports(t *testing.T) {
	rec := &recorder{}
	in := testInput(t)
	in.Profile = &store.ThreatProfileContent{Summary: "demo app", Focus: []string{"injection"}, OutOfScope: []string{"app/db.py"}, SeverityThreshold: "high"}
	if err := testEngine("ok", func(c *Config) { c.Validate = false }).Run(context.Background(), in, rec); err != nil {
		t.Fatal(err)
	}
	// db.py is out of scope (its findings dropped); without validation the path
	// traversal stays high, and the low one falls under the threshold.
	if len(rec.Reports) != 1 || !strings.HasPrefix(rec.Reports[0].Title, "Path traversal") {
		t.Errorf("findings = %+v", rec.Reports)
	}
	if s := rec.StageNamed(StageValidate); s.Status != "skipped" {
		t.Errorf("validate stage = %+v", s)
	}
	b, _ := os.ReadFile(filepath.Join(in.ArtifactDir, "codex", "001-plan", "prompt.md"))
	for _, want := range []string{"demo app", "injection", "app/db.py", "missing rate limiting", "untrusted data"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("plan prompt lacks %q", want)
		}
	}
}

func TestBudgetStopKeepsFindingsSoFar(t *testing.T) {
	rec := &recorder{}
	err := testEngine("budget", func(c *Config) { c.Concurrency = 1 }).Run(context.Background(), testInput(t), rec)
	if !errors.Is(err, engine.ErrBudgetExceeded) {
		t.Fatalf("err = %v, want ErrBudgetExceeded", err)
	}
	if findingByTitle(rec.Reports, "SQL injection") == nil {
		t.Errorf("the database component's finding was lost: %+v", rec.Reports)
	}
	if s := rec.StageNamed(StageAudit); s.Status != "failed" {
		t.Errorf("audit stage = %+v", s)
	}
}

func TestHostileOutputNeverCrashes(t *testing.T) {
	for _, sc := range []string{"huge", "garbage"} {
		t.Run(sc, func(t *testing.T) {
			rec := &recorder{}
			err := testEngine(sc, nil).Run(context.Background(), testInput(t), rec)
			if err == nil {
				t.Fatal("a run without any usable answer succeeded")
			}
			if len(rec.Reports) != 0 {
				t.Errorf("findings from garbage: %+v", rec.Reports)
			}
			if s := rec.StageNamed(StagePlan); s.Status != "failed" {
				t.Errorf("plan stage = %+v", s)
			}
			if sc == "huge" && !strings.Contains(rec.AllLogs(), "skipped an output line longer than") {
				t.Errorf("no warning about the 10 MB line:\n%s", rec.AllLogs())
			}
		})
	}
}

func TestIdleTimeoutAndCancellationKillTheProcessGroup(t *testing.T) {
	rec := &recorder{}
	start := time.Now()
	err := testEngine("hang", func(c *Config) { c.IdleTimeout = 300 * time.Millisecond }).Run(context.Background(), testInput(t), rec)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	if !strings.Contains(rec.StageNamed(StageAudit).Message, "no output for too long") {
		t.Errorf("audit stage = %+v", rec.StageNamed(StageAudit))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	in := testInput(t)
	err = testEngine("hang", nil).Run(ctx, in, &recorder{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled run: err = %v after %v", err, time.Since(start))
	}
	pids, _ := filepath.Glob(filepath.Join(in.ArtifactDir, "codex", "*", "child.pid"))
	if len(pids) == 0 {
		t.Fatal("the fake codex recorded no child")
	}
	for _, f := range pids {
		b, _ := os.ReadFile(f)
		pid, _ := strconv.Atoi(string(b))
		alive := true
		for range 50 { // the kernel reaps asynchronously; give it a moment
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				alive = false
				break
			}
			if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(st), ") Z ") {
				alive = false // a zombie waiting for init: already dead
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if alive {
			t.Errorf("grandchild %d survived the cancellation", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestCommandLines(t *testing.T) {
	inv := Invocation{Bin: "/opt/codex", Model: "gpt-x", ProxyURL: "http://127.0.0.1:8001", Token: "vst1.a.b",
		SourceDir: "/tmp/src", SchemaFile: "/tmp/art/001-plan/schema.json", HomeDir: "/tmp/home", Prompt: "You are"}
	host := HostSandbox{}.Command(inv)
	want := `/opt/codex exec --json --sandbox read-only --skip-git-repo-check --ephemeral -m gpt-x -c model_provider=vega -c model_providers.vega.name="vega" -c model_providers.vega.base_url="http://127.0.0.1:8001/v1" -c model_providers.vega.wire_api="responses" -c model_providers.vega.env_key="VEGA_SCAN_TOKEN" -c project_doc_max_bytes=0 --output-schema /tmp/art/001-plan/schema.json You are`
	if got := host.Path + " " + strings.Join(host.Args, " "); got != want {
		t.Errorf("host argv:\n got %s\nwant %s", got, want)
	}
	if host.Dir != "/tmp/src" {
		t.Errorf("dir = %s", host.Dir)
	}
	if len(host.Env) != 3 || !strings.HasPrefix(host.Env[0], "PATH=") || host.Env[1] != "HOME=/tmp/home" || host.Env[2] != "VEGA_SCAN_TOKEN=vst1.a.b" {
		t.Errorf("env = %q", host.Env)
	}

	d := DockerSandbox{Image: "vega-codex-runner:latest", Network: "vega-proxy-only", ProxyURL: "http://llm-proxy:8001"}.Command(inv)
	got := d.Path + " " + strings.Join(d.Args, " ")
	for _, part := range []string{
		"docker run --rm --network vega-proxy-only ",
		" -v /tmp/src:/src:ro ", " -v /tmp/art/001-plan:/vega:ro ", " -w /src ", " -e VEGA_SCAN_TOKEN ",
		" vega-codex-runner:latest codex exec --json --sandbox read-only --skip-git-repo-check --ephemeral -m gpt-x ",
		`-c model_providers.vega.base_url="http://llm-proxy:8001/v1"`, "-c project_doc_max_bytes=0 --output-schema /vega/schema.json You are",
	} {
		if !strings.Contains(got, part) {
			t.Errorf("docker argv lacks %q:\n%s", part, got)
		}
	}
	if strings.Contains(got, "vst1.a.b") {
		t.Error("the token is on the docker command line (visible in ps)")
	}
}

func TestCleanRel(t *testing.T) {
	for in, want := range map[string]string{
		"app/db.py": "app/db.py", "./app/db.py": "app/db.py", "app//db.py": "app/db.py",
		"../x": "", "app/../../x": "", "app/../db.py": "", "/etc/passwd": "", `app\..\x`: "", "": "", "..": "", "a\x00b": "",
	} {
		if got := cleanRel(in); got != want {
			t.Errorf("cleanRel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	in := "token vst1.eyJzIjoxfQ.c2ln key sk-proj-abcdefghijklmnopqrstuv aws AKIAABCDEFGHIJKLMNOP -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- literal SECRETTOKEN" +
		"\nThe settings hold password = \"hunter2\" and postgres://admin:Tr0ub4dor-horse@db/app"
	out := scrub(in, "SECRETTOKEN")
	if !strings.Contains(out, `password = "[redacted]"`) || !strings.Contains(out, "postgres://admin:[redacted]@db/app") {
		t.Errorf("the shared rules did not apply: %s", out)
	}
	for _, leak := range []string{"eyJzIjoxfQ", "abcdefghijklmnop", "AKIAABCDEFGHIJKLMNOP", "MIIE", "SECRETTOKEN", "hunter2", "Tr0ub4dor"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q survived: %s", leak, out)
		}
	}
}

func TestPromptsAndSchemasAreEmbedded(t *testing.T) {
	for _, s := range []string{StagePlan, StageAudit, StageValidate, stageProfile} {
		var v map[string]any
		if err := json.Unmarshal(schemaFor(s), &v); err != nil || v["additionalProperties"] != false {
			t.Errorf("schema %s: %v (strict schemas need additionalProperties=false)", s, err)
		}
		p, err := renderPrompt(s, promptData{Exclusions: DefaultExclusions, MaxComponents: 3})
		if err != nil || !strings.Contains(p, "JSON matching the given schema") || strings.HasPrefix(p, "-") {
			t.Errorf("prompt %s: %v", s, err)
		}
	}
}

func TestGenerateProfileSanitises(t *testing.T) {
	p, err := testEngine("ok", nil).GenerateProfile(context.Background(), testInput(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Summary, "A Flask app") || strings.Contains(p.Summary, "abcdefghijklmnop") {
		t.Errorf("summary = %q", p.Summary)
	}
	if len(p.OutOfScope) != 1 || p.OutOfScope[0] != "tests" {
		t.Errorf("out_of_scope = %q (only existing in-tree paths)", p.OutOfScope)
	}
	if p.SeverityThreshold != "low" || len(p.EntryPoints) != 2 || len(p.Focus) != 2 {
		t.Errorf("profile = %+v", p)
	}
}
