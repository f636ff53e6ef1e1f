package redact

import (
	"strings"
	"unicode/utf8"
)

// MaxEvidenceBytes bounds an evidence line: minified files put a whole
// program on one line and a finding only needs the neighbourhood.
const MaxEvidenceBytes = 400

// Withheld replaces a line whose secret could not be located in it.
const Withheld = "[line withheld: the secret could not be located for redaction]"

// evidenceMargin is how much text either side of the kept window is masked
// too, so a value cut by the window is judged with its key or its whole
// length, never as an unrecognisable fragment.
const evidenceMargin = 1024

// Evidence builds the evidence shown for a detected secret: line with own
// and every other known secret shown by Secret, everything else Text masks,
// cut to about MaxEvidenceBytes around own. When own cannot be found
// verbatim in line (a decoded or otherwise transformed match) the line is
// withheld rather than risk showing an encoded form.
func Evidence(line, own string, known []string) string {
	line = strings.Trim(line, "\r\n")
	if own != "" && !strings.Contains(line, own) {
		return Withheld
	}
	line = replaceKnown(line, append([]string{own}, known...))
	at := 0
	if own != "" {
		at = max(strings.Index(line, Secret(own)), 0)
	}
	// Masking only a window keeps a long minified line cheap; the margin
	// keeps the cut far from what is shown.
	lo, hi := cut(line, at-MaxEvidenceBytes-evidenceMargin, at+MaxEvidenceBytes+evidenceMargin)
	window := Text(line[lo:hi])
	if own != "" {
		at = max(strings.Index(window, Secret(own)), 0)
	} else {
		at = 0
	}
	start := max(at-MaxEvidenceBytes/3, 0)
	s, e := cut(window, start, start+MaxEvidenceBytes)
	out := window[s:e]
	if s > 0 || lo > 0 {
		out = "…" + out
	}
	if e < len(window) || hi < len(line) {
		out += "…"
	}
	return out
}

// cut clamps [lo, hi) to s and widens it to rune boundaries.
func cut(s string, lo, hi int) (int, int) {
	lo, hi = max(lo, 0), min(hi, len(s))
	if lo > hi {
		lo = hi
	}
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	return lo, hi
}
