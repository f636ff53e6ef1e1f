package findings

import (
	"strings"
	"testing"

	"github.com/vegasec/vega/store"
)

func TestExcerptMasksEverySecretSpan(t *testing.T) {
	const key = "AKIAQYLPMN5HHHFPZAM2"
	lines := []string{
		"import os",
		"é😀 A = '" + key + "'; B = '" + key + "'",
		"-----BEGIN KEY-----",
		"MIIEabcdefghijklmnop",
		"qrstuvwx",
		"-----END KEY-----",
		"password = hunter2",
	}
	locs := []store.Location{
		{FilePath: "a.py", StartLine: 2, EndLine: 2, StartColumn: 9, EndColumn: 28, Secret: true},
		{FilePath: "a.py", StartLine: 2, EndLine: 2, StartColumn: 37, EndColumn: 56, Secret: true},
		{FilePath: "a.py", StartLine: 2, EndLine: 2, StartColumn: 12, EndColumn: 20, Secret: true}, // overlaps the first: skipped
		{FilePath: "a.py", StartLine: 4, EndLine: 5, StartColumn: 1, EndColumn: 8, Secret: true},
		{FilePath: "a.py", StartLine: 7, EndLine: 7, Secret: true},                               // no columns: the whole line
		{FilePath: "b.py", StartLine: 1, EndLine: 1, StartColumn: 1, EndColumn: 6, Secret: true}, // another file
		{FilePath: "a.py", StartLine: 1, EndLine: 1, StartColumn: 1, EndColumn: 6},               // not a secret
	}
	got, spans := excerpt(lines, 1, 7, secretSpansIn(locs, "a.py", false), true)
	want := []string{
		"import os",
		"é😀 A = 'AKIA…[20 chars]'; B = 'AKIA…[20 chars]'",
		"-----BEGIN KEY-----",
		"MIIE…[29 chars]",
		"…",
		"-----END KEY-----",
		"pass…[18 chars]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("masked:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Contains(strings.Join(got, "\n"), "hunter2") || strings.Contains(strings.Join(got, "\n"), key[4:]) {
		t.Fatal("a secret survived")
	}
	// The spans point at the masks, in code points.
	for _, sp := range spans {
		r := []rune(got[sp.StartLine-1])
		m := string(r[sp.StartColumn-1 : sp.EndColumn])
		if m != "…" && !strings.Contains(m, "…[") {
			t.Errorf("span %+v covers %q, not a mask", sp, m)
		}
	}
	if len(spans) != 5 {
		t.Errorf("want 5 mask spans, got %d: %+v", len(spans), spans)
	}
	// Revealed: the text is untouched and the spans are the secrets'.
	raw, rs := excerpt(lines, 2, 2, secretSpansIn(locs, "a.py", false), false)
	if raw[0] != lines[1] || len(rs) != 2 || string([]rune(raw[0])[rs[1].StartColumn-1:rs[1].EndColumn]) != key {
		t.Errorf("revealed %q spans %+v", raw, rs)
	}
}
