package match

import "sort"

// loc is gitleaks' Location (detect/location.go), computed with a binary
// search over the segment's newline offsets instead of a scan of all of
// them per match: the same numbers, without the quadratic cost on large
// segments.
type loc struct {
	startLine, endLine       int
	startColumn, endColumn   int
	startLineIndex, endIndex int
}

// newlineIndex lists the offsets of every '\n' in raw.
func newlineIndex(raw string) []int {
	var nl []int
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\n' {
			nl = append(nl, i)
		}
	}
	return nl
}

// location mirrors gitleaks' location(newlineIndices, raw, matchIndex),
// including its conventions (0-based line relative to the fragment, a
// column counted from the preceding newline). One deliberate difference:
// on an unterminated last line gitleaks starts the evidence line at the
// fragment's first byte; here it starts at the line.
func location(nl []int, raw string, start, end int) loc {
	p := nl
	if len(p) == 0 {
		p = []int{len(raw)}
	}
	last := p[len(p)-1]
	var l loc
	if start < last {
		si := sort.SearchInts(p, start+1) // newlines at or before start
		prev := 0
		if si > 0 {
			prev = p[si-1]
		}
		l.startLine, l.endLine = si, si
		l.startColumn = start - prev + 1
		l.startLineIndex = prev
		l.endIndex = p[si]
		if end > 0 && end <= last {
			ei := sort.SearchInts(p, end) // newlines before end
			eprev := 0
			if ei > 0 {
				eprev = p[ei-1]
			}
			l.endColumn = end - eprev
			if ei >= si {
				l.endLine = ei
				l.endIndex = p[ei]
			}
		}
		return l
	}
	l.startColumn = start - last + 1
	l.endColumn = end - last
	l.startLine, l.endLine = len(p), len(p)
	l.startLineIndex = last
	if len(nl) == 0 {
		l.startLineIndex = 0
	}
	i := end
	for i < len(raw) && raw[i] != '\n' && raw[i] != '\r' {
		i++
	}
	l.endIndex = i
	return l
}
