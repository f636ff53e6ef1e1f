package codex

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/engine"
)

// TestTitleWithoutPath: titles as models write them lose the finding's own
// path (issue 12: the Location column shows it), whatever form it takes,
// and keep everything else, other paths included.
func TestTitleWithoutPath(t *testing.T) {
	const rel, cat = "app/api/db.py", "sql_injection"
	cases := []struct{ title, want string }{
		// Nothing to strip: returned byte for byte.
		{"SQL injection in find_user", "SQL injection in find_user"},
		{"  odd  spacing, kept  ", "  odd  spacing, kept  "},
		// "in/at/within … path", with the file's forms.
		{"SQL injection in app/api/db.py", "SQL injection"},
		{"SQL injection in ./app/api/db.py", "SQL injection"},
		{"SQL injection in `app/api/db.py`", "SQL injection"},
		{`SQL injection in "app/api/db.py"`, "SQL injection"},
		{"SQL injection in the file app/api/db.py", "SQL injection"},
		{"SQL injection within app/api/db.py.", "SQL injection."},
		{"SQL injection in app/api/db.py allows reading every user", "SQL injection allows reading every user"},
		{"SQL injection in find_user in app/api/db.py", "SQL injection in find_user"},
		{"In app/api/db.py: SQL injection", "SQL injection"},
		// Line references glued to the path or after it.
		{"SQL injection (app/api/db.py:12)", "SQL injection"},
		{"SQL injection (app/api/db.py:12-20)", "SQL injection"},
		{"SQL injection [app/api/db.py#L12-L20]", "SQL injection"},
		{"SQL injection (app/api/db.py, line 12)", "SQL injection"},
		{"SQL injection (in app/api/db.py lines 12 to 20)", "SQL injection"},
		{"SQL injection in find_user (app/api/db.py:12), reachable from /users", "SQL injection in find_user, reachable from /users"},
		{"SQL injection at app/api/db.py:12:5", "SQL injection"},
		{"SQL injection at line 12 of app/api/db.py", "SQL injection"},
		// The path as a prefix or suffix with a separator.
		{"app/api/db.py: SQL injection", "SQL injection"},
		{"app/api/db.py:12: SQL injection", "SQL injection"},
		{"app/api/db.py — SQL injection", "SQL injection"},
		{"[app/api/db.py] SQL injection", "SQL injection"},
		{"SQL injection - app/api/db.py", "SQL injection"},
		{"SQL injection | app/api/db.py:12", "SQL injection"},
		// The file name alone (it has an extension).
		{"SQL injection at db.py line 12", "SQL injection"},
		{"SQL injection in db.py", "SQL injection"},
		{"db.py: SQL injection", "SQL injection"},
		// Twice.
		{"app/api/db.py: SQL injection in app/api/db.py", "SQL injection"},
		// Not the finding's path: another file, a longer path, a longer name.
		{"SSRF in app/api/db.py reaching app/api/http.py", "SSRF reaching app/api/http.py"},
		{"Secrets in app/api/db.py.bak", "Secrets in app/api/db.py.bak"},
		{"Secrets in vendor/app/api/db.py", "Secrets in vendor/app/api/db.py"},
		{"Unsafe query in old_db.py", "Unsafe query in old_db.py"},
		{"Unsafe query in db.pyc", "Unsafe query in db.pyc"},
		{"SQL injection in other/db.py", "SQL injection in other/db.py"},
		// Removing the path would leave the sentence dangling: kept.
		{"app/api/db.py builds SQL from input", "app/api/db.py builds SQL from input"},
		// Nothing but the path: the category.
		{"app/api/db.py", "Sql injection"},
		{"`app/api/db.py:12`", "Sql injection"},
		{"In app/api/db.py", "Sql injection"},
		// Hostile: regexp metacharacters, unicode, unbalanced brackets.
		{"SQL (injection) in app/api/db.py (", "SQL (injection)"},
		{"Injection SQL — app/api/db.py …", "Injection SQL …"},
		{"Überlauf in app/api/db.py: schlimm", "Überlauf: schlimm"},
		{"SQL injection in app/api/db.py.*+?", "SQL injection.*+?"},
	}
	for _, c := range cases {
		if got := titleWithoutPath(c.title, rel, cat); got != c.want {
			t.Errorf("titleWithoutPath(%q) = %q, want %q", c.title, got, c.want)
		}
	}
	// Without a category a bare path stays as it was: never empty.
	if got := titleWithoutPath("app/api/db.py:12", rel, ""); got != "app/api/db.py:12" {
		t.Errorf("bare path without category = %q", got)
	}
	// A file name without an extension could be a word of the title: only
	// the full path is stripped.
	if got := titleWithoutPath("Shell injection in Makefile target", "Makefile", "x"); got != "Shell injection in Makefile target" {
		t.Errorf("bare file name: %q", got)
	}
	if got := titleWithoutPath("Shell injection in build/Makefile", "build/Makefile", "x"); got != "Shell injection" {
		t.Errorf("path of a file without extension: %q", got)
	}
	// Special characters in the path itself are literal.
	if got := titleWithoutPath("XSS in web/(a+b)[1].tsx:3", "web/(a+b)[1].tsx", "xss"); got != "XSS" {
		t.Errorf("path with metacharacters: %q", got)
	}
}

