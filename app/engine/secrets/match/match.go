// Package match runs gitleaks' rules over a file's text the way gitleaks
// does — same regexes, keywords, entropy thresholds, allowlists, decoding
// passes and generic-rule precedence — but runs each rule's regex only where
// it can match: on line-aligned windows around that rule's keyword hits
// (found with one Aho-Corasick pass over the segment, as gitleaks' prefilter
// does), or on the whole segment for rules without keywords or with
// multi-line patterns. Upstream gitleaks is the reference for what counts
// as a match; docs/secrets-engine.md lists where this package differs.
package match

import (
	"context"
	"math"
	"sort"
	"strings"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
	"github.com/zricethezav/gitleaks/v8/report"
)

// DefaultMaxDecodeDepth is the `gitleaks dir` default (--max-decode-depth).
const DefaultMaxDecodeDepth = 5

// reach is how far a window extends on each side of a keyword hit, within
// its line, for a rule whose matches have no length bound; a match that
// touches a window's cut edge makes the window grow (see find).
const reach = 4 << 10

// snapLimit bounds how far a cut window edge moves to the nearest
// separator (space, quote, comma, ...), so a window never starts or ends in
// the middle of a token unless the token is that long.
const snapLimit = 64 << 10

// Options tune a Matcher.
type Options struct {
	// MaxDecodeDepth is how many decoding passes (base64, hex, percent
	// encoding) follow the plain one, as in gitleaks.
	MaxDecodeDepth int
	// HonourAllowComments keeps gitleaks' inline "gitleaks:allow" escape
	// hatch; Vega turns it off (the scanned repository is untrusted).
	HonourAllowComments bool
}

// Matcher is immutable after New and safe for concurrent use.
type Matcher struct {
	opt       Options
	cfg       config.Config
	shapes    []ruleShape   // rules with a regex, by rule id
	pathRules []config.Rule // path-only rules
	keywords  []string      // trie pattern index → keyword
	kwShapes  [][]int       // trie pattern index → shapes using it
	trie      *ahocorasick.Trie
}

// New prepares cfg's rules for windowed matching.
func New(cfg config.Config, opt Options) *Matcher {
	m := &Matcher{opt: opt, cfg: cfg}
	ids := make([]string, 0, len(cfg.Rules))
	for id := range cfg.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	kwIndex := map[string]int{}
	for _, id := range ids {
		r := cfg.Rules[id]
		if r.Regex == nil {
			if r.Path != nil {
				m.pathRules = append(m.pathRules, r)
			}
			continue
		}
		si := len(m.shapes)
		m.shapes = append(m.shapes, shapeOf(r))
		for _, k := range r.Keywords {
			k = strings.ToLower(k)
			ki, ok := kwIndex[k]
			if !ok {
				ki = len(m.keywords)
				kwIndex[k] = ki
				m.keywords = append(m.keywords, k)
				m.kwShapes = append(m.kwShapes, nil)
			}
			if n := len(m.kwShapes[ki]); n == 0 || m.kwShapes[ki][n-1] != si {
				m.kwShapes[ki] = append(m.kwShapes[ki], si)
			}
		}
	}
	m.trie = ahocorasick.NewTrieBuilder().AddStrings(m.keywords).Build()
	return m
}

// Segment is a piece of one file's text. Neighbouring segments overlap;
// each finding belongs to the segment whose own range holds its start, so
// a secret in an overlap is reported once.
type Segment struct {
	Path      string // repository-relative, forward slashes
	Raw       string
	StartLine int // line number of Raw's first line (1-based)
	// OwnStart and OwnEnd are offsets into Raw.
	OwnStart, OwnEnd int
}

// PathFindings reports the path-only rules (key stores such as .p12) that
// match path, once per file.
func (m *Matcher) PathFindings(path string) []report.Finding {
	var out []report.Finding
	for _, r := range m.pathRules {
		if pathAllowed(m.cfg.Allowlists, path) || pathAllowed(r.Allowlists, path) {
			continue
		}
		if r.SkipReport || !r.Path.MatchString(path) {
			continue
		}
		out = append(out, report.Finding{
			RuleID: r.RuleID, Description: r.Description, File: path,
			Match: "file detected: " + path, Tags: append([]string(nil), r.Tags...),
		})
	}
	return out
}

// found is a finding with the offset of its match in the segment (original
// coordinates, after mapping decoded text back).
type found struct {
	f     report.Finding
	start int
}

