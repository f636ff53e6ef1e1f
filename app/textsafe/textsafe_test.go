package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		in, want, problem string
	}{
		{"  shop  ", "shop", ""},
		{"Ünïcödé 名前 😀", "Ünïcödé 名前 😀", ""},
		{"می\u200cخواهم", "می\u200cخواهم", ""}, // ZWNJ is part of Persian spelling
		{"👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧", ""},
		{"", "", "is required"},
		{"   ", "", "is required"},
		{strings.Repeat("x", 201), strings.Repeat("x", 201), "must be at most 200 characters"},
		{"bad\xffutf8", "bad\xffutf8", "must be valid UTF-8"},
		{"invoice\u202Etxt.exe", "invoice\u202Etxt.exe", ProblemInvisible}, // RIGHT-TO-LEFT OVERRIDE
		{"a\u202Ab", "a\u202Ab", ProblemInvisible},
		{"a\u2066b\u2069", "a\u2066b\u2069", ProblemInvisible}, // isolates
		{"a\u200Fb", "a\u200Fb", ProblemInvisible},             // RLM
		{"a\u200Bb", "a\u200Bb", ProblemInvisible},             // zero-width space
		{"a\uFEFFb", "a\uFEFFb", ProblemInvisible},             // BOM
		{"a\nb", "a\nb", ProblemInvisible},
		{"a\tb", "a\tb", ProblemInvisible},
		{"a\x1b[31mb", "a\x1b[31mb", ProblemInvisible},
		{"a\u0085b", "a\u0085b", ProblemInvisible}, // C1 NEL
		{"a\u2028b", "a\u2028b", ProblemInvisible},
		{"\u200d\u200c", "\u200d\u200c", "must contain a visible character"},
	} {
		got, problem := Name(tc.in, MaxName)
		if got != tc.want || problem != tc.problem {
			t.Errorf("Name(%q) = %q, %q; want %q, %q", tc.in, got, problem, tc.want, tc.problem)
		}
	}
	if _, p := Name(strings.Repeat("é", 200), MaxName); p != "" {
		t.Errorf("200 two-byte characters refused: %s", p)
	}
}

func TestText(t *testing.T) {
	if got, p := Text(" line one\n\tline two\r\n ", 5000); p != "" || got != "line one\n\tline two" {
		t.Fatalf("multi-line text: %q %q", got, p)
	}
	if _, p := Text("", 10); p != "" {
		t.Fatalf("empty text refused: %s", p)
	}
	if _, p := Text("see \u202Eexe.txt", 5000); p != ProblemInvisible {
		t.Fatalf("bidi override in text: %q", p)
	}
	if _, p := Text(strings.Repeat("x", 11), 10); p == "" {
		t.Fatal("over-long text accepted")
	}
}

func TestEcho(t *testing.T) {
	long := "repo_" + strings.Repeat("A", 10_000)
	got := Echo(long)
	if utf8.RuneCountInString(got) != MaxEcho+1 || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "repo_AAA") {
		t.Fatalf("Echo of a 10 KB id: %d runes %q", utf8.RuneCountInString(got), got)
	}
	if got := Echo("prj_01J\u202Eevil\x00\xff"); got != "prj_01J\uFFFDevil\uFFFD\uFFFD" {
		t.Fatalf("Echo did not neutralise invisible characters: %q", got)
	}
	if got := Echo("repo_01J0000000000000000000000X"); got != "repo_01J0000000000000000000000X" {
		t.Fatalf("Echo changed an ordinary id: %q", got)
	}
}
