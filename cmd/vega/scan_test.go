package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/modelserver"
	"github.com/vegasec/vega/testutil/srctree"

	"github.com/vegasec/vega/app/export/sariftest"
)

// scanRun is one `vega scan` process: exit code and both streams.
type scanRun struct {
	code           int
	stdout, stderr string
}

// runScan runs the real binary's `vega scan` with a bare environment (PATH
// and HOME only, as in a CI container) plus env.
func runScan(t *testing.T, env []string, args ...string) scanRun {
	t.Helper()
	cmd := exec.Command(apitest.VegaBinary(t), append([]string{"scan"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + os.Getenv("TMPDIR")}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return scanRun{code, out.String(), errb.String()}
}

type scanReport struct {
	SchemaVersion int `json:"schema_version"`
	Findings      []struct {
		Fingerprint string `json:"fingerprint"`
		FilePath    string `json:"file_path"`
		Severity    string `json:"severity"`
		Status      string `json:"status"`
	} `json:"findings"`
}

func parseReport(t *testing.T, raw string) scanReport {
	t.Helper()
	var r scanReport
	if err := json.Unmarshal([]byte(raw), &r); err != nil || r.SchemaVersion == 0 {
		t.Fatalf("not the export's JSON (%v):\n%s", err, raw)
	}
	return r
}

func (r scanReport) paths() []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.FilePath)
	}
	return out
}

