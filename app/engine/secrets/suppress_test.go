package secrets

import (
	"context"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/srctree"
)

func runTree(t *testing.T, files map[string]string) map[string]engine.Report {
	t.Helper()
	root := t.TempDir()
	srctree.WriteFiles(t, root, files)
	rec := &recorder{}
	if err := New().Run(context.Background(), engine.Input{ScanID: "scan_1", SourceDir: root}, rec); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rec.Final()
}

func one(t *testing.T, got map[string]engine.Report, rule, file string) engine.Report {
	t.Helper()
	for _, r := range byRule(got, rule) {
		if r.FilePath == file {
			return r
		}
	}
	t.Fatalf("no %s finding in %s: %+v", rule, file, got)
	return engine.Report{}
}

// Every form is recognised, the hit is still reported, and the suppression
// names its own file, line and (redacted) text.
func TestSuppressionFormsAreReportedNotDropped(t *testing.T) {
	s := plant(7)
	s2 := plant(8)
	s3 := plant(9)
	got := runTree(t, map[string]string{
		"a/allow.sh":      "#!/bin/sh\nexport GH_TOKEN=" + s.github + " # gitleaks:allow\n",
		"b/above.env":     "# vega:ignore:aws-access-token test fixture, revoked\nAWS_ACCESS_KEY_ID=" + s.aws + "\n",
		"c/inline.env":    "AWS_ACCESS_KEY_ID=" + s2.aws + " # vega:ignore rotated in 2024\n",
		"d/other-rule.sh": "# vega:ignore:generic-api-key\nexport GH_TOKEN=" + s2.github + "\n",
		"e/listed.env":    "x=1\nAWS_ACCESS_KEY_ID=" + s3.aws + "\n",
		"f/open.sh":       "export GH_TOKEN=" + s3.github + "\n",
		// The comment two lines above is not "directly above".
		"g/far.sh": "# vega:ignore\n\nexport GH_TOKEN=" + plant(10).github + "\n",
		".gitleaksignore": "# team list\ne/listed.env:aws-access-token:2\n" +
			"deadbeef:f/open.sh:github-pat:1\n" + // a commit entry: never applies to a snapshot
			"../f/open.sh:github-pat:1\n/f/open.sh:github-pat:1\n",
	})

	allow := one(t, got, "github-pat", "a/allow.sh")
	if sup := allow.Suppression; sup == nil || sup.Kind != store.SuppressGitleaksAllow || sup.FilePath != "a/allow.sh" || sup.Line != 2 ||
		!strings.Contains(sup.Text, "gitleaks:allow") || strings.Contains(sup.Text, s.github) {
		t.Errorf("gitleaks:allow: %+v", allow.Suppression)
	}
	above := one(t, got, "aws-access-token", "b/above.env")
	if sup := above.Suppression; sup == nil || sup.Kind != store.SuppressVegaIgnore || sup.Line != 1 || sup.RuleID != "aws-access-token" ||
		sup.Reason != "test fixture, revoked" || sup.FilePath != "b/above.env" {
		t.Errorf("vega:ignore above: %+v", above.Suppression)
	}
	inline := one(t, got, "aws-access-token", "c/inline.env")
	if sup := inline.Suppression; sup == nil || sup.Kind != store.SuppressVegaIgnore || sup.Line != 1 || sup.Reason != "rotated in 2024" ||
		strings.Contains(sup.Text, s2.aws) || !strings.Contains(sup.Text, "vega:ignore") {
		t.Errorf("vega:ignore inline: %+v", inline.Suppression)
	}
	listed := one(t, got, "aws-access-token", "e/listed.env")
	if sup := listed.Suppression; sup == nil || sup.Kind != store.SuppressGitleaksIgnore || sup.FilePath != ".gitleaksignore" || sup.Line != 2 ||
		sup.Text != "e/listed.env:aws-access-token:2" {
		t.Errorf(".gitleaksignore: %+v", listed.Suppression)
	}
	for _, file := range []string{"d/other-rule.sh", "f/open.sh", "g/far.sh"} {
		if r := one(t, got, "github-pat", file); r.Suppression != nil {
			t.Errorf("%s must stay unsuppressed: %+v", file, r.Suppression)
		}
	}
}

