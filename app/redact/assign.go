package redact

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// maskAssignments masks the values of secret-named keys, flags and
// elements, in every syntax evidence comes in: JSON and YAML keys
// ("password": / password:), env and shell (PASSWORD=), code (password = /
// := / => / == / +=), index expressions (cfg["password"] =), optional
// TypeScript properties (token?:), Go declarations (var token string =),
// command-line flags (--password=x, --password x) and XML elements.
//
// Names are found from the stems a secret-like name must contain, so a line
// without any (most code) costs one pass, and long lines (minified files,
// model output) never run a general pattern over every position.
func maskAssignments(l string) string {
	cands := candidates(l)
	if len(cands) == 0 {
		return l
	}
	var spans [][2]int
	decided := 0 // l[:decided] is masked or left as is
	for _, c := range cands {
		at, colon, restOfLine, ok := assigned(l, c[0], c[1])
		if !ok {
			continue
		}
		// A name inside a value already masked still counts when its own
		// value runs past that one: in `x: "token := "abc"` the quotes pair
		// the other way than the code meant. (Every value ends at the next
		// delimiter of its kind, so reading them all stays linear.)
		s, e, _ := valueAt(l, at, colon, restOfLine)
		if s < 0 || e <= decided {
			continue
		}
		spans = append(spans, [2]int{max(s, decided), e})
		decided = e
	}
	return maskElements(replaceSpans(l, spans))
}

// stems: every name sensitiveName accepts contains one of them.
var stems = []string{"secret", "pass", "pw", "credential", "token", "key", "auth", "private"}

// candidates returns the spans of the names in l that contain a stem and
// say they hold a secret, in order.
func candidates(l string) [][2]int {
	lower := asciiLower(l)
	var out [][2]int
	for _, stem := range stems {
		for from := 0; ; {
			k := strings.Index(lower[from:], stem)
			if k < 0 {
				break
			}
			k += from
			from = k + len(stem)
			rs, re := k, k+len(stem)
			for rs > 0 && nameByte(l[rs-1]) && !(rs >= 2 && l[rs-2] == '\\' && strings.IndexByte("nrt", l[rs-1]) >= 0) {
				rs-- // (not over the "n" of an escaped line break: "\npassword")
			}
			for re < len(l) && nameByte(l[re]) {
				re++
			}
			from = max(from, re)
			// A name starts with a letter, '_', '$' or '@' ("--password" is
			// the name "password").
			for rs < k && !(isUpper(l[rs]) || isLower(l[rs]) || strings.IndexByte("_$@", l[rs]) >= 0) {
				rs++
			}
			if sensitiveName(l[rs:re]) {
				out = append(out, [2]int{rs, re})
			}
		}
	}
	// Two stems of one name ("secret_key") find it twice.
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return slices.Compact(out)
}

