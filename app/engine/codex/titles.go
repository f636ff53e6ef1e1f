package codex

import (
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A title names the issue, not the place: the findings list shows the path
// in its Location column (issue 12; docs/findings.md, "Codex titles"). The
// audit prompt says so, but a model still writes "SQL injection in
// app/db.py" or "app/db.py:12: SQL injection", so toReport strips the
// finding's own path from the title with what introduces or follows it.
var (
	// A line reference glued to the path: ":12", ":12:5", ":12-20", "#L12", "#L12-L20".
	titleLineSuffix = regexp.MustCompile(`^(?::\d+(?::\d+)?(?:\s*[-–]\s*\d+)?|#L\d+(?:-L?\d+)?)`)
	// A line phrase after the path: ", line 12", " lines 12-20", " at line 12", " on lines 3 to 5".
	titleLinePhrase = regexp.MustCompile(`(?i)^\s*,?\s*(?:(?:at|on)\s+)?lines?\s+\d+(?:\s*(?:-|–|—|to|and)\s*\d+)?`)
	// What leads up to the path: "in", "at", "in the file", "at line 12 of".
	titleLeadIn = regexp.MustCompile(`(?i)(?:^|\s*,\s*|\s+)(?:(?:(?:at|on)\s+)?lines?\s+\d+(?:\s*(?:-|–|—|to)\s*\d+)?\s+(?:of|in)|in|at|within|inside|from|of|on|for|via)\s+(?:the\s+)?(?:file\s+)?$`)
	// An opening bracket before the path, with a word inside: "(", "(in ", "[see file ".
	titleOpen  = regexp.MustCompile(`(?i)\s*[(\[]\s*(?:(?:in|at|see|from)\s+)?(?:(?:the\s+)?file\s+)?$`)
	titleClose = regexp.MustCompile(`^\s*[)\]]`)
	// A separator between the path and the rest of the title.
	titleSepAfter  = regexp.MustCompile(`^\s*[:|–—-]+\s*`)
	titleSepBefore = regexp.MustCompile(`\s*[:|–—,-]+\s*$`)
	// Left over once the path is gone.
	titleEmptyPair     = regexp.MustCompile("\\(\\s*\\)|\\[\\s*\\]|``|\"\"")
	titleSpaces        = regexp.MustCompile(`\s+`)
	titleSpaceBefore   = regexp.MustCompile(`\s+([,.;:!?)\]])`)
	titleDanglingWord  = regexp.MustCompile(`(?i)\s+(?:in|at|of|on|within|inside|from|for|via)$`)
	titleTrimLeadChars = " \t:|,;–—-)]"
	titleTrimTailChars = " \t:|,;–—-(["
)

// titleWithoutPath returns title without the finding's own path rel, nor
// its file name when that has an extension ("db.py" of "app/db.py"; a bare
// name like "Makefile" could be a word of the title). Other paths stay: they
// say something the Location column does not. A title that was nothing but
// the path becomes the category ("sql_injection" → "Sql injection"), or
// stays as it was when there is none: never empty.
func titleWithoutPath(title, rel, category string) string {
	names := []string{rel}
	if b := path.Base(rel); b != rel && strings.Contains(b, ".") {
		names = append(names, b)
	}
	if !strings.ContainsAny(rel, "./") {
		names = names[:0]
	}
	out, stripped := title, false
	for _, name := range names {
		for from := 0; from < len(out); {
			i := strings.Index(out[from:], name)
			if i < 0 {
				break
			}
			s := from + i
			e := s + len(name)
			next, ok := stripAt(out, s, e)
			if !ok {
				from = s + 1
				continue
			}
			out, stripped, from = next, true, 0
		}
	}
	if !stripped {
		return title
	}
	out = tidyTitle(out)
	if !strings.ContainsFunc(out, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		if c := humanCategory(category); c != "" {
			return c
		}
		return title
	}
	return out
}

// stripAt removes the path at out[s:e] with what belongs to it; ok is false
// when the match is part of a longer path or word, or when removing it
// would leave the title's first words dangling ("db.py has an injection").
func stripAt(out string, s, e int) (string, bool) {
	if strings.HasSuffix(out[:s], "./") {
		s -= 2
	}
	if r, _ := utf8.DecodeLastRuneInString(out[:s]); s > 0 && pathRune(r) {
		return "", false
	}
	if m := titleLineSuffix.FindString(out[e:]); m != "" {
		e += len(m)
	}
	if r, n := utf8.DecodeRuneInString(out[e:]); e < len(out) && pathRune(r) {
		// A sentence's full stop is not part of the path; ".bak" is.
		after, _ := utf8.DecodeRuneInString(out[e+n:])
		if r != '.' || (e+n < len(out) && pathRune(after)) {
			return "", false
		}
	}
	if m := titleLinePhrase.FindString(out[e:]); m != "" {
		e += len(m)
	}
	if s > 0 && e < len(out) && out[s-1] == out[e] && strings.IndexByte("`\"'", out[e]) >= 0 {
		s, e = s-1, e+1
	}
	if m := titleOpen.FindStringIndex(out[:s]); m != nil {
		if c := titleClose.FindString(out[e:]); c != "" {
			return out[:m[0]] + " " + out[e+len(c):], true
		}
	}
	switch m := titleLeadIn.FindStringIndex(out[:s]); {
	case m != nil:
		s = m[0]
	case strings.TrimSpace(out[:s]) == "":
		// The title starts with the path: only "path: issue" reads well
		// without it.
		if sep := titleSepAfter.FindString(out[e:]); sep != "" {
			e += len(sep)
		} else if strings.TrimSpace(out[e:]) != "" {
			return "", false
		}
	case strings.Trim(out[e:], " .…") == "": // "…": clip cut the title there
		if sep := titleSepBefore.FindStringIndex(out[:s]); sep != nil {
			s = sep[0]
		}
	}
	return out[:s] + " " + out[e:], true
}

// pathRune reports whether r can continue a path or a word.
func pathRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-./~", r)
}

// tidyTitle mends what removing a path leaves behind: empty brackets,
// doubled spaces, a space before punctuation, separators and a dangling
// preposition at either end.
func tidyTitle(t string) string {
	for range 3 {
		t = titleEmptyPair.ReplaceAllString(t, "")
		t = titleSpaces.ReplaceAllString(t, " ")
		t = titleSpaceBefore.ReplaceAllString(t, "$1")
		t = strings.TrimLeft(t, titleTrimLeadChars)
		t = strings.TrimRight(t, titleTrimTailChars)
		t = titleDanglingWord.ReplaceAllString(t, "")
	}
	return t
}

// humanCategory spells a category as a title: "sql_injection" → "Sql injection".
func humanCategory(c string) string {
	c = strings.Join(strings.FieldsFunc(c, func(r rune) bool { return r == '_' || r == '-' || unicode.IsSpace(r) }), " ")
	r, n := utf8.DecodeRuneInString(c)
	if n == 0 {
		return ""
	}
	return string(unicode.ToUpper(r)) + c[n:]
}