// TestToReportStripsThePathFromTheTitle: toReport reports the stripped title
// and keeps the one the model wrote as FormerTitle, which the recorder uses
// to find findings stored before (app/findings, TestFormerTitleIsReKeyed).
// With and without the path the two reports are one finding in the scan.
func TestToReportStripsThePathFromTheTitle(t *testing.T) {
	tr := newTree(vulnerableTree(t))
	rf := func(title string) rawFinding {
		return rawFinding{Title: title, Severity: "high", Category: "SQL_Injection", FilePath: "./app/db.py", StartLine: 5, EndLine: 5}
	}
	with, why := toReport(rf("SQL injection in app/db.py:5"), tr, filter{threshold: -1}, "")
	if why != "" {
		t.Fatal(why)
	}
	if with.Title != "SQL injection" || with.FormerTitle != "SQL injection in app/db.py:5" || with.FilePath != "app/db.py" {
		t.Errorf("title %q, former %q, path %q", with.Title, with.FormerTitle, with.FilePath)
	}
	without, _ := toReport(rf("SQL injection"), tr, filter{threshold: -1}, "")
	if without.Title != "SQL injection" || without.FormerTitle != "" {
		t.Errorf("a title without the path: %q, former %q", without.Title, without.FormerTitle)
	}
	if with.Key != without.Key {
		t.Errorf("keys differ: %s %s", with.Key, without.Key)
	}
	bare, _ := toReport(rf("app/db.py"), tr, filter{threshold: -1}, "")
	if bare.Title != "Sql injection" || bare.FormerTitle != "app/db.py" {
		t.Errorf("a title that was only the path: %q, former %q", bare.Title, bare.FormerTitle)
	}
	// The model cannot set FormerTitle: the audit schema has no such field
	// and the report does not decode one.
	var r engine.Report
	if err := json.Unmarshal([]byte(`{"title":"x","FormerTitle":"y","former_title":"y"}`), &r); err != nil || r.FormerTitle != "" {
		t.Errorf("FormerTitle decoded from model output: %q %v", r.FormerTitle, err)
	}
}

// TestAuditPromptForbidsPathsInTitles: the model is told why, so most titles
// arrive without the path and stripping is the exception.
func TestAuditPromptForbidsPathsInTitles(t *testing.T) {
	p, err := renderPrompt(StageAudit, promptData{Exclusions: DefaultExclusions, Component: component{Name: "db", Paths: []string{"app/db.py"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p, "The title must not contain the file path") {
		t.Errorf("audit prompt does not forbid paths in titles:\n%s", p)
	}
}