// A suppression covers its own place only: the same secret elsewhere keeps
// the finding open, and a comment in one file never reaches another.
func TestSuppressionNeverCoversAnotherFile(t *testing.T) {
	s := plant(11)
	got := runTree(t, map[string]string{
		"a.env": "AWS_ACCESS_KEY_ID=" + s.aws + " # gitleaks:allow\n",
		"b.env": "AWS_ACCESS_KEY_ID=" + s.aws + "\n",
		// The last line of c.sh is a suppression; d.sh's first line is not covered.
		"c.sh": "echo hi\n# vega:ignore\n",
		"d.sh": "export GH_TOKEN=" + s.github + "\n",
	})
	aws := byRule(got, "aws-access-token")
	if len(aws) != 1 || aws[0].Suppression != nil || len(aws[0].Locations) != 2 {
		t.Errorf("a secret also present unsuppressed must stay open: %+v", aws)
	}
	if r := one(t, got, "github-pat", "d.sh"); r.Suppression != nil {
		t.Errorf("a comment in c.sh suppressed d.sh: %+v", r.Suppression)
	}
}

// A hostile .gitleaksignore (huge, binary, traversal strings, a symlink)
// changes nothing it should not and costs bounded work.
func TestHostileGitleaksIgnoreIsHarmless(t *testing.T) {
	s := plant(12)
	huge := strings.Repeat("x/"+strings.Repeat("a", 5000)+":github-pat:1\n", 600) + "app.sh:github-pat:1\n" // past the 1 MiB cap
	for name, content := range map[string]string{
		"huge":      huge,
		"binary":    "app.sh:github-pat:1\n\x00\x01\x02",
		"traversal": "../app.sh:github-pat:1\n../../../../etc/passwd:github-pat:1\n/app.sh:github-pat:1\n./app.sh:github-pat:x\n",
		"longline":  strings.Repeat("z", 2<<20) + "\napp.sh:github-pat:1\n",
	} {
		t.Run(name, func(t *testing.T) {
			got := runTree(t, map[string]string{".gitleaksignore": content, "app.sh": "export GH_TOKEN=" + s.github + "\n"})
			if r := one(t, got, "github-pat", "app.sh"); r.Suppression != nil {
				t.Errorf("hostile .gitleaksignore suppressed a finding: %+v", r.Suppression)
			}
		})
	}
	l := parseIgnoreFile([]byte(strings.Repeat("f:r:1\n", 20) + strings.Repeat("0123456789:r:", 1) + "2\n"))
	if len(l.global) != 2 {
		t.Errorf("duplicate entries: %d", len(l.global))
	}
}

func TestCommentTextIsCappedAndRedacted(t *testing.T) {
	s := plant(13)
	long := strings.Repeat("because ", 200)
	got := runTree(t, map[string]string{
		"x.sh": "export GH_TOKEN=" + s.github + " # vega:ignore " + long + "\n",
	})
	sup := one(t, got, "github-pat", "x.sh").Suppression
	if sup == nil {
		t.Fatal("not suppressed")
	}
	if len(sup.Text) > maxSuppressionText+len("…") || len(sup.Reason) > maxSuppressionText+len("…") || strings.Contains(sup.Text, s.github) {
		t.Errorf("text %d bytes, reason %d bytes: %q", len(sup.Text), len(sup.Reason), sup.Text)
	}
}

func TestVegaIgnoreSyntax(t *testing.T) {
	for line, want := range map[string]bool{
		"# vega:ignore":                      true,
		"// vega:ignore:github-pat why":      true,
		"/* vega:ignore:github-pat */":       true,
		"# vega:ignore:aws-access-token":     false,
		"# vega:ignored":                     false,
		"# vega:ignore-next":                 false,
		"x = 1 # nothing":                    false,
		"<!-- vega:ignore test data -->":     true,
		"# vega:ignore:github-pat\tin tests": true,
	} {
		if got := vegaIgnore(line, "github-pat") != nil; got != want {
			t.Errorf("%q: got %v, want %v", line, got, want)
		}
	}
	if r := vegaIgnore("/* vega:ignore:github-pat fixture */", "github-pat"); r.Reason != "fixture" {
		t.Errorf("reason %q", r.Reason)
	}
}
