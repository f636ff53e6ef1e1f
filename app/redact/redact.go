// Package redact masks credentials in text that people and exports see:
// finding evidence, scan logs, and the model output kept for diagnosis.
//
// Text is the one function every engine and surface uses. It masks, in
// order: values a detector already found (shown as a short prefix and a
// length, so triage can still tell two keys apart), private-key blocks,
// well-known token formats, passwords in URL userinfo, values assigned to
// names that say secret/password/token/key/credential/auth/private, and any
// other high-entropy token. Everything it does not recognise is left as is,
// so an evidence line keeps its key names and structure. The rules and the
// reasoning behind them are in docs/redaction.md.
package redact

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Marker replaces a value found by context (name, URL, entropy, format)
// rather than by a detector: nothing of it is shown.
const Marker = "[redacted]"

// Secret shows a detected secret as its first characters, an ellipsis and
// its length, e.g. "AKIA…[20 chars]". Four characters are shown for secrets
// of 16 characters or more; shorter ones show a quarter of their length, so a
// short password is never half-disclosed.
func Secret(secret string) string {
	n := utf8.RuneCountInString(secret)
	show := 4
	if n < 16 {
		show = n / 4
	}
	prefix := []rune(secret)[:show]
	return fmt.Sprintf("%s…[%d chars]", string(prefix), n)
}

// secretForm matches the output of Secret at the start of a string.
var secretForm = regexp.MustCompile(`^[^\s…]{0,4}…\[\d+ chars\]`)

// masked reports whether s starts with a mask this package wrote, so a
// second pass leaves it alone (Text is idempotent).
func masked(s string) bool {
	head := s[:min(len(s), 40)]
	return strings.HasPrefix(s, Marker) || strings.Contains(head, "…[") && secretForm.MatchString(head)
}

// Text returns s with every credential it recognises masked. known are
// values a detector found in the same source (all of them, so a line holding
// two credentials never shows the other one); they are shown with Secret.
// Text is idempotent and never panics, whatever s holds.
func Text(s string, known ...string) string {
	s = replaceKnown(s, known)
	s = maskPrivateKeys(s)
	s = maskFormats(s)
	if !strings.Contains(s, "\n") {
		return maskLine(s)
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = maskLine(l)
	}
	return strings.Join(lines, "\n")
}

// maskLine applies the context rules, which read one line at a time.
func maskLine(l string) string {
	l = maskURLPasswords(l)
	l = maskAssignments(l)
	return maskHighEntropy(l)
}

// replaceKnown replaces every known secret, longest first so a secret that
// contains another is replaced whole.
func replaceKnown(s string, known []string) string {
	if len(known) == 0 {
		return s
	}
	sorted := append([]string(nil), known...)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for i, k := range sorted {
		if k != "" && (i == 0 || k != sorted[i-1]) && strings.Contains(s, k) {
			s = strings.ReplaceAll(s, k, Secret(k))
		}
	}
	return s
}

// knownFormats are credentials recognisable by their shape alone, whatever
// surrounds them (a model quoting one in prose, a log line). Each starts with
// a literal, which the regexp engine finds without scanning every position;
// the word boundary before it is checked by maskFormats.
var knownFormats = func() []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range []string{
		`sk-[A-Za-z0-9_\-]{16,}`, `rk-[A-Za-z0-9_\-]{16,}`, `pk-[A-Za-z0-9_\-]{16,}`, // OpenAI, Anthropic
		`sk_(?:live|test)_[A-Za-z0-9]{16,}`, `rk_(?:live|test)_[A-Za-z0-9]{16,}`, // Stripe
		`AKIA[0-9A-Z]{16}\b`, `ASIA[0-9A-Z]{16}\b`, // AWS access key IDs
		`gh[pousr]_[A-Za-z0-9]{30,}`, `github_pat_[A-Za-z0-9_]{22,}`, // GitHub
		`glpat-[A-Za-z0-9_\-]{20,}`,                                     // GitLab
		`xox[abpr]-[A-Za-z0-9\-]{10,}`,                                  // Slack
		`AIza[0-9A-Za-z_\-]{35}`,                                        // Google API keys
		`npm_[A-Za-z0-9]{36}`,                                           // npm
		`eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*`, // JWT
	} {
		out = append(out, regexp.MustCompile(p))
	}
	return out
}()

// maskFormats replaces every known-format credential that starts a word.
func maskFormats(s string) string {
	for _, re := range knownFormats {
		var spans [][2]int
		for _, m := range re.FindAllStringIndex(s, -1) {
			if m[0] == 0 || !isWordByte(s[m[0]-1]) {
				spans = append(spans, [2]int{m[0], m[1]})
			}
		}
		s = replaceSpans(s, spans)
	}
	return s
}

// replaceSpans returns s with each span (in order, not overlapping)
// replaced by Marker.
func replaceSpans(s string, spans [][2]int) string {
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	done := 0
	for _, sp := range spans {
		b.WriteString(s[done:sp[0]])
		b.WriteString(Marker)
		done = sp[1]
	}
	b.WriteString(s[done:])
	return b.String()
}

// privateKey matches a PEM private-key header; its body runs to the footer
// or, when the text was cut, to the end.
var (
	privateKeyHeader = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`)
	privateKeyFooter = regexp.MustCompile(`-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`)
)

// maskPrivateKeys keeps the BEGIN/END lines (useful for triage) and replaces
// the key material between them.
func maskPrivateKeys(s string) string {
	if !strings.Contains(s, "PRIVATE KEY") {
		return s
	}
	var b strings.Builder
	for {
		h := privateKeyHeader.FindStringIndex(s)
		if h == nil {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:h[1]])
		rest := s[h[1]:]
		end := len(rest)
		if f := privateKeyFooter.FindStringIndex(rest); f != nil {
			end = f[0]
		}
		if body := strings.TrimSpace(rest[:end]); body != "" && body != Marker {
			b.WriteString(Marker)
		} else {
			b.WriteString(rest[:end])
		}
		s = rest[end:]
	}
}
