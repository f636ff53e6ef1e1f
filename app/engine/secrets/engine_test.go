package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/enginetest"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/srctree"
)

// recorder is the shared recording emitter.
type recorder = enginetest.Recorder

func byRule(reports map[string]engine.Report, rule string) []engine.Report {
	var out []engine.Report
	for _, r := range reports {
		if r.Category == rule {
			out = append(out, r)
		}
	}
	return out
}

// planted secrets are random (fixed seed) so they look real to gitleaks'
// entropy checks and are not in any allowlist of known examples.
type planted struct {
	aws, github, generic, privateKey string
}

func plant(seed uint64) planted {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(n int, alphabet string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var key strings.Builder
	key.WriteString("-----BEGIN RSA PRIVATE KEY-----\n")
	for i := 0; i < 6; i++ {
		key.WriteString(pick(64, alnum+"+/") + "\n")
	}
	key.WriteString("-----END RSA PRIVATE KEY-----")
	return planted{
		aws:        "AKIA" + pick(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
		github:     "ghp_" + pick(36, alnum),
		generic:    pick(12, "abcdef0123456789") + pick(20, alnum),
		privateKey: key.String(),
	}
}

func fixture(t *testing.T, s planted) string {
	root := t.TempDir()
	srctree.WriteFiles(t, root, map[string]string{
		"config/app.env":    "# app settings\nREGION=eu-west-1\nAWS_ACCESS_KEY_ID=" + s.aws + "\n",
		"deploy/ci.env":     "AWS_ACCESS_KEY_ID=" + s.aws + "\n",
		"keys/server.pem":   "\n" + s.privateKey + "\n",
		"src/deploy.sh":     "#!/bin/sh\nexport GH_TOKEN=" + s.github + " # gitleaks:allow\n",
		"app/settings.py":   "import os\n\nDEBUG = False\n\nclient_secret = \"" + s.generic + "\"\n",
		"README.md":         "nothing to see\n",
		".gitleaks.toml":    "[allowlist]\npaths = ['''.*''']\n",
		".gitleaksignore":   "config/app.env:aws-access-token:3\n",
		"package-lock.json": "{\"token\": \"" + s.github + "\"}\n", // gitleaks' path allowlist
	})
	return root
}

func TestRunFindsPlantedSecretsRedacted(t *testing.T) {
	s := plant(1)
	root := fixture(t, s)
	rec := &recorder{}
	if err := New().Run(context.Background(), engine.Input{ScanID: "scan_1", SourceDir: root}, rec); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := rec.Final()

	aws := byRule(got, "aws-access-token")
	if len(aws) != 1 {
		t.Fatalf("want one AWS finding for the key in two files, got %d: %+v", len(aws), got)
	}
	a := aws[0]
	if a.Title != "AWS access key" || a.FilePath != "config/app.env" || a.StartLine != 3 || a.EndLine != 3 {
		t.Errorf("AWS finding: title %q path %q lines %d-%d", a.Title, a.FilePath, a.StartLine, a.EndLine)
	}
	if a.Severity != store.SeverityCritical || a.Confidence != "high" || a.CWE[0] != "CWE-798" || !a.StableKey {
		t.Errorf("AWS rating: %s/%s %v stable=%v", a.Severity, a.Confidence, a.CWE, a.StableKey)
	}
	if want := "aws-access-token:" + secretKey("aws-access-token", s.aws)[len("aws-access-token:"):]; a.Key != want || len(a.Key) != len("aws-access-token:")+16 {
		t.Errorf("key %q, want %q", a.Key, want)
	}
	if len(a.Locations) != 2 || a.Locations[0].FilePath != "config/app.env" || a.Locations[1].FilePath != "deploy/ci.env" || a.Locations[1].StartLine != 1 {
		t.Errorf("AWS locations: %+v", a.Locations)
	}
	if a.Evidence != "AWS_ACCESS_KEY_ID="+s.aws[:4]+"…[20 chars]" {
		t.Errorf("AWS evidence %q", a.Evidence)
	}

	pk := byRule(got, "private-key")
	if len(pk) != 1 || pk[0].FilePath != "keys/server.pem" || pk[0].StartLine != 2 || pk[0].EndLine != 9 || pk[0].Severity != store.SeverityCritical {
		t.Errorf("private key finding: %+v", pk)
	}
	gh := byRule(got, "github-pat")
	if len(gh) != 1 || gh[0].FilePath != "src/deploy.sh" || gh[0].StartLine != 2 || gh[0].Severity != store.SeverityCritical {
		t.Errorf("GitHub finding (gitleaks:allow must not hide it; lock file must be skipped): %+v", gh)
	}
	gen := byRule(got, "generic-api-key")
	if len(gen) != 1 || gen[0].FilePath != "app/settings.py" || gen[0].StartLine != 5 || gen[0].Severity != store.SeverityMedium || gen[0].Confidence != "low" {
		t.Errorf("generic finding: %+v", gen)
	}
	if len(got) != 4 {
		t.Errorf("want exactly 4 distinct secrets, got %d", len(got))
	}

	all := rec.Dump(t)
	for name, secret := range map[string]string{"aws": s.aws, "github": s.github, "generic": s.generic, "private key line": strings.Split(s.privateKey, "\n")[1]} {
		if strings.Contains(all, secret) {
			t.Errorf("raw %s secret leaked into emitted output", name)
		}
	}
	if n := len(rec.Stages); n != 1 || rec.Stages[0].Status != "succeeded" {
		t.Errorf("stages: %+v", rec.Stages)
	}
	if last := rec.ProgressUpdates[len(rec.ProgressUpdates)-1]; last.Percent != 100 {
		t.Errorf("last progress %+v", last)
	}
}

func TestRunIsDeterministicAcrossRuns(t *testing.T) {
	s := plant(1)
	root := fixture(t, s)
	var prev map[string]engine.Report
	for i := 0; i < 3; i++ {
		rec := &recorder{}
		if err := NewWithOptions(Options{Workers: 4}).Run(context.Background(), engine.Input{SourceDir: root}, rec); err != nil {
			t.Fatal(err)
		}
		got := rec.Final()
		if prev != nil {
			a, _ := json.Marshal(prev)
			b, _ := json.Marshal(got)
			if string(a) != string(b) {
				t.Fatalf("run %d differs:\n%s\n%s", i, a, b)
			}
		}
		prev = got
	}
}

func TestScopePaths(t *testing.T) {
	s := plant(1)
	root := fixture(t, s)
	outside := t.TempDir()
	srctree.WriteFiles(t, outside, map[string]string{"leak.env": "AWS_ACCESS_KEY_ID=" + plant(2).aws + "\n"})
	if err := os.Symlink(outside, filepath.Join(root, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "leak.env"), filepath.Join(root, "src", "link.env")); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		paths []string
		rules []string
	}{
		{"dir", []string{"src"}, []string{"github-pat"}},
		{"file and dir, nested dup", []string{"config/app.env", "app/", "app/settings.py"}, []string{"aws-access-token", "generic-api-key"}},
		{"whole tree skips symlinks", nil, []string{"aws-access-token", "private-key", "github-pat", "generic-api-key"}},
		{"scope through a symlink", []string{"linkdir"}, nil},
		{"missing", []string{"nope"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			if err := New().Run(context.Background(), engine.Input{SourceDir: root, Paths: tc.paths}, rec); err != nil {
				t.Fatal(err)
			}
			got := rec.Final()
			var rules []string
			for _, r := range got {
				rules = append(rules, r.Category)
				if strings.HasPrefix(r.FilePath, "linkdir") || r.FilePath == "src/link.env" {
					t.Errorf("followed a symlink: %s", r.FilePath)
				}
			}
			if len(rules) != len(tc.rules) {
				t.Fatalf("got rules %v, want %v", rules, tc.rules)
			}
			for _, want := range tc.rules {
				if len(byRule(got, want)) != 1 {
					t.Errorf("missing %s in %v", want, rules)
				}
			}
		})
	}

	for _, bad := range []string{"../outside", "/etc", "a/../../x"} {
		err := New().Run(context.Background(), engine.Input{SourceDir: root, Paths: []string{bad}}, &recorder{})
		if !apperr.IsCode(err, apperr.ValidationFailed) {
			t.Errorf("scope %q: want validation error, got %v", bad, err)
		}
	}
}

func TestBinaryAndOversizedFilesAreSkipped(t *testing.T) {
	s := plant(3)
	root := t.TempDir()
	srctree.WriteFiles(t, root, map[string]string{
		"bin/blob.dat":  "\x00\x01AWS_ACCESS_KEY_ID=" + s.aws + "\n",
		"big/dump.sql":  strings.Repeat("-- padding\n", 200) + "token=" + s.github + "\n",
		"small/ok.conf": "token=" + s.github + "\n",
	})
	rec := &recorder{}
	if err := NewWithOptions(Options{MaxFileBytes: 1024}).Run(context.Background(), engine.Input{SourceDir: root}, rec); err != nil {
		t.Fatal(err)
	}
	got := rec.Final()
	if len(got) != 1 || len(byRule(got, "github-pat")) != 1 || byRule(got, "github-pat")[0].FilePath != "small/ok.conf" {
		t.Errorf("want only small/ok.conf, got %+v", got)
	}
	if !strings.Contains(strings.Join(rec.Logs, "\n"), "1 over 1024 bytes") {
		t.Errorf("oversized file not reported in logs: %v", rec.Logs)
	}
}

func TestCancellationStopsPromptly(t *testing.T) {
	root := t.TempDir()
	line := strings.Repeat("const value = compute(input, options) // filler text\n", 40)
	files := map[string]string{}
	for i := 0; i < 3000; i++ {
		files[fmt.Sprintf("pkg%02d/file%04d.js", i%30, i)] = line
	}
	srctree.WriteFiles(t, root, files)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rec := &recorder{OnProgress: func(store.ScanProgress) { cancel() }} // cancel at the first progress event
	start := time.Now()
	err := New().Run(ctx, engine.Input{SourceDir: root}, rec)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancellation took %s", d)
	}
	for _, p := range rec.ProgressUpdates {
		if p.Percent == 100 {
			t.Errorf("scan ran to completion despite cancellation")
		}
	}
	if n := len(rec.Stages); n != 1 || rec.Stages[0].Status != "failed" {
		t.Errorf("stages: %+v", rec.Stages)
	}
}

