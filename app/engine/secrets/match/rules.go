package match

import (
	"regexp"
	"regexp/syntax"

	"github.com/zricethezav/gitleaks/v8/config"
)

// unbounded marks a regex measure with no finite bound.
const unbounded = -1

// ruleShape is what the matcher needs to know about a rule's regex to run
// it on windows instead of whole fragments (docs/secrets-engine.md).
type ruleShape struct {
	rule config.Rule
	// maxLen bounds the bytes of one match (unbounded for `+`, `*`, `{n,}`).
	maxLen int
	// maxNL bounds the newlines one match can contain; unbounded makes the
	// rule multi-line: it runs on the whole segment, as gitleaks runs it on
	// the whole fragment.
	maxNL int
	// asciiKeywords is false when a keyword is not plain ASCII, so the
	// ASCII-lowered text could miss it; such a rule runs on the whole
	// segment.
	asciiKeywords bool
	// anchor and anchorAtStart are the keyword-led tail of the regex,
	// anchored (see anchorOf); nil when the regex has none.
	anchor, anchorAtStart *regexp.Regexp
}

func shapeOf(r config.Rule) ruleShape {
	s := ruleShape{rule: r, maxLen: unbounded, maxNL: unbounded, asciiKeywords: true}
	for _, k := range r.Keywords {
		for i := 0; i < len(k); i++ {
			if k[i] >= 0x80 {
				s.asciiKeywords = false
			}
		}
	}
	if r.Regex == nil {
		return s
	}
	re, err := syntax.Parse(r.Regex.String(), syntax.Perl)
	if err != nil {
		return s // stays unbounded: the whole segment, exactly like gitleaks
	}
	re = re.Simplify()
	s.maxLen = measure(re, byteLen)
	s.maxNL = measure(re, newlines)
	if s.asciiKeywords {
		s.anchor, s.anchorAtStart = anchorOf(r.Regex.String(), r.Keywords)
	}
	return s
}

// measure computes the most a regex can consume under unit, the cost of one
// atom (bytes, or newlines).
func measure(re *syntax.Regexp, unit func(*syntax.Regexp) int) int {
	switch re.Op {
	case syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return unit(re)
	case syntax.OpCapture:
		return measure(re.Sub[0], unit)
	case syntax.OpQuest:
		return measure(re.Sub[0], unit)
	case syntax.OpStar, syntax.OpPlus:
		if measure(re.Sub[0], unit) == 0 {
			return 0
		}
		return unbounded
	case syntax.OpRepeat:
		n := measure(re.Sub[0], unit)
		switch {
		case n == 0:
			return 0
		case n == unbounded || re.Max < 0:
			return unbounded
		}
		return n * re.Max
	case syntax.OpConcat, syntax.OpAlternate:
		// A concatenation consumes the sum of its parts, an alternation the
		// most of any branch; either is unbounded if a part is.
		t := 0
		for _, sub := range re.Sub {
			n := measure(sub, unit)
			if n == unbounded {
				return unbounded
			}
			if re.Op == syntax.OpConcat {
				t += n
			} else {
				t = max(t, n)
			}
		}
		return t
	}
	return 0 // empty-width assertions
}

// byteLen is the most bytes an atom matches (a rune is at most 4 bytes).
func byteLen(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				n += 3 // a folded ASCII letter can be a 3-byte rune (K, the Kelvin sign)
			} else {
				n += runeLen(r)
			}
		}
		return n
	}
	return 4
}

func runeLen(r rune) int {
	switch {
	case r < 0x80:
		return 1
	case r < 0x800:
		return 2
	case r < 0x10000:
		return 3
	}
	return 4
}

// newlines is the most newlines an atom matches.
func newlines(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if r == '\n' {
				n++
			}
		}
		return n
	case syntax.OpAnyChar:
		return 1
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return 1
			}
		}
	}
	return 0
}
