package redact

import (
	"math"
	"strings"
)

// maskURLPasswords masks the password of "scheme://user:password@host". The
// authority ends at the first '/', '?' or '#' (RFC 3986) and the userinfo at
// its last '@', so an '@' in a path ("/@scope/pkg") is not mistaken for one.
func maskURLPasswords(l string) string {
	var spans [][2]int
	for from := 0; ; {
		k := strings.Index(l[from:], "://")
		if k < 0 {
			break
		}
		start := from + k + 3
		end := start
		for end < len(l) && strings.IndexByte("/?#\"'`<>\\ \t\r\n", l[end]) < 0 {
			end++
		}
		from = start // (not end: "x://y:" may end just before the next "://")
		auth := l[start:end]
		at := strings.LastIndexByte(auth, '@')
		if at < 0 {
			continue
		}
		colon := strings.IndexByte(auth[:at], ':')
		if colon < 0 {
			continue
		}
		if pw := auth[colon+1 : at]; pw != "" && !masked(pw) && !notASecret(pw) {
			spans = append(spans, [2]int{start + colon + 1, start + at})
		}
	}
	return replaceSpans(l, spans)
}

// tokenByte: base64 and URL-safe base64 characters. '.' and ':' split a
// token, so a JWT is judged part by part and a key=value pair keeps its key;
// '=' counts only as padding at the end.
func tokenByte(c byte) bool { return isWordByte(c) || c == '+' || c == '/' || c == '-' }

// maskHighEntropy masks tokens that look random: hex of 32+ characters
// (hashes, hex keys) and mixed-alphabet tokens of 20+ characters whose
// entropy and character mix identifiers and paths do not reach. The
// thresholds were measured on random tokens and on the identifiers of a
// large Go corpus (docs/redaction.md).
func maskHighEntropy(l string) string {
	var spans [][2]int
	for _, r := range runs(l, tokenByte) {
		s, e := r[0], r[1]
		if e-s < 20 {
			continue
		}
		for e < len(l) && e-r[1] < 2 && l[e] == '=' {
			e++
		}
		if e < len(l) && isWordByte(l[e]) {
			e = r[1] // "=" followed by a word character is an assignment, not padding
		}
		for _, p := range randomParts(l[s:e]) {
			spans = append(spans, [2]int{s + p[0], s + p[1]})
		}
	}
	return replaceSpans(l, spans)
}

// runs returns the maximal runs of bytes of s for which in is true.
func runs(s string, in func(byte) bool) [][2]int {
	var out [][2]int
	for i := 0; i < len(s); {
		if !in(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && in(s[j]) {
			j++
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

func isWordByte(c byte) bool { return isUpper(c) || isLower(c) || isDigit(c) || c == '_' }

// randomParts returns the spans of tok to mask. A path-like token
// (src/components/Button2) is judged segment by segment, so only a hash in
// it is masked; anything else is judged whole.
func randomParts(tok string) [][2]int {
	if len(tok) < 20 {
		return nil
	}
	if strings.Contains(tok, "/") && pathLike(tok) {
		var out [][2]int
		start := 0
		for i := 0; i <= len(tok); i++ {
			if i == len(tok) || tok[i] == '/' {
				if looksRandom(tok[start:i]) {
					out = append(out, [2]int{start, i})
				}
				start = i + 1
			}
		}
		return out
	}
	if looksRandom(tok) {
		return [][2]int{{0, len(tok)}}
	}
	return nil
}

// pathLike: most '/'-separated segments are words or numbers, as in a path
// or URL, where base64 gives random ones.
func pathLike(tok string) bool {
	segs := strings.Split(strings.Trim(tok, "/"), "/")
	wordy := 0
	for _, s := range segs {
		f := measure(s)
		short := len(s) <= 3 && f.upper == 0
		if f.digits == len(s) || short || (f.wordy >= 0.6 && f.digits <= 2) {
			wordy++
		}
	}
	// Two segments are a path only if both read as words: "46BuiiXL/<40
	// random characters>" is base64 with a slash in it.
	return len(segs) >= 3 && 2*wordy > len(segs) || len(segs) == 2 && wordy == 2
}

// looksRandom is the entropy test for one token.
func looksRandom(tok string) bool {
	if len(tok) < 20 {
		return false
	}
	f := measure(tok)
	if f.digits == 0 || f.lower+f.upper == 0 {
		return false // random tokens of 20+ characters almost always mix both
	}
	switch {
	case f.hex:
		return len(tok) >= 32 && f.entropy >= 3.0
	case f.entropy >= 4.5:
		return true
	case f.entropy < 3.5:
		return false
	case f.lower == 0 && f.digits >= 2 && !strings.ContainsAny(tok, "_-/+="):
		return true // upper-case base32 (AWS-style IDs)
	case f.digitGroups >= 3 && (f.upper == 0 || f.wordy < 0.5):
		return true // digits scattered through it
	default:
		return f.transitions >= 0.35 && f.wordy < 0.4
	}
}

// features of a token used by looksRandom.
type features struct {
	lower, upper, digits int
	digitGroups          int
	hex                  bool
	entropy              float64 // Shannon, bits per character
	transitions          float64 // share of adjacent letters/digits that change class
	wordy                float64 // share of letters in lower-case runs of 3+ (words)
}

func class(c byte) int {
	switch {
	case isLower(c):
		return 1
	case isUpper(c):
		return 2
	case isDigit(c):
		return 3
	}
	return 0
}

func measure(s string) features {
	f := features{hex: true}
	var counts [256]int
	pairs, changes, inWords := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		counts[c]++
		switch class(c) {
		case 1:
			f.lower++
		case 2:
			f.upper++
		case 3:
			f.digits++
			if i == 0 || !isDigit(s[i-1]) {
				f.digitGroups++
			}
		}
		if !(isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			f.hex = false
		}
		if i > 0 && class(c) != 0 && class(s[i-1]) != 0 {
			pairs++
			if class(c) != class(s[i-1]) {
				changes++
			}
		}
	}
	for _, r := range runs(s, isLower) {
		if r[1]-r[0] >= 3 {
			inWords += r[1] - r[0]
			if r[0] > 0 && isUpper(s[r[0]-1]) {
				inWords++
			}
		}
	}
	n := float64(len(s))
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			f.entropy -= p * math.Log2(p)
		}
	}
	if pairs > 0 {
		f.transitions = float64(changes) / float64(pairs)
	}
	if letters := f.lower + f.upper; letters > 0 {
		f.wordy = float64(inWords) / float64(letters)
	}
	return f
}
