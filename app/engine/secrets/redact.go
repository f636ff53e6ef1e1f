package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxEvidenceBytes bounds the evidence line: minified files put a whole
// program on one line and the finding only needs the neighbourhood.
const maxEvidenceBytes = 400

// redact replaces a secret with its first few characters, an ellipsis and its
// length, e.g. "AKIA…[20 chars]". Four characters are shown for secrets of
// 16 characters or more; shorter ones show a quarter of their length, so a
// short password is never half-disclosed.
func redact(secret string) string {
	n := utf8.RuneCountInString(secret)
	show := 4
	if n < 16 {
		show = n / 4
	}
	prefix := []rune(secret)[:show]
	return fmt.Sprintf("%s…[%d chars]", string(prefix), n)
}

// secretKey is the stable identity of a secret: rule id plus a short hash, so
// the same credential found again in a later scan maps to the same finding.
// The hash is domain-separated so it cannot be compared with plain SHA-256
// digests of the value published elsewhere.
func secretKey(ruleID, secret string) string {
	sum := sha256.Sum256([]byte("vega/secrets/v1\x00" + secret))
	return ruleID + ":" + hex.EncodeToString(sum[:8])
}

// redactLine returns line with every secret in secrets redacted. secrets
// holds every value found in the same file, so a line carrying two
// credentials never leaks the other one. When a secret of the finding cannot
// be located verbatim in the line (decoded or otherwise transformed matches)
// the line is withheld altogether rather than risk showing an encoded form.
func redactLine(line, own string, secrets []string) string {
	line = strings.Trim(line, "\r\n")
	if own != "" && !strings.Contains(line, own) {
		return "[line withheld: the secret could not be located for redaction]"
	}
	// Longest first, so a secret that contains another is replaced whole.
	sorted := append([]string(nil), secrets...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, s := range sorted {
		if s == "" {
			continue
		}
		line = strings.ReplaceAll(line, s, redact(s))
	}
	return truncateAround(line, strings.Index(line, "…["))
}

// truncateAround cuts s to about maxEvidenceBytes around byte offset at,
// on rune boundaries, marking cuts with "…".
func truncateAround(s string, at int) string {
	if len(s) <= maxEvidenceBytes {
		return s
	}
	if at < 0 {
		at = 0
	}
	start := at - maxEvidenceBytes/3
	if start < 0 {
		start = 0
	}
	end := start + maxEvidenceBytes
	if end > len(s) {
		end = len(s)
	}
	for start > 0 && !utf8.RuneStart(s[start]) {
		start--
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	out := s[start:end]
	if start > 0 {
		out = "…" + out
	}
	if end < len(s) {
		out += "…"
	}
	return out
}
