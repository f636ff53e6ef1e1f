package secrets

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vegasec/vega/app/redact"
	"github.com/vegasec/vega/store"
)

// In-source suppressions (docs/findings.md, "In-source suppressions"). The
// engine never drops a suppressed hit: it marks it, and the recorder decides
// whether the project honours suppressions. The scanned repository is
// hostile, so everything read here is capped, and a comment only ever
// covers the file it is written in.
const (
	allowSignature  = "gitleaks:allow"
	ignoreSignature = "vega:ignore"
	ignoreFileName  = ".gitleaksignore"

	// maxSuppressionText caps the comment or entry kept on a finding.
	maxSuppressionText = 200
	// maxIgnoreFileBytes and maxIgnoreEntries cap what is read of
	// .gitleaksignore; the rest is ignored.
	maxIgnoreFileBytes = 1 << 20
	maxIgnoreEntries   = 10000
)

// ignoreEntry is one usable .gitleaksignore line.
type ignoreEntry struct {
	line int    // line number in .gitleaksignore
	text string // the entry, capped
}

// ignoreList holds the global fingerprints (file:rule:line) of the root
// .gitleaksignore. As in a gitleaks dir scan, commit fingerprints
// (commit:file:rule:line) are recognised but never match: a snapshot has no
// commit (docs/secrets-engine.md).
type ignoreList struct {
	global  map[string]ignoreEntry
	commits int
}

// parseIgnoreFile reads .gitleaksignore content the way gitleaks does
// (trimmed lines, # comments, backslashes in paths made forward slashes),
// skipping anything that is not text or not a fingerprint.
func parseIgnoreFile(data []byte) *ignoreList {
	l := &ignoreList{global: map[string]ignoreEntry{}}
	if len(data) > maxIgnoreFileBytes {
		data = data[:maxIgnoreFileBytes]
	}
	if bytes.IndexByte(data[:min(len(data), binarySniffBytes)], 0) >= 0 {
		return l // binary: not an ignore file
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxIgnoreFileBytes)
	n := 0
	for sc.Scan() && len(l.global) < maxIgnoreEntries {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || !utf8.ValidString(line) || strings.IndexByte(line, 0) >= 0 {
			continue
		}
		parts := strings.Split(line, ":")
		switch len(parts) {
		case 3:
			if _, err := strconv.Atoi(parts[2]); err != nil {
				continue
			}
			parts[0] = strings.ReplaceAll(parts[0], `\`, "/")
			l.global[strings.Join(parts, ":")] = ignoreEntry{line: n, text: capText(line)}
		case 4:
			l.commits++
		}
	}
	return l
}

// match returns the suppression for a hit of rule at file:line, or nil.
func (l *ignoreList) match(file, rule string, line int) *store.Suppression {
	if l == nil {
		return nil
	}
	e, ok := l.global[file+":"+rule+":"+strconv.Itoa(line)]
	if !ok {
		return nil
	}
	// The entry that matched is a path already shown on the finding, a rule
	// ID and a number: nothing to redact (and redaction would mangle it).
	return &store.Suppression{Kind: store.SuppressGitleaksIgnore, FilePath: ignoreFileName, Line: e.line,
		Text: e.text, RuleID: rule}
}

// lineSource gives the text of a line of one segment by its number.
type lineSource struct {
	raw       string
	startLine int
	starts    []int // offsets of line starts, built on first use
}

func (s *lineSource) line(n int) (string, bool) {
	if s.starts == nil {
		s.starts = []int{0}
		for i := 0; i < len(s.raw); i++ {
			if s.raw[i] == '\n' {
				s.starts = append(s.starts, i+1)
			}
		}
	}
	i := n - s.startLine
	if i < 0 || i >= len(s.starts) {
		return "", false
	}
	end := len(s.raw)
	if i+1 < len(s.starts) {
		end = s.starts[i+1] - 1
	}
	return strings.TrimRight(s.raw[s.starts[i]:end], "\r"), true
}

// inlineSuppression looks for gitleaks:allow on the lines of the match (as
// gitleaks does) and vega:ignore on them or on the line directly above.
// secrets are every secret of the file, redacted from the kept text.
func inlineSuppression(src *lineSource, rel, rule string, start, end int, secrets []string) *store.Suppression {
	for n := start; n <= end && n-start < 64; n++ {
		l, ok := src.line(n)
		if !ok {
			break
		}
		if sup := vegaIgnore(l, rule); sup != nil {
			sup.FilePath, sup.Line, sup.Text, sup.Reason = rel, n, commentText(l, secrets), commentText(sup.Reason, secrets)
			return sup
		}
		if strings.Contains(l, allowSignature) {
			return &store.Suppression{Kind: store.SuppressGitleaksAllow, FilePath: rel, Line: n, Text: commentText(l, secrets)}
		}
	}
	if l, ok := src.line(start - 1); ok {
		if sup := vegaIgnore(l, rule); sup != nil {
			sup.FilePath, sup.Line, sup.Text, sup.Reason = rel, start-1, commentText(l, secrets), commentText(sup.Reason, secrets)
			return sup
		}
	}
	return nil
}

// vegaIgnore parses "vega:ignore[:RULE-ID] [reason]" in line. A comment
// naming another rule does not apply.
func vegaIgnore(line, rule string) *store.Suppression {
	i := strings.Index(line, ignoreSignature)
	if i < 0 {
		return nil
	}
	rest := line[i+len(ignoreSignature):]
	ruleID := ""
	if strings.HasPrefix(rest, ":") {
		rest = rest[1:]
		j := strings.IndexAny(rest, " \t")
		if j < 0 {
			j = len(rest)
		}
		ruleID, rest = rest[:j], rest[j:]
		if ruleID != "" && ruleID != rule {
			return nil
		}
	} else if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return nil // "vega:ignored", "vega:ignore-me": not the marker
	}
	reason := strings.TrimSpace(rest)
	if len(reason) > 4*maxSuppressionText {
		reason = reason[:4*maxSuppressionText] // capped again after redaction
	}
	// Drop a trailing block-comment close so "/* vega:ignore why */" reads well.
	for _, end := range []string{"*/", "-->", "#}"} {
		reason = strings.TrimSpace(strings.TrimSuffix(reason, end))
	}
	return &store.Suppression{Kind: store.SuppressVegaIgnore, RuleID: ruleID, Reason: capText(reason)}
}

// commentText is the suppressing line as kept on the finding: every secret
// of the file and anything secret-looking redacted, then capped.
func commentText(line string, secrets []string) string {
	return capText(redact.Evidence(strings.TrimSpace(line), "", secrets))
}

func capText(s string) string {
	if len(s) <= maxSuppressionText {
		return s
	}
	cut := maxSuppressionText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