// TestEvidenceMasksWhatSitsBeside runs the engine on the two lines of the
// hostile-user report: a detected key next to a secret no rule matches, and
// next to a password in a URL. Neither neighbour may reach a report.
func TestEvidenceMasksWhatSitsBeside(t *testing.T) {
	const (
		lowEntropy = "8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX8dyX"
		password   = "Tr0ub4dor-horse"
	)
	root := t.TempDir()
	for name, content := range map[string]string{
		"config/aws.json": `{"aws_access_key_id":"` + srctree.AWSKeyID(1) + `","aws_secret_access_key":"` + lowEntropy + `"}` + "\n",
		"deploy/.env":     "AWS_ACCESS_KEY_ID=" + srctree.AWSKeyID(2) + " DATABASE_URL=postgres://admin:" + password + "@db/app\n",
	} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{}
	if err := New().Run(context.Background(), engine.Input{SourceDir: root}, rec); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"config/aws.json": `{"aws_access_key_id":"AKIA…[20 chars]","aws_secret_access_key":"[redacted]"}`,
		"deploy/.env":     "AWS_ACCESS_KEY_ID=AKIA…[20 chars] DATABASE_URL=postgres://admin:[redacted]@db/app",
	}
	for _, r := range byRule(rec.Final(), "aws-access-token") {
		if r.Evidence != want[r.FilePath] {
			t.Errorf("%s evidence\n got %q\nwant %q", r.FilePath, r.Evidence, want[r.FilePath])
		}
		delete(want, r.FilePath)
	}
	if len(want) > 0 {
		t.Errorf("no aws-access-token finding in %v", want)
	}
	dump := rec.Dump(t)
	for _, raw := range []string{lowEntropy, password, srctree.AWSKeyID(1), srctree.AWSKeyID(2)} {
		if strings.Contains(dump, raw) {
			t.Errorf("%q reached the engine's output", raw)
		}
	}
}
