package redact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sourceText is this repository's own Go code (tests excluded): real
// identifiers, paths, and the occasional secret-named variable.
func sourceText(b testing.TB) string {
	b.Helper()
	var sb strings.Builder
	files, _ := filepath.Glob("../../app/*/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue // test vectors are random on purpose
		}
		data, err := os.ReadFile(f)
		if err == nil {
			sb.Write(data)
		}
	}
	if sb.Len() < 100_000 {
		b.Fatalf("only %d bytes of source", sb.Len())
	}
	return sb.String()
}

// BenchmarkText measures the one redaction function on the text it sees:
// source code (evidence windows, model quotes) and Codex's JSONL output.
// The baseline is what evidence redaction did before (known values only).
func BenchmarkText(b *testing.B) {
	src := sourceText(b)
	jsonl := strings.Repeat(`{"type":"item.completed","item":{"id":"item_3","type":"command_execution","command":"cat config/settings.py","aggregated_output":"API_KEY = \"abc\"\nDEBUG = True\nDATABASE_URL = \"postgres://app:pw@db/app\"\n","exit_code":0}}`+"\n", 2000)
	for _, c := range []struct {
		name string
		in   string
		fn   func(string) string
	}{
		{"source/known-only-baseline", src, func(s string) string { return replaceKnown(s, []string{"AKIAQYLPMN5HHHFPAAAF"}) }},
		{"source/Text", src, func(s string) string { return Text(s, "AKIAQYLPMN5HHHFPAAAF") }},
		{"codex-jsonl/Text", jsonl, func(s string) string { return Text(s) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			for b.Loop() {
				c.fn(c.in)
			}
		})
	}
}

// BenchmarkEvidence is the per-hit cost in the secrets engine: a short
// line, and a 1 MB minified line where only a window is masked.
func BenchmarkEvidence(b *testing.B) {
	own := "AKIAQYLPMN5HHHFPAAAF"
	short := `{"aws_access_key_id":"` + own + `","aws_secret_access_key":"8dyX8dyX8dyX8dyX8dyX"}`
	long := strings.Repeat(`a.b(c,"d");`, 100_000) + short + strings.Repeat(`e.f(g);`, 100_000)
	for name, line := range map[string]string{"short": short, "minified-1MB": long} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Evidence(line, own, []string{own})
			}
		})
	}
}
