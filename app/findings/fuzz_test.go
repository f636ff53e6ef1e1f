package findings_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/findings"
)

// FuzzNormalizePath: whatever an engine (or a model) claims as a path, the
// stored path is relative, has no "..", no backslash, and is stable.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", `..\..\win`, "/abs/x", "./a/./b/", "a/../../b", "\x00", "C:\\x", "a//b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		n := findings.NormalizePath(p)
		if n == "" {
			return
		}
		if strings.HasPrefix(n, "/") || strings.Contains(n, "\\") || strings.ContainsRune(n, 0) || !utf8.ValidString(n) {
			t.Fatalf("NormalizePath(%q) = %q", p, n)
		}
		for _, seg := range strings.Split(n, "/") {
			if seg == ".." || seg == "." || seg == "" {
				t.Fatalf("NormalizePath(%q) = %q has segment %q", p, n, seg)
			}
		}
		if again := findings.NormalizePath(n); again != n {
			t.Fatalf("not idempotent: %q → %q → %q", p, n, again)
		}
		// The fingerprint is defined for any input.
		_ = findings.Fingerprint("codex", engine.Report{Title: p, FilePath: p})
	})
}

func TestNormalizePathLong(t *testing.T) {
	long := strings.Repeat("abc/", 300) + "x.go"
	n := findings.NormalizePath(long)
	if len(n) > 1024 || findings.NormalizePath(n) != n || strings.HasSuffix(n, "/") {
		t.Fatalf("long path: len %d, idempotent %v", len(n), findings.NormalizePath(n) == n)
	}
}
