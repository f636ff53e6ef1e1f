// Package findings turns engine reports into findings (docs/findings.md): upsert
// within a scan, a fingerprint that links the same issue across scans,
// marking issues absent from a complete scan as fixed, and triage with a
// history of every status change.
package findings

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/redact"
	"github.com/vegasec/vega/store"
)

// Field caps: engine output (model output above all) is hostile, so nothing
// it says is stored unbounded.
const (
	maxTitle     = 300
	maxText      = 20000
	maxPath      = 1024
	maxLocations = 100
	maxCWE       = 10
	maxKey       = 512
)

// NormalizePath makes a repository-relative slash path: no leading "./" or
// "/", no "..", no backslashes. A path that would climb out is dropped ("").
func NormalizePath(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	// Trimming can expose a new leading "/" or "." (" / a"), so clean until
	// the result is stable: the function must be idempotent.
	for i := 0; i < 8; i++ {
		next := strings.TrimSpace(p)
		if next != "" {
			next = truncate(path.Clean("/" + next)[1:], maxPath)
		}
		if next == p {
			break
		}
		p = next
	}
	if p == "" || p == "." || strings.ContainsRune(p, 0) {
		return ""
	}
	return p
}

// normalizeTitle lowercases and collapses whitespace and punctuation so
// cosmetic rewording by a model does not create a new fingerprint.
func normalizeTitle(t string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(t) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		} else {
			space = true
		}
	}
	return b.String()
}

// Fingerprint links a finding across scans of one repository: engine,
// category (or CWEs when there is none), normalized path and normalized
// title — never line numbers, which move with every edit above.
//
// When the engine says its key is stable (the secrets engine: rule + a hash
// of the secret) the key replaces path and title. Such an engine reports one
// finding per secret wherever it occurs, with the first of its locations in
// path order as the finding's path (and in its title), so path and title
// depend on the scan's scope: the same secret scanned under paths:
// ["config"] would otherwise get another fingerprint (docs/findings.md).
func Fingerprint(engineName string, r engine.Report) string {
	if r.StableKey && r.Key != "" {
		return fingerprint("v2", engineName, findingClass(r), r.Key)
	}
	return fingerprint("v1", engineName, findingClass(r), NormalizePath(r.FilePath), normalizeTitle(r.Title))
}

// legacyFingerprint is what Fingerprint gave a stable-key report before v2
// (path and title included). Findings stored then carry it; link re-keys
// one when it is seen again. The only stable-key engine (secrets) titled its
// findings "<rule> in <path>" then; it no longer repeats the path, so the old
// title is rebuilt here.
func legacyFingerprint(engineName string, r engine.Report) string {
	title := r.Title
	if suffix := " in " + r.FilePath; r.FilePath != "" && !strings.HasSuffix(title, suffix) {
		title += suffix
	}
	return fingerprint("v1", engineName, findingClass(r), NormalizePath(r.FilePath), normalizeTitle(title), r.Key)
}

// formerFingerprint is the fingerprint a report's finding may still be
// stored under, from before an engine changed what goes into one: the v1
// recipe of a stable-key report, or the fingerprint of the title the engine
// used to write (Report.FormerTitle: Codex titles lose their path,
// docs/findings.md "Codex titles"). The recorder tries it when the current
// fingerprint finds nothing, and re-keys what it finds.
func formerFingerprint(engineName string, r engine.Report) (string, bool) {
	switch {
	case r.StableKey && r.Key != "":
		return legacyFingerprint(engineName, r), true
	case r.FormerTitle != "" && normalizeTitle(r.FormerTitle) != normalizeTitle(r.Title):
		old := r
		old.Title = r.FormerTitle
		return Fingerprint(engineName, old), true
	}
	return "", false
}

func findingClass(r engine.Report) string {
	class := strings.ToLower(strings.TrimSpace(r.Category))
	if class == "" {
		cwes := normalizeCWE(r.CWE)
		sort.Strings(cwes)
		class = strings.Join(cwes, ",")
	}
	return class
}

func fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x1f")))
	return hex.EncodeToString(sum[:16])
}

