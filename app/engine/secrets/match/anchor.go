package match

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// maxExpansion bounds the strings a regex prefix is expanded into when
// looking for the part of a rule that always starts with a keyword.
const maxExpansion = 256

// anchorOf finds, in a rule's regex, the tail that always starts with one
// of its keywords — in gitleaks' semi-generic rules that is
// `(?:kw1|kw2)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|>|…)…(secret)…` — and
// compiles it anchored, with one byte of context before so \b is judged as
// in the full text. A match of the whole regex whose keyword sits at a
// keyword hit implies a match of this tail at the hit, so a hit where the
// tail does not match can hold no match: the regex need not run around
// it. Most keyword hits in real code (`key`, `token` in identifiers) die
// within a few bytes here. nil when the regex has no such tail.
func anchorOf(pattern string, keywords []string) (withCtx, atStart *regexp.Regexp) {
	if len(keywords) == 0 {
		return nil, nil
	}
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, nil
	}
	re = stripCaptures(re.Simplify())
	branches := []*syntax.Regexp{re}
	if re.Op == syntax.OpAlternate {
		branches = re.Sub // each branch needs its own keyword-led tail
	}
	var tails []string
	for _, b := range branches {
		t, ok := tailOf(flatten(b), keywords)
		if !ok {
			return nil, nil
		}
		tails = append(tails, t)
	}
	s := strings.Join(tails, "|")
	a, err1 := regexp.Compile(`\A(?s:.)(?:` + s + `)`)
	b, err2 := regexp.Compile(`\A(?:` + s + `)`)
	if err1 != nil || err2 != nil {
		return nil, nil
	}
	return a, b
}

// tailOf returns the first suffix of the concatenation re that always
// starts with a keyword, as a regex.
func tailOf(re *syntax.Regexp, keywords []string) (string, bool) {
	elems := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		elems = re.Sub
	}
	for j := range elems {
		if !startsWithKeyword(elems[j:], keywords) {
			continue
		}
		if len(elems[j:]) == 1 {
			return "(?:" + elems[j].String() + ")", true
		}
		tail := &syntax.Regexp{Op: syntax.OpConcat, Sub: elems[j:]}
		return "(?:" + tail.String() + ")", true
	}
	return "", false
}

// stripCaptures replaces capture groups by their contents: the tail regex
// only answers whether a match exists.
func stripCaptures(re *syntax.Regexp) *syntax.Regexp {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if len(re.Sub) > 0 {
		cp := *re
		cp.Sub = make([]*syntax.Regexp, len(re.Sub))
		for i, s := range re.Sub {
			cp.Sub[i] = stripCaptures(s)
		}
		re = &cp
	}
	return re
}

// flatten merges nested concatenations into one.
func flatten(re *syntax.Regexp) *syntax.Regexp {
	if re.Op != syntax.OpConcat {
		return re
	}
	var subs []*syntax.Regexp
	for _, s := range re.Sub {
		s = flatten(s)
		if s.Op == syntax.OpConcat {
			subs = append(subs, s.Sub...)
		} else {
			subs = append(subs, s)
		}
	}
	cp := *re
	cp.Sub = subs
	return &cp
}

// startsWithKeyword reports whether every string the sequence can match
// starts with a keyword, judging from as many leading elements as needed.
func startsWithKeyword(elems []*syntax.Regexp, keywords []string) bool {
	set := []string{""}
	for _, e := range elems {
		ex, ok := expand(e)
		if !ok {
			// Unknown from here on: what is known must already start
			// with a keyword.
			for _, s := range set {
				if !hasKeywordPrefix(s, keywords) {
					return false
				}
			}
			return true
		}
		next := make([]string, 0, len(set)*len(ex))
		for _, a := range set {
			for _, b := range ex {
				next = append(next, a+b)
			}
		}
		if len(next) > maxExpansion {
			return false
		}
		set = next
		decided := true
		for _, s := range set {
			switch {
			case hasKeywordPrefix(s, keywords):
			case isKeywordPrefix(s, keywords):
				decided = false // too short yet: look at the next element
			default:
				return false
			}
		}
		if decided {
			return true
		}
	}
	return false
}

// openEnd ends an expansion whose continuation is unknown.
const openEnd = "\xff"

func hasKeywordPrefix(s string, keywords []string) bool {
	s = strings.TrimSuffix(s, openEnd)
	for _, k := range keywords {
		if strings.HasPrefix(s, k) {
			return true
		}
	}
	return false
}

func isKeywordPrefix(s string, keywords []string) bool {
	if strings.HasSuffix(s, openEnd) {
		return false // nothing more will be known
	}
	for _, k := range keywords {
		if strings.HasPrefix(k, s) {
			return true
		}
	}
	return false
}

// expand lists the lowercased strings a small regex matches; ok is false
// when they are not few and finite.
func expand(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{strings.ToLower(string(re.Rune))}, true
	case syntax.OpCharClass:
		var out []string
		seen := map[string]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 8 {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				s := strings.ToLower(string(r))
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
		}
		return out, len(out) > 0 && len(out) <= 16
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpQuest:
		sub, ok := expand(re.Sub[0])
		return append([]string{""}, sub...), ok
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			sub, ok := expand(s)
			if !ok {
				return nil, false
			}
			out = append(out, sub...)
		}
		return out, len(out) <= maxExpansion
	case syntax.OpConcat:
		out := []string{""}
		for i, s := range re.Sub {
			sub, ok := expand(s)
			if !ok {
				if i == 0 {
					return nil, false
				}
				// A known prefix then anything: mark it open-ended.
				for k := range out {
					out[k] += openEnd
				}
				return out, true
			}
			next := make([]string, 0, len(out)*len(sub))
			for _, a := range out {
				for _, b := range sub {
					next = append(next, a+b)
				}
			}
			if len(next) > maxExpansion {
				return nil, false
			}
			out = next
		}
		return out, true
	}
	return nil, false
}