// Detect returns the findings of seg that start in its own range.
func (m *Matcher) Detect(ctx context.Context, seg Segment) []report.Finding {
	if pathAllowed(m.cfg.Allowlists, seg.Path) {
		return nil
	}
	active := make([]bool, len(m.shapes))
	for i, sh := range m.shapes {
		r := sh.rule
		active[i] = !r.SkipReport && !pathAllowed(r.Allowlists, seg.Path) &&
			(r.Path == nil || r.Path.MatchString(seg.Path))
	}
	nl := newlineIndex(seg.Raw)
	var (
		all        []found
		currentRaw = seg.Raw
		encoded    []*codec.EncodedSegment
		decoder    = codec.NewDecoder()
	)
	for depth := 0; ; depth++ {
		if ctx.Err() != nil {
			return nil
		}
		all = append(all, m.pass(seg, nl, currentRaw, encoded, active)...)
		if depth+1 > m.opt.MaxDecodeDepth || (depth == 0 && !mayDecode(seg.Raw)) {
			break
		}
		currentRaw, encoded = decoder.Decode(currentRaw, encoded)
		if len(encoded) == 0 {
			break
		}
	}
	all = preferSpecific(all)
	out := make([]report.Finding, 0, len(all))
	for _, f := range all {
		if f.start >= seg.OwnStart && f.start < seg.OwnEnd {
			out = append(out, f.f)
		}
	}
	return out
}

type hit struct{ pos, n int }