func nameByte(c byte) bool { return isWordByte(c) || strings.IndexByte(".$@-", c) >= 0 }

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if isUpper(c) {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// operators in the order they are tried (longest first).
var operators = []string{":=", "=>", "===", "!==", "==", "!=", "??=", "||=", "+=", "=", ":"}

// assigned finds where the value assigned to the name l[ns:ne] starts,
// whether it follows ':' (a type annotation may come first) and whether an
// unquoted value may take the rest of the line (after ':' or '=' at the
// start of a line: YAML and env values hold spaces).
func assigned(l string, ns, ne int) (at int, colon, restOfLine, ok bool) {
	p := ne
	switch {
	case p < len(l) && isQuote(l[p]): // "password": or cfg["password"] =
		p++
		if p < len(l) && l[p] == ']' {
			p++
		}
	case p < len(l) && l[p] == ']':
		p++
	}
	q := skipBlanks(l, p)
	if op, end := operatorAt(l, q); op != "" {
		return end, op == ":", (op == ":" || op == "=") && lineStart(l, ns), true
	}
	if p == ne && q > ne && isFlag(l, ns) { // --password value
		return q, false, false, true
	}
	if m := declarationTail.FindStringIndex(l[ne:]); m != nil && declarationHead.MatchString(l[max(0, ns-32):ns]) {
		if end := ne + m[1]; end >= len(l) || l[end] != '=' { // not "=="
			return end, false, false, true
		}
	}
	return 0, false, false, false
}

func skipBlanks(l string, i int) int {
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	return i
}

// operatorAt reads an assignment or comparison operator at i, after an
// optional '?' (token?: string).
func operatorAt(l string, i int) (string, int) {
	for _, at := range []int{i, i + 1} {
		if at > i && (i >= len(l) || l[i] != '?') {
			break
		}
		for _, op := range operators {
			if strings.HasPrefix(l[min(at, len(l)):], op) {
				return op, at + len(op)
			}
		}
	}
	return "", i
}

// isFlag: the name follows "-" or "--" that starts a word.
func isFlag(l string, ns int) bool {
	d := ns
	for d > 0 && ns-d < 2 && l[d-1] == '-' {
		d--
	}
	return d < ns && (d == 0 || !(isWordByte(l[d-1]) || l[d-1] == '-'))
}

// declarationHead and declarationTail frame Go's "var name Type = value",
// where a type stands between the name and the operator.
var (
	declarationHead = regexp.MustCompile(`(?:^|[^A-Za-z0-9_])(?:var|const)[ \t]+$`)
	declarationTail = regexp.MustCompile(`^[ \t]+[A-Za-z_\[\]*.]+[ \t]*=`)
)

// element finds "<password>value</password>" (XML and HTML-like config).
var element = regexp.MustCompile(`<([A-Za-z_][A-Za-z0-9_.:\-]*)>([^<]*)</([A-Za-z_][A-Za-z0-9_.:\-]*)>`)

func maskElements(l string) string {
	if !strings.Contains(l, "</") {
		return l
	}
	return element.ReplaceAllStringFunc(l, func(x string) string {
		m := element.FindStringSubmatch(x)
		v := strings.TrimSpace(m[2])
		if m[1] != m[3] || !sensitiveName(m[1]) || v == "" || masked(v) || notASecret(v) {
			return x
		}
		return "<" + m[1] + ">" + Marker + "</" + m[3] + ">"
	})
}

// lineStart reports whether only indentation, a YAML list dash or a shell
// keyword precede the name at ns on its line (or since an escaped "\n" in a
// JSON string): then an unquoted value is the rest of the line. It reads
// backwards from ns, so it costs what precedes the name on its line only.
func lineStart(l string, ns int) bool {
	for i := ns; ; {
		k := i
		for i > 0 && (l[i-1] == ' ' || l[i-1] == '\t') {
			i--
		}
		if i == 0 || (i >= 2 && l[i-2:i] == `\n`) {
			return true
		}
		if i == k {
			return false // something else than a blank precedes (a keyword is followed by one)
		}
		p := lineKeywords.FindString(l[max(0, i-8):i])
		if p == "" {
			return false
		}
		i -= len(p)
	}
}

// lineKeywords may precede a name at the start of a line.
var lineKeywords = regexp.MustCompile(`(?:-|export|set|declare|readonly|ENV|ARG)$`)

// valueAt reads the value starting at i (after the operator) and returns
// the span to mask (inside quotes, if any) and where scanning continues;
// s < 0 when there is nothing to mask there.
func valueAt(l string, i int, colon, restOfLine bool) (s, e, next int) {
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	if i >= len(l) {
		return -1, -1, i
	}
	// TypeScript and Python annotations: "token: string = 'x'". The value
	// after '=' is masked; so is the annotation unless it reads as a type
	// (then "password: hunter2 = x" in a YAML file cannot leak either part).
	if !colon {
		// (annotations only follow ':')
	} else if m := annotation.FindStringSubmatchIndex(l[i:]); m != nil {
		s, e, next := valueAt(l, i+m[1], false, false)
		if typeName(l[i+m[2] : i+m[3]]) {
			return s, e, next
		}
		if s < 0 {
			return i, i + m[3], next
		}
		return i, next, next
	}
	if masked(l[i:]) {
		return -1, -1, i + 1
	}
	// String prefixes: b"…", r'…', f"…", u"…", @"…".
	if i+1 < len(l) && strings.IndexByte("bBrRuUfF@", l[i]) >= 0 && isQuote(l[i+1]) {
		i++
	}
	if isQuote(l[i]) {
		q := l[i]
		j := i + 1
		for j < len(l) && l[j] != q {
			if l[j] == '\\' && q != '\'' {
				j++
			}
			j++
		}
		return quoted(l, i+1, min(j, len(l)), min(j+1, len(l)))
	}
	if escapedQuote(l, i) {
		// A string inside a JSON string (model output quoting code): \"…\".
		end, next := len(l), len(l)
		if k := strings.Index(l[i+2:], l[i:i+2]); k >= 0 {
			end, next = i+2+k, i+4+k
		}
		return quoted(l, i+2, end, next)
	}
	j := i
	for j < len(l) && !stopsValue(l[j]) && !escapeAt(l, j) {
		j++
	}
	if j == i {
		return -1, -1, i + 1
	}
	if j < len(l) && (l[j] == '(' || l[j] == '[') && reference.MatchString(l[i:j]) {
		return -1, -1, j // a call or an index: code, not a literal
	}
	s, e = i, j
	if isScheme(l[i:j]) {
		// "Authorization: Bearer abc": the credential is what follows.
		k := j
		for k < len(l) && (l[k] == ' ' || l[k] == '\t') {
			k++
		}
		if masked(l[k:]) {
			return -1, -1, k + 1
		}
		if k < len(l) && !stopsValue(l[k]) && !escapeAt(l, k) {
			s = k
			for e = k; e < len(l) && !stopsValue(l[e]) && !escapeAt(l, e); e++ {
			}
		}
	}
	if restOfLine && !(strings.IndexByte("$%{<", l[i]) >= 0 && notASecret(l[i:j])) {
		// (A reference such as $DB_PASSWORD ends the value: "X=$Y cmd".)
		e = restOfLineEnd(l, s)
	}
	if s >= e || notASecret(l[s:e]) {
		return -1, -1, e
	}
	if masked(l[s:]) {
		return -1, -1, s + 1
	}
	return s, e, e
}

// quoted returns the content l[s:e] of a quoted value to mask, unless it
// is empty, already masked or a placeholder.
func quoted(l string, s, e, next int) (int, int, int) {
	s, e = trimSpan(l, s, e)
	s = skipScheme(l, s, e)
	if s >= e || masked(l[s:e]) || notASecret(l[s:e]) {
		return -1, -1, next
	}
	return s, e, next
}

// escapeAt reports a JSON/C escape at i that ends an unquoted value: an
// escaped line break or quote.
func escapeAt(l string, i int) bool {
	return l[i] == '\\' && i+1 < len(l) && strings.IndexByte(`nr"'`, l[i+1]) >= 0
}

func escapedQuote(l string, i int) bool {
	return l[i] == '\\' && i+1 < len(l) && (l[i+1] == '"' || l[i+1] == '\'')
}

// annotation is a type annotation between a name and its value; the
// spaces around '=' tell it from "==" and from a value holding '='.
var annotation = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.\[\]<>|, ?]*?)[ \t]+=[ \t]`)

// typeName reports whether t reads as a type rather than a value: a
// builtin, a generic or an optional. Anything else is masked with the value,
// since a secret may look like a type name too.
func typeName(t string) bool {
	return notASecret(t) || typeExpr.MatchString(t)
}

var typeExpr = regexp.MustCompile(`^(?:(?:Optional|Union|List|Dict|Set|Tuple|Record|Array|Map|Promise)\s*[\[<].*[\]>]|[A-Za-z_]\w*\s*\|\s*(?:None|null|undefined)|SecretStr|SecretBytes)$`)

// reference is an identifier or a dotted path (os.environ, cfg.get).
var reference = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*$`)

