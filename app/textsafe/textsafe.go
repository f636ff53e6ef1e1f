// Package textsafe is the one rule for text that people type and other people
// read: names (projects, repositories, API keys, display names, push-remote
// repository names), free text such as descriptions, and how much of any
// input an error message echoes back. The rules and their reasons are in
// docs/limits.md.
package textsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Caps on names, in characters (runes).
const (
	// MaxName caps project, repository and push-remote repository names.
	MaxName = 200
	// MaxDisplayName caps a user's display name.
	MaxDisplayName = 100
	// MaxKeyName caps an API key's name.
	MaxKeyName = 100
	// MaxEcho caps any one value an error message repeats back (an ID from a
	// URL, a path from an archive): a 10 KB ID is never echoed whole.
	MaxEcho = 120
)

// ProblemInvisible is the validation problem for a name or text carrying a
// control or invisible formatting character.
const ProblemInvisible = "must not contain control characters or invisible formatting characters (such as bidirectional overrides)"

// Invisible reports whether r may not appear in a name: control characters
// (C0, DEL, C1), line and paragraph separators, and format characters, which
// include the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
// U+2066–U+2069, U+200E/F, U+061C), zero-width space, word joiner and BOM.
// Such characters make a name display as something it is not ("Trojan
// Source"). The zero-width joiner and non-joiner are kept: Persian and Indic
// names and emoji sequences need them, and they cannot reorder text.
func Invisible(r rune) bool {
	switch {
	case r == '\u200c' || r == '\u200d':
		return false
	case unicode.IsControl(r), r == '\u2028', r == '\u2029', unicode.Is(unicode.Cf, r):
		return true
	}
	return false
}

// Name trims s and checks it as the name of something: 1 to max characters of
// valid UTF-8, at least one of them visible, none Invisible. It returns the
// trimmed name, or a problem for the validation details ("" when fine).
func Name(s string, max int) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return s, "is required"
	case !utf8.ValidString(s):
		return s, "must be valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return s, fmt.Sprintf("must be at most %d characters", max)
	case strings.IndexFunc(s, Invisible) >= 0:
		return s, ProblemInvisible
	case strings.IndexFunc(s, visible) < 0:
		return s, "must contain a visible character"
	}
	return s, ""
}

// Text trims s and checks it as free text (a description): like Name, but it
// may be empty and may hold line breaks and tabs.
func Text(s string, max int) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		return s, "must be valid UTF-8"
	case utf8.RuneCountInString(s) > max:
		return s, fmt.Sprintf("must be at most %d characters", max)
	case strings.IndexFunc(s, func(r rune) bool { return r != '\n' && r != '\t' && r != '\r' && Invisible(r) }) >= 0:
		return s, ProblemInvisible
	}
	return s, ""
}

func visible(r rune) bool {
	return unicode.IsGraphic(r) && !unicode.IsSpace(r) && r != '\u200c' && r != '\u200d'
}

// Echo makes an input value safe to repeat in a message: invalid UTF-8 and
// Invisible characters become U+FFFD, and anything past MaxEcho characters is
// cut and marked with "…".
func Echo(s string) string {
	n := 0
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if n == MaxEcho {
			b.WriteString("…")
			break
		}
		if Invisible(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Sprintf is fmt.Sprintf with every string argument passed through Echo:
// the way to build a message that repeats input back.
func Sprintf(format string, args ...any) string {
	echoed := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			a = Echo(s)
		}
		echoed[i] = a
	}
	return fmt.Sprintf(format, echoed...)
}