// scanKey identifies a report within one scan (docs/findings.md): the engine key
// when given, else title + file path; prefixed by the engine so two engines
// cannot collide.
func scanKey(engineName string, r engine.Report) string {
	k := r.Key
	if k == "" {
		k = "t:" + normalizeTitle(r.Title) + "\x1f" + NormalizePath(r.FilePath)
	} else {
		k = "k:" + k
	}
	k = engineName + "\x1f" + k
	if len(k) > maxKey {
		sum := sha256.Sum256([]byte(k))
		k = engineName + "\x1fh:" + hex.EncodeToString(sum[:])
	}
	return k
}

func normalizeSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if store.SeverityRank(s) >= 0 {
		return s
	}
	// An engine that cannot name a severity still found something: medium
	// keeps it visible without ranking it above real criticals.
	return store.SeverityMedium
}

func normalizeConfidence(c string) string {
	switch c = strings.ToLower(strings.TrimSpace(c)); c {
	case "high", "medium", "low":
		return c
	}
	return "low"
}

func normalizeCWE(in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, c := range in {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if !strings.HasPrefix(c, "CWE-") {
			c = "CWE-" + c
		}
		if len(c) > 16 || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
		if len(out) == maxCWE {
			break
		}
	}
	return out
}

func truncate(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func clampLines(start, end int) (int, int) {
	if start < 0 {
		start = 0
	}
	if end < start {
		end = start
	}
	return start, end
}

// clampColumns keeps a span only when it is well formed: columns are
// 1-based and, on one line, the end is not before the start. A secret
// location without a usable span keeps Secret, so code views mask its
// whole lines instead (docs/redaction.md, "Code views").
func clampColumns(l store.Location) (int, int) {
	if l.StartLine < 1 || l.StartColumn < 1 || l.EndColumn < 1 || (l.StartLine == l.EndLine && l.EndColumn < l.StartColumn) {
		return 0, 0
	}
	return l.StartColumn, l.EndColumn
}

// sanitize returns the report with every field bounded and normalized.
func sanitize(r engine.Report) engine.Report {
	r.Title = truncate(strings.TrimSpace(r.Title), maxTitle)
	if r.Title == "" {
		r.Title = "Untitled finding"
	}
	// Bounded as Title was when findings were fingerprinted with it.
	r.FormerTitle = truncate(strings.TrimSpace(r.FormerTitle), maxTitle)
	r.Severity = normalizeSeverity(r.Severity)
	r.Confidence = normalizeConfidence(r.Confidence)
	r.Category = truncate(strings.TrimSpace(r.Category), 100)
	r.CWE = normalizeCWE(r.CWE)
	r.FilePath = NormalizePath(r.FilePath)
	r.StartLine, r.EndLine = clampLines(r.StartLine, r.EndLine)
	// Every engine's text passes the shared redaction before it is stored,
	// whatever the engine did itself (it may know more: the secrets engine
	// shows a detected secret's prefix). Redaction is idempotent, so text an
	// engine already redacted is unchanged; it runs before the cut so a cut
	// never hides a secret from it. The title is left alone: it is part of
	// the fingerprint, and engines keep secrets out of titles.
	r.Description = truncate(redact.Text(r.Description), maxText)
	r.Evidence = truncate(redact.Text(r.Evidence), maxText)
	r.Recommendation = truncate(redact.Text(r.Recommendation), maxText)
	r.Suppression = sanitizeSuppression(r.Suppression, r)
	locs := make([]store.Location, 0, len(r.Locations))
	for _, l := range r.Locations {
		if len(locs) == maxLocations {
			break
		}
		l.FilePath = NormalizePath(l.FilePath)
		if l.FilePath == "" {
			continue
		}
		l.StartLine, l.EndLine = clampLines(l.StartLine, l.EndLine)
		l.StartColumn, l.EndColumn = clampColumns(l)
		l.Role = truncate(l.Role, 50)
		l.Note = truncate(redact.Text(l.Note), 1000)
		locs = append(locs, l)
	}
	r.Locations = locs
	return r
}

// InScope reports whether a repository path lies under one of the scope
// paths (every path when there is no scope).
func InScope(p string, scope []string) bool {
	if len(scope) == 0 {
		return true
	}
	for _, s := range scope {
		s = NormalizePath(s)
		if s == "" || p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}