func isQuote(c byte) bool { return c == '"' || c == '\'' || c == '`' }

// stopsValue ends an unquoted value: whitespace and the punctuation that
// closes or separates values in JSON, code, URLs and shells.
func stopsValue(c byte) bool {
	return strings.IndexByte(" \t\r\n\f\v,;\"'`(){}[]<>&|", c) >= 0
}

// restOfLineEnd extends an unquoted line value to the end of the line, but
// not over a trailing comment or a second assignment ("A=1 B=2").
func restOfLineEnd(l string, i int) int {
	e := len(l)
	for j := i; j < len(l); j++ {
		if escapeAt(l, j) && (l[j+1] == 'n' || l[j+1] == 'r') { // an escaped line break (JSON)
			e = j
			break
		}
		if l[j] != ' ' && l[j] != '\t' {
			continue
		}
		k := j
		for k < len(l) && (l[k] == ' ' || l[k] == '\t') {
			k++
		}
		if rest := l[k:]; strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "//") || envAssignment.MatchString(rest) {
			e = j
			break
		}
		j = k - 1
	}
	// Trailing blanks, and the ';' or ',' that ends a statement or an item.
	for e > i && strings.IndexByte(" \t\r;,", l[e-1]) >= 0 {
		e--
	}
	return e
}

