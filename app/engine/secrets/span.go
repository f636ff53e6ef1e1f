package secrets

import (
	"strings"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/report"
)

// span is where a detected secret lies in its file: 1-based lines and
// 1-based Unicode code point columns, end inclusive (store.Location). Code
// views mask exactly this range (docs/redaction.md, "Code views").
type span struct {
	startLine, startColumn, endLine, endColumn int
}

// secretSpan finds the secret inside the match gitleaks reported. The
// match's columns cover the whole rule match (often `NAME = "value"`), and
// the secret is a capture group inside it, so it is searched for in the
// reported line from the match's start. Line begins at the start line (or at
// the newline ending the line before it); columns are counted in code
// points so the dashboard can cut JavaScript strings the same way.
func secretSpan(f report.Finding) span {
	line, sec := f.Line, f.Secret
	if sec == "" || f.StartLine < 1 {
		return span{}
	}
	base := 0
	if strings.HasPrefix(line, "\n") {
		base = 1
	}
	from := max(base, f.StartColumn-1)
	i := -1
	if from <= len(line) {
		i = strings.Index(line[from:], sec)
	}
	if i < 0 {
		from = base
		if i = strings.Index(line[base:], sec); i < 0 {
			return span{}
		}
	}
	before := line[base : from+i]
	sp := span{startLine: f.StartLine + strings.Count(before, "\n")}
	sp.startColumn = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	sp.endLine = sp.startLine + strings.Count(sec, "\n")
	if sp.endLine == sp.startLine {
		sp.endColumn = sp.startColumn + utf8.RuneCountInString(sec) - 1
	} else {
		sp.endColumn = utf8.RuneCountInString(sec[strings.LastIndexByte(sec, '\n')+1:])
	}
	return sp
}
