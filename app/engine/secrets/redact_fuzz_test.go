package secrets

import (
	"strings"
	"testing"
)

// FuzzRedactLine checks the one property that matters: whatever the line
// around it, a token-like secret never survives redaction, alone or next to
// a second secret of the same file.
func FuzzRedactLine(f *testing.F) {
	f.Add("export TOKEN=", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", " # ok", "AKIAABCDEFGHIJKLMNOP")
	f.Add(strings.Repeat("é", 300), "abababababababab", strings.Repeat("x", 600), "babababababababa")
	f.Fuzz(func(t *testing.T, before, secret, after, other string) {
		if !tokenLike(secret) || !tokenLike(other) {
			t.Skip()
		}
		line := before + secret + after + " " + other
		got := redactLine(line, secret, []string{secret, other})
		if strings.Contains(got, secret) || strings.Contains(got, other) {
			t.Fatalf("secret survived redaction: %q", got)
		}
	})
}

// tokenLike limits secrets to the alphabet real credentials use; the
// redaction marker's own characters ("…[] chars") are not in it.
func tokenLike(s string) bool {
	if len(s) < 8 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+/=_-.", r)) {
			return false
		}
	}
	return true
}
