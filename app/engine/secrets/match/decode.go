package match

import "github.com/zricethezav/gitleaks/v8/detect/codec"

// mayDecode reports whether gitleaks' first decoding pass over raw would
// find anything to decode. The pass runs one regex with captures over the
// whole text (`%XX`, `U+XXXX`/`\uXXXX`, 32+ hex digits, 16+ base64
// characters), costing about as much as all windowed rules together; but
// its matches never cross a line (except runs of `U+XXXX` separated by
// whitespace, which stay within consecutive candidate lines), so only the
// lines holding a candidate need it. Those lines are decoded here, in
// runs of consecutive lines; when none yields a segment, neither would the
// whole text, and the pass is skipped. When one does, the caller decodes
// the whole text, exactly as gitleaks does.
func mayDecode(raw string) bool {
	start := -1 // first byte of the current run of candidate lines
	ls := 0     // first byte of the current line
	for ls < len(raw) {
		le := ls
		for le < len(raw) && raw[le] != '\n' {
			le++
		}
		if le < len(raw) {
			le++ // include the newline
		}
		if candidateLine(raw[ls:le]) {
			if start < 0 {
				start = ls
			}
		} else if start >= 0 {
			if decodes(raw[start:ls]) {
				return true
			}
			start = -1
		}
		ls = le
	}
	return start >= 0 && decodes(raw[start:])
}

func decodes(s string) bool {
	_, segs := codec.NewDecoder().Decode(s, nil)
	return len(segs) > 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isB64(c byte) bool { // [\w/+-]; \w is ASCII in RE2
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '/' || c == '+' || c == '-'
}

func hex4(s string, i int) bool {
	return i+4 <= len(s) && isHex(s[i]) && isHex(s[i+1]) && isHex(s[i+2]) && isHex(s[i+3])
}

// candidateLine reports whether a match of any gitleaks encoding could
// start in line: a superset test.
func candidateLine(line string) bool {
	run := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		if isB64(c) {
			run++
			if run >= 16 { // base64 (and hex, whose 32+ digits are a base64 run)
				return true
			}
		} else {
			run = 0
		}
		switch c {
		case '%':
			if i+2 < len(line) && isHex(line[i+1]) && isHex(line[i+2]) {
				return true
			}
		case '+':
			if i > 0 && line[i-1] == 'U' && hex4(line, i+1) {
				return true
			}
		case 'u', 'U':
			if i > 0 && line[i-1] == '\\' && hex4(line, i+1) {
				return true
			}
		}
	}
	return false
}