// TestScanStandalone runs `vega scan` as a CI job would, with the binary
// alone: planted keys fail the build and give schema-valid SARIF; ignored,
// .git and linked files are not scanned; a clean tree passes; a baseline
// leaves only what was added; the temporary store is gone afterwards.
func TestScanStandalone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	tmp := t.TempDir()
	env := []string{"TMPDIR=" + tmp} // every temporary file of the scan lands here
	outside := filepath.Join(t.TempDir(), "outside.py")
	if err := os.WriteFile(outside, []byte(srctree.AWSKeyLine(90)), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	srctree.WriteFiles(t, tree, map[string]string{
		"app/settings.py":         srctree.AWSKeyLine(1),
		"app/main.py":             "print('hello')\n",
		"deploy/.env":             srctree.AWSKeyLine(2),
		".git/config":             srctree.AWSKeyLine(3), // never scanned
		".gitignore":              "dist/\n*.log\n",
		"dist/bundle.js":          srctree.AWSKeyLine(4), // ignored directory
		"debug.log":               srctree.AWSKeyLine(5), // ignored by pattern
		"vendor/.vegaignore":      "fixtures/\n",
		"vendor/fixtures/key.pem": srctree.AWSKeyLine(6), // ignored by a nested .vegaignore
		"vendor/lib/.gitignore":   "gen.py\n",
		"vendor/lib/gen.py":       srctree.AWSKeyLine(7), // ignored by a nested .gitignore
		"vendor/lib/ok.py":        "x = 1\n",
	})
	if err := os.Symlink(outside, filepath.Join(tree, "app", "linked.py")); err != nil {
		t.Fatal(err)
	}

	dry := runScan(t, env, tree, "--dry-run")
	wantFiles := []string{".gitignore", "app/main.py", "app/settings.py", "deploy/.env", "vendor/.vegaignore", "vendor/lib/.gitignore", "vendor/lib/ok.py"}
	if dry.code != 0 || strings.Join(strings.Fields(dry.stdout), " ") != strings.Join(wantFiles, " ") {
		t.Fatalf("--dry-run: exit %d\n%s\nwant %v\nstderr: %s", dry.code, dry.stdout, wantFiles, dry.stderr)
	}

	sarif := filepath.Join(t.TempDir(), "vega.sarif")
	r := runScan(t, env, tree, "--fail-on", "high", "--sarif", sarif, "--format", "json")
	if r.code != 1 {
		t.Fatalf("planted keys: exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
	rep := parseReport(t, r.stdout)
	if got := strings.Join(rep.paths(), " "); got != "app/settings.py deploy/.env" {
		t.Fatalf("findings in %q, want app/settings.py and deploy/.env", got)
	}
	raw, err := os.ReadFile(sarif)
	if err != nil {
		t.Fatal(err)
	}
	sariftest.Validate(t, raw)
	if !strings.Contains(string(raw), "deploy/.env") || strings.Contains(string(raw), srctree.AWSKeyID(1)) {
		t.Fatalf("SARIF misses a finding or quotes a key:\n%s", raw)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "vega-scan-*")); len(left) != 0 {
		t.Fatalf("temporary store left behind: %v", left)
	}
	// The table is the default; critical findings fail --fail-on critical too,
	// and --fail-on none only reports.
	if r := runScan(t, env, tree, "--fail-on", "critical"); r.code != 1 || !strings.Contains(r.stdout, "CRITICAL") || !strings.Contains(r.stdout, "deploy/.env") {
		t.Fatalf("table: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r := runScan(t, env, tree, "--fail-on", "none", "-q"); r.code != 0 || r.stderr != "" {
		t.Fatalf("--fail-on none -q: exit %d, stderr %q", r.code, r.stderr)
	}

	// A baseline of this scan: a new key is the only finding reported.
	base := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(base, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runScan(t, env, tree, "--baseline", base); r.code != 0 || !strings.Contains(r.stdout, "No findings.") {
		t.Fatalf("unchanged tree against its baseline: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	srctree.WriteFiles(t, tree, map[string]string{"app/new.py": srctree.AWSKeyLine(8)})
	r = runScan(t, env, tree, "--baseline", base, "--format", "json")
	if got := strings.Join(parseReport(t, r.stdout).paths(), " "); r.code != 1 || got != "app/new.py" {
		t.Fatalf("baseline: exit %d, findings %q, want only app/new.py\n%s", r.code, got, r.stderr)
	}

	// A clean tree passes, with an empty but valid SARIF.
	clean := t.TempDir()
	srctree.WriteFiles(t, clean, map[string]string{"main.go": "package main\n\nfunc main() {}\n", "README.md": "# clean\n"})
	r = runScan(t, env, clean, "--sarif", sarif)
	if r.code != 0 || !strings.Contains(r.stdout, "No findings.") {
		t.Fatalf("clean tree: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	raw, _ = os.ReadFile(sarif)
	sariftest.Validate(t, raw)

	// Errors exit 2 with a sentence.
	for _, args := range [][]string{{filepath.Join(tree, "missing")}, {tree, "--fail-on", "severe"}, {tree, "--baseline", filepath.Join(tree, "app/main.py")}, {tree, "--new-only"}} {
		if r := runScan(t, env, args...); r.code != 2 || !strings.Contains(r.stderr, "vega scan:") {
			t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if r := runScan(t, env, "--help"); r.code != 0 || !strings.Contains(r.stdout, "Exit codes:") || !strings.Contains(r.stdout, "Examples:") {
		t.Fatalf("--help: exit %d\n%s", r.code, r.stdout)
	}
}

// TestScanAgainstServer runs `vega scan --server` against the real binary
// serving on a free port, authenticated by an API key: upload with progress
// lines, findings and exit code, --new-only after a second scan, and triage
// done on the server carrying over (a dismissed finding fails no build).
func TestScanAgainstServer(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	api := startAPI(t, []string{"VEGA_DATA_DIR=" + t.TempDir(), "VEGA_SCAN_ENGINES=secrets"})
	var key struct {
		Secret string `json:"secret"`
	}
	api.call("POST", "/v1/api-keys", map[string]string{"name": "ci"}, &key)
	env := []string{"VEGA_API_KEY=" + key.Secret, "TMPDIR=" + t.TempDir()}
	tree := filepath.Join(t.TempDir(), "shop")
	srctree.WriteFiles(t, tree, map[string]string{
		"app/settings.py": srctree.AWSKeyLine(11),
		"app/main.py":     "print('shop')\n",
		".gitignore":      "local/\n",
		"local/dev.env":   srctree.AWSKeyLine(12), // ignored: never uploaded
	})
	server := []string{"--server", api.base, "--project", "ci-project"}

	// First scan: project and repository (named after the directory) are
	// created; the upload, the ingest and the scan show progress lines.
	r := runScan(t, env, append([]string{tree, "--format", "json"}, server...)...)
	if r.code != 1 {
		t.Fatalf("first scan: exit %d, want 1\n%s", r.code, r.stderr)
	}
	t.Logf("vega scan --server, stderr:\n%s", r.stderr)
	for _, want := range []string{"vega: pack 100% 3/3 files", "vega: upload 100%", "uploaded 3 files", "vega: scan ", "1 open finding(s) at or above high"} {
		if !strings.Contains(r.stderr, want) {
			t.Fatalf("progress: no %q in\n%s", want, r.stderr)
		}
	}
	if got := strings.Join(parseReport(t, r.stdout).paths(), " "); got != "app/settings.py" {
		t.Fatalf("first scan findings %q", got)
	}
	var projects struct {
		Items []struct{ ID, Name string }
	}
	api.call("GET", "/v1/projects", nil, &projects)
	if len(projects.Items) != 1 || projects.Items[0].Name != "ci-project" {
		t.Fatalf("projects: %+v", projects.Items)
	}
	var repos struct {
		Items []struct{ ID, Name string }
	}
	api.call("GET", "/v1/projects/"+projects.Items[0].ID+"/repositories", nil, &repos)
	if len(repos.Items) != 1 || repos.Items[0].Name != "shop" {
		t.Fatalf("repositories: %+v", repos.Items)
	}
	repoID := repos.Items[0].ID

	// Second scan of the same repository with a new key: --new-only reports
	// only that one.
	srctree.WriteFiles(t, tree, map[string]string{"app/payments.py": srctree.AWSKeyLine(13)})
	sarif := filepath.Join(t.TempDir(), "new.sarif")
	r = runScan(t, env, append([]string{tree, "--format", "json", "--new-only", "--sarif", sarif}, server...)...)
	if got := strings.Join(parseReport(t, r.stdout).paths(), " "); r.code != 1 || got != "app/payments.py" {
		t.Fatalf("--new-only: exit %d, findings %q, want only app/payments.py\n%s", r.code, got, r.stderr)
	}
	raw, _ := os.ReadFile(sarif)
	sariftest.Validate(t, raw)
	api.call("GET", "/v1/projects/"+projects.Items[0].ID+"/repositories", nil, &repos)
	if len(repos.Items) != 1 {
		t.Fatalf("the second scan made another repository: %+v", repos.Items)
	}

	// Dismiss both in the dashboard's API: the next scan still reports them,
	// as dismissed, and passes; SARIF marks them suppressed.
	var found struct {
		Items []struct{ ID, Status string }
	}
	api.call("GET", "/v1/repositories/"+repoID+"/findings", nil, &found)
	if len(found.Items) != 2 {
		t.Fatalf("repository findings: %+v", found.Items)
	}
	for _, f := range found.Items {
		api.call("PATCH", "/v1/findings/"+f.ID, map[string]string{"status": "dismissed", "dismissed_reason": "used_in_tests"}, &struct{}{})
	}
	r = runScan(t, env, append([]string{tree, "--format", "json", "--sarif", sarif}, server...)...)
	if r.code != 0 {
		t.Fatalf("after dismissal: exit %d\n%s", r.code, r.stderr)
	}
	rep := parseReport(t, r.stdout)
	if len(rep.Findings) != 2 || rep.Findings[0].Status != "dismissed" || rep.Findings[1].Status != "dismissed" {
		t.Fatalf("after dismissal: exit %d, findings %+v\n%s", r.code, rep.Findings, r.stderr)
	}
	raw, _ = os.ReadFile(sarif)
	sariftest.Validate(t, raw)
	if strings.Count(string(raw), `"suppressions"`) != 2 {
		t.Fatalf("SARIF should mark both dismissed findings suppressed:\n%s", raw)
	}
	// Nothing new since: --new-only reports nothing.
	r = runScan(t, env, append([]string{tree, "--new-only"}, server...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "No findings.") {
		t.Fatalf("--new-only with nothing new: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	// A bad key is an error (exit 2) that says what the server answered.
	r = runScan(t, []string{"VEGA_API_KEY=vk_not-a-key"}, append([]string{tree}, server...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "401") {
		t.Fatalf("bad key: exit %d\n%s", r.code, r.stderr)
	}
}

// TestScanStandaloneWithCodex: with the Codex CLI and a provider configured,
// standalone `vega scan` runs the codex engine too (through its in-process
// LLM proxy, against a scripted provider), and the provider key stays out
// of every output.
func TestScanStandaloneWithCodex(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary and codex")
	}
	bin := os.Getenv("VEGA_TEST_CODEX_BIN")
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("VEGA_TEST_CODEX_BIN is not set")
		}
		t.Skip("VEGA_TEST_CODEX_BIN is not set")
	}
	const key = "sk-provider-key-for-the-cli-test"
	ms := modelserver.New(sqlInjectionAnswers)
	t.Cleanup(ms.Close)
	tree := t.TempDir()
	srctree.WriteFiles(t, tree, map[string]string{
		"app/db.py": "import sqlite3\n\ndef find_user(conn, name):\n    return conn.execute(\"SELECT * FROM users WHERE name = '\" + name + \"'\").fetchall()\n",
	})
	env := []string{"VEGA_CODEX_BIN=" + bin, "VEGA_CODEX_SANDBOX=none", "VEGA_CODEX_MODEL=test-model",
		"VEGA_LLM_PROVIDER_BASE_URL=" + ms.BaseURL(), "VEGA_LLM_PROVIDER_API_KEY=" + key, "VEGA_CODEX_CALL_TIMEOUT_SECONDS=120"}
	r := runScan(t, env, tree, "--format", "json", "-v")
	if r.code != 1 || !strings.Contains(r.stderr, "scanning with secrets, codex") {
		t.Fatalf("exit %d\n%s", r.code, apitest.Tail(r.stderr, 3000))
	}
	rep := parseReport(t, r.stdout)
	if len(rep.Findings) != 1 || rep.Findings[0].FilePath != "app/db.py" || rep.Findings[0].Severity != "high" {
		t.Fatalf("findings: %+v", rep.Findings)
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Fatal("the provider key reached the output")
	}
	if len(ms.Requests()) < 3 {
		t.Fatalf("the scripted provider saw %d requests", len(ms.Requests()))
	}
}

// sqlInjectionAnswers is the scripted provider of the codex runs on
// codexTree: one component, one SQL injection found and confirmed.
func sqlInjectionAnswers(req modelserver.Request) modelserver.Answer {
	usage := modelserver.Usage{InputTokens: 100, OutputTokens: 20}
	switch schema := string(req.Schema); {
	case strings.Contains(schema, `"components"`):
		return modelserver.Answer{Usage: usage, Text: `{"components":[{"name":"database","paths":["app/db.py"],"rationale":"SQL built from input","priority":"high"}]}`}
	case strings.Contains(schema, `"verdicts"`):
		return modelserver.Answer{Usage: usage, Text: `{"verdicts":[{"id":"F1","verdict":"confirmed","severity":"high","confidence":"high","reason":"reachable"}]}`}
	case strings.Contains(schema, `"findings"`):
		return modelserver.Answer{Usage: usage, Text: `{"findings":[{"title":"SQL injection in find_user","severity":"high","confidence":"high","category":"sql_injection","cwe":["CWE-89"],"file_path":"app/db.py","start_line":4,"end_line":4,"description":"name is concatenated into SQL","evidence":"conn.execute(\"...\" + name)","recommendation":"use query parameters","locations":[]}]}`}
	}
	return modelserver.Answer{Status: 400, ErrorBody: `{"error":{"message":"unscripted request","type":"invalid_request_error"}}`}
}