// envAssignment is "NAME=value"; base64 padding ("…Qo=") is not one.
var envAssignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=[^=\s]`)

func trimSpan(l string, s, e int) (int, int) {
	for s < e && (l[s] == ' ' || l[s] == '\t') {
		s++
	}
	for e > s && (l[e-1] == ' ' || l[e-1] == '\t') {
		e--
	}
	return s, e
}

// skipScheme keeps an HTTP authorization scheme visible: "Bearer [redacted]".
func skipScheme(l string, s, e int) int {
	sp := strings.IndexAny(l[s:e], " \t")
	if sp <= 0 || !isScheme(l[s:s+sp]) {
		return s
	}
	s += sp
	for s < e && (l[s] == ' ' || l[s] == '\t') {
		s++
	}
	return s
}

func isScheme(w string) bool {
	switch strings.ToLower(w) {
	case "bearer", "basic", "token", "digest", "bot", "negotiate", "apikey":
		return true
	}
	return false
}

// notASecret recognises values that stand for a secret without being one:
// literals and type names, references to the environment or other code, and
// placeholders. Masking them would only make code harder to read.
func notASecret(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return true
	}
	switch strings.ToLower(v) {
	case "null", "nil", "none", "true", "false", "yes", "no", "on", "off", "undefined", "~",
		"string", "str", "int", "number", "bool", "boolean", "bytes", "[]byte", "any", "object", "required", "optional":
		return true
	}
	if strings.Trim(v, "*xX•.-_ ") == "" {
		return true // ****, xxxx, ...
	}
	return placeholder.MatchString(v)
}

// placeholder matches a whole value that refers to a secret kept elsewhere:
// $NAME, ${NAME}, $(command), {{ template }}, %NAME%, %(name)s, %s,
// <your-token>, and lookups in code (process.env.X, os.environ…, this.x).
// A default inside one (${DB_PASSWORD:-hunter2}) is not a placeholder.
var placeholder = regexp.MustCompile(`^(?:\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_.]*\}|\$\([^()]*\)|\{\{[^{}]*\}\}|%[A-Za-z_][A-Za-z0-9_]*%|%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|%[sdv]|<[^<>]*>|` +
	`(?:process\.env|import\.meta\.env|os\.environ|os\.getenv|this|self|config|settings|env|cfg|props|options|opts|params|args|secrets)(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+|os\.environ)$`)

// sensitiveName reports whether a key, variable or flag name says it holds
// a secret. The last dotted segment is the name (spring.datasource.password);
// it is split into words (snake, kebab and camel case). A name whose last
// word says it holds something else about the secret (api_key_id,
// token_url, secret_name, password_min_length) is not one.
func sensitiveName(name string) bool {
	name = strings.TrimLeft(name, "$@-")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	ws := words(name)
	if len(ws) == 0 || notSecretQualifier[ws[len(ws)-1]] {
		return false
	}
	weak, public := false, false
	for _, w := range ws {
		switch {
		case strongWord(w):
			return true
		case weakWord(w):
			weak = true
		case w == "public" || w == "publishable":
			public = true
		}
	}
	return weak && !public // a public key is not a secret
}

// strongWord: the name is about a secret whatever else it says.
func strongWord(w string) bool {
	switch {
	case strings.Contains(w, "secret"), strings.Contains(w, "passw"), strings.Contains(w, "passphrase"),
		strings.Contains(w, "credential"):
		return true
	case w == "pass" || w == "pwd" || w == "pw":
		return true
	case strings.HasSuffix(w, "pass"):
		return !notPassWords[w]
	}
	return false
}

// weakWord: token, key, auth and private, which a public key shares.
func weakWord(w string) bool {
	switch {
	case strings.HasSuffix(w, "token"):
		return true
	case strings.HasSuffix(w, "key"):
		return !notKeyWords[w]
	case strings.HasPrefix(w, "auth"):
		return !strings.HasPrefix(w, "author") || strings.HasPrefix(w, "authoriz")
	case strings.HasSuffix(w, "auth"): // oauth, basicauth
		return true
	case strings.HasPrefix(w, "private"):
		return true
	}
	return false
}

var (
	notKeyWords  = map[string]bool{"monkey": true, "donkey": true, "turkey": true, "hockey": true, "jockey": true, "whiskey": true, "hotkey": true}
	notPassWords = map[string]bool{"bypass": true, "compass": true, "surpass": true, "overpass": true, "underpass": true, "trespass": true}
)

// notSecretQualifier: a secret's id, name, location or properties, which
// are not the secret.
var notSecretQualifier = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`id ids name names type types kind url uri urls endpoint host hostname port
		path paths file filename dir directory size length len count max min expiry expires expiration exp ttl
		timeout header headers field format algorithm alg algo version region arn method methods mode enabled
		disabled required policy scope scopes ref env var variable label description desc hint prompt
		placeholder ip address addr location provider source index idx pattern regex rotation strength rule
		rules stdin prefix`) {
		notSecretQualifier[w] = true
	}
}

// words splits a name into lower-case words at '_', '-' and case changes
// (apiKey, APIKey, api_key and API-KEY all give api, key).
func words(name string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		// Trailing digits number a variant (API_KEY_2, token1).
		if w := strings.TrimRight(strings.ToLower(name[start:end]), "0123456789"); w != "" {
			out = append(out, w)
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c == '-' || c == '$' || c == '@' {
			flush(i)
			start = i + 1
			continue
		}
		if i > start && isUpper(c) {
			prev := name[i-1]
			nextLower := i+1 < len(name) && isLower(name[i+1])
			if isLower(prev) || isDigit(prev) || (isUpper(prev) && nextLower) {
				flush(i)
				start = i
			}
		}
	}
	flush(len(name))
	return out
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