// pass is one iteration of gitleaks' DetectContext loop: the prefilter,
// then every triggered rule, over currentRaw (the segment, or its decoded
// form at depth > 0).
func (m *Matcher) pass(seg Segment, segNL []int, currentRaw string, encoded []*codec.EncodedSegment, active []bool) []found {
	lower, exact := asciiLower(currentRaw)
	hits := make([][]hit, len(m.keywords))
	m.trie.Walk(lower, func(end, n, pattern int64) bool {
		hits[pattern] = append(hits[pattern], hit{pos: int(end - n + 1), n: int(n)})
		return true
	})
	if !exact {
		// Some rune lowercases to ASCII (the Kelvin sign, dotted İ): do what
		// gitleaks does, exactly, with its Unicode lowering.
		hits = make([][]hit, len(m.keywords))
		for _, mt := range m.trie.MatchString(strings.ToLower(currentRaw)) {
			hits[mt.Pattern()] = append(hits[mt.Pattern()], hit{pos: -1})
		}
	}
	ruleHits := make([][]hit, len(m.shapes))
	triggered := make([]bool, len(m.shapes))
	for ki, hs := range hits {
		if len(hs) == 0 {
			continue
		}
		for _, si := range m.kwShapes[ki] {
			triggered[si] = true
			ruleHits[si] = append(ruleHits[si], hs...)
		}
	}
	nl := segNL
	if len(encoded) > 0 {
		nl = newlineIndex(currentRaw)
	}
	var out []found
	for si, sh := range m.shapes {
		if !active[si] {
			continue
		}
		whole := len(sh.rule.Keywords) == 0
		if !whole && !triggered[si] {
			continue
		}
		hs := ruleHits[si]
		if !whole && exact && sh.anchor != nil {
			if hs = live(sh, hs, currentRaw); len(hs) == 0 {
				continue
			}
		}
		var wins []window
		if whole || !exact || sh.maxNL == unbounded || !sh.asciiKeywords {
			wins = []window{{s: 0, e: len(currentRaw)}}
		} else {
			wins = windows(sh, hs, currentRaw, nl)
		}
		for _, w := range wins {
			if len(encoded) > 0 && len(codec.SegmentsWithDecodedOverlap(encoded, w.s, w.e)) == 0 {
				continue // only matches touching decoded text are new at depth > 0
			}
			for _, mi := range find(sh, currentRaw, w) {
				if f, ok := m.finding(seg, segNL, currentRaw, sh.rule, mi, encoded); ok {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// live keeps the hits where the rule's keyword-led tail matches: only
// around those can the whole regex match (see anchorOf).
func live(sh ruleShape, hs []hit, raw string) []hit {
	sort.Slice(hs, func(i, j int) bool { return hs[i].pos < hs[j].pos })
	out := hs[:0]
	last := -1
	for _, h := range hs {
		if h.pos == last {
			continue
		}
		last = h.pos
		var ok bool
		if h.pos == 0 {
			ok = sh.anchorAtStart.MatchString(raw)
		} else {
			ok = sh.anchor.MatchString(raw[h.pos-1:])
		}
		if ok {
			out = append(out, h)
		}
	}
	return out
}

// asciiLower lowercases ASCII letters, keeping every offset. exact is false
// when the text holds a rune whose Unicode lowercase is ASCII, where
// gitleaks' strings.ToLower prefilter would see a keyword this one cannot.
func asciiLower(s string) (b []byte, exact bool) {
	b = make([]byte, len(s))
	exact = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x84 && s[i+2] == 0xAA: // U+212A KELVIN SIGN → k
			exact = false
		case c == 0xC4 && i+1 < len(s) && s[i+1] == 0xB0: // U+0130 → i̇
			exact = false
		}
		b[i] = c
	}
	return b, exact
}

// window is a byte range of the text a regex runs on. A cut edge lies
// inside a line: a match touching it may continue beyond, so find widens.
type window struct {
	s, e       int
	cutS, cutE bool
}

// windows are the merged ranges around a rule's keyword hits: the hit's
// line plus as many lines on each side as one match can span (plus one of
// context), trimmed to the longest match on each side of the hit when the
// lines are long (minified code, one-line JSON).
func windows(sh ruleShape, hits []hit, raw string, nl []int) []window {
	sort.Slice(hits, func(i, j int) bool { return hits[i].pos < hits[j].pos })
	span := sh.maxNL + 1
	w := reach
	if sh.maxLen != unbounded {
		w = 2*sh.maxLen + 256
	}
	out := make([]window, 0, len(hits))
	for _, h := range hits {
		line := sort.SearchInts(nl, h.pos) // index of the line holding pos
		first := max(0, line-span)
		s := 0
		if first > 0 {
			s = nl[first-1] + 1
		}
		e := len(raw)
		if lastLine := line + span; lastLine < len(nl) {
			e = nl[lastLine] + 1
		}
		win := window{s: s, e: e}
		if h.pos-w > s {
			win.s, win.cutS = snapBack(raw, h.pos-w), true
			if win.s <= s {
				win.s, win.cutS = s, false
			}
		}
		if end := h.pos + h.n + w; end < e {
			win.e, win.cutE = snapForward(raw, end), true
			if win.e >= e {
				win.e, win.cutE = e, false
			}
		}
		if n := len(out); n > 0 && win.s <= out[n-1].e {
			if win.e > out[n-1].e {
				out[n-1].e, out[n-1].cutE = win.e, win.cutE
			}
			continue
		}
		out = append(out, win)
	}
	return out
}

func isSeparator(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', ',', ';', '(', ')', '{', '}', '[', ']', '<', '>':
		return true
	}
	return false
}

// snapBack moves a cut start back to just after the nearest separator.
func snapBack(raw string, i int) int {
	for j := i; j > 0 && i-j < snapLimit; j-- {
		if isSeparator(raw[j-1]) {
			return j
		}
	}
	return i
}

// snapForward moves a cut end forward to just after the nearest separator.
func snapForward(raw string, i int) int {
	for j := i; j < len(raw) && j-i < snapLimit; j++ {
		if isSeparator(raw[j]) {
			return j + 1
		}
	}
	return i
}

// find runs the rule's regex on w and returns match offsets in raw. A
// match touching a cut edge might be longer in the full text, so the window
// grows until no match does.
func find(sh ruleShape, raw string, w window) [][]int {
	for {
		ms := sh.rule.Regex.FindAllStringIndex(raw[w.s:w.e], -1)
		grow := false
		for _, mi := range ms {
			if (w.cutS && mi[0] == 0) || (w.cutE && mi[1] == w.e-w.s) {
				grow = true
				break
			}
		}
		if !grow {
			for _, mi := range ms {
				mi[0] += w.s
				mi[1] += w.s
			}
			return ms
		}
		size := w.e - w.s
		if w.cutS {
			w.s = max(0, w.s-2*size)
			w.cutS = w.s > 0 && raw[w.s-1] != '\n'
		}
		if w.cutE {
			w.e = min(len(raw), w.e+2*size)
			w.cutE = w.e < len(raw) && raw[w.e-1] != '\n'
		}
	}
}

// finding is the body of gitleaks' detectRule for one regex match.
func (m *Matcher) finding(seg Segment, nl []int, currentRaw string, r config.Rule, mi []int, encoded []*codec.EncodedSegment) (found, bool) {
	secret := strings.Trim(currentRaw[mi[0]:mi[1]], "\n")
	matchIndex := []int{mi[0], mi[1]}
	var metaTags []string
	currentLine := ""
	if len(encoded) > 0 {
		segs := codec.SegmentsWithDecodedOverlap(encoded, matchIndex[0], matchIndex[1])
		if len(segs) == 0 {
			return found{}, false // already reported at a shallower depth
		}
		matchIndex = codec.AdjustMatchIndex(segs, matchIndex)
		metaTags = append(metaTags, codec.Tags(segs)...)
		currentLine = codec.CurrentLine(segs, currentRaw)
	} else {
		matchIndex[1] = matchIndex[0] + len(secret)
	}
	l := location(nl, seg.Raw, matchIndex[0], matchIndex[1])
	if matchIndex[1] > l.endIndex {
		l.endIndex = matchIndex[1]
	}
	f := report.Finding{
		RuleID:      r.RuleID,
		Description: r.Description,
		StartLine:   seg.StartLine + l.startLine,
		EndLine:     seg.StartLine + l.endLine,
		StartColumn: l.startColumn,
		EndColumn:   l.endColumn,
		Line:        seg.Raw[l.startLineIndex:min(l.endIndex, len(seg.Raw))],
		Match:       secret,
		Secret:      secret,
		File:        seg.Path,
		Tags:        append(append([]string(nil), r.Tags...), metaTags...),
	}
	if m.opt.HonourAllowComments && strings.Contains(f.Line, "gitleaks:allow") {
		return found{}, false
	}
	if currentLine == "" {
		currentLine = f.Line
	}
	if groups := r.Regex.FindStringSubmatch(f.Secret); len(groups) >= 2 {
		if r.SecretGroup > 0 {
			if len(groups) <= r.SecretGroup {
				return found{}, false
			}
			f.Secret = groups[r.SecretGroup]
		} else {
			for _, s := range groups[1:] {
				if len(s) > 0 {
					f.Secret = s
					break
				}
			}
		}
	}
	entropy := shannonEntropy(f.Secret)
	f.Entropy = float32(entropy)
	if r.Entropy != 0.0 && entropy <= r.Entropy {
		return found{}, false
	}
	if findingAllowed(m.cfg.Allowlists, f, seg.Path, currentLine) || findingAllowed(r.Allowlists, f, seg.Path, currentLine) {
		return found{}, false
	}
	return found{f: f, start: matchIndex[0]}, true
}

// shannonEntropy is gitleaks' (detect/utils.go).
func shannonEntropy(data string) (entropy float64) {
	if data == "" {
		return 0
	}
	counts := make(map[rune]int)
	for _, c := range data {
		counts[c]++
	}
	inv := 1.0 / float64(len(data))
	for _, n := range counts {
		freq := float64(n) * inv
		entropy -= freq * math.Log2(freq)
	}
	return entropy
}

// pathAllowed is gitleaks' checkCommitOrPathAllowed for a directory scan
// (no commit).
func pathAllowed(als []*config.Allowlist, path string) bool {
	if path == "" {
		return false
	}
	for _, a := range als {
		ok := a.PathAllowed(path)
		if a.MatchCondition == config.AllowlistMatchAnd {
			if len(a.Regexes) > 0 || len(a.StopWords) > 0 {
				continue // decided per finding
			}
			if andConditionsHold(a, ok, false, false) {
				return true
			}
		} else if ok {
			return true
		}
	}
	return false
}

// findingAllowed is gitleaks' checkFindingAllowed for a directory scan.
func findingAllowed(als []*config.Allowlist, f report.Finding, path, currentLine string) bool {
	for _, a := range als {
		target := f.Secret
		switch a.RegexTarget {
		case "match":
			target = f.Match
		case "line":
			target = currentLine
		}
		regexOK := a.RegexAllowed(target)
		stop, _ := a.ContainsStopWord(f.Secret)
		if a.MatchCondition == config.AllowlistMatchAnd {
			if andConditionsHold(a, a.PathAllowed(path), regexOK, stop) {
				return true
			}
		} else if regexOK || stop {
			return true
		}
	}
	return false
}

// andConditionsHold is gitleaks' AND match condition, shared by the path and
// finding checks: every condition the allowlist sets must hold, and a commit
// condition never holds in a directory scan (there is no commit).
func andConditionsHold(a *config.Allowlist, pathOK, regexOK, stopWordOK bool) bool {
	switch {
	case len(a.Commits) > 0:
		return false
	case len(a.Paths) > 0 && !pathOK:
		return false
	case len(a.Regexes) > 0 && !regexOK:
		return false
	case len(a.StopWords) > 0 && !stopWordOK:
		return false
	}
	return true
}

// preferSpecific is gitleaks' filter: a generic-rule finding is dropped
// when a specific rule found a secret containing it on the same line.
func preferSpecific(fs []found) []found {
	out := fs[:0:0]
	for _, f := range fs {
		keep := true
		if strings.Contains(strings.ToLower(f.f.RuleID), "generic") {
			for _, g := range fs {
				if f.f.StartLine == g.f.StartLine && f.f.RuleID != g.f.RuleID &&
					strings.Contains(g.f.Secret, f.f.Secret) &&
					!strings.Contains(strings.ToLower(g.f.RuleID), "generic") {
					keep = false
					break
				}
			}
		}
		if keep {
			out = append(out, f)
		}
	}
	return out
}
