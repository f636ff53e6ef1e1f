package codex

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/redact"
	"github.com/vegasec/vega/store"
)

// Field limits for reported findings: enough for a useful report, small
// enough that a runaway model cannot bloat the store or the UI.
const (
	maxTitle       = 200
	maxCategory    = 80
	maxDescription = 8000
	maxEvidence    = 4000
	maxRecommend   = 4000
	maxNote        = 500
	maxCWEs        = 5
	maxLocations   = 10
	maxFindings    = 50 // per component
)

// scanToken matches Vega scan tokens (vst1.<payload>.<signature>), which
// Codex holds as its API key: any of them, not only this scan's.
var scanToken = regexp.MustCompile(`\bvst1\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+`)

// scrub removes the scan token from t, then every credential redact.Text
// recognises (a model may echo one from code or its environment). The
// secrets engine reports committed secrets; they never belong in an audit
// finding, a log line or the debug bundle.
func scrub(t, token string) string {
	if token != "" {
		t = strings.ReplaceAll(t, token, redact.Marker)
	}
	return redact.Text(scanToken.ReplaceAllString(t, redact.Marker))
}

// rawFinding is one finding as the audit schema describes it: the schema's
// fields are engine.Report's JSON shape (without key and suppression, which the
// schema forbids). toReport rebuilds every field, so nothing is trusted as is.
type rawFinding = engine.Report

// tree answers questions about the scanned source directory, caching line
// counts. Paths the model names are checked against it before anything is
// reported: no absolute paths, no "..", and the file must exist inside.
type tree struct {
	root  string
	mu    sync.Mutex
	lines map[string]int // rel path → line count; -1 = not a regular file inside root
}

func newTree(root string) *tree { return &tree{root: root, lines: map[string]int{}} }

// cleanRel normalises a model-supplied path to a clean, slash-separated,
// repository-relative path, or returns "" when it points outside the tree.
func cleanRel(p string) string {
	p = strings.TrimSpace(p)
	if p == "" || strings.ContainsAny(p, "\x00\\") || strings.HasPrefix(p, "/") || filepath.IsAbs(p) || len(p) > 1024 {
		return ""
	}
	p = strings.TrimPrefix(p, "./")
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return ""
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "" // even when it would clean away: the model was trying something
		}
	}
	return c
}

// lineCount returns the number of lines of a regular file inside the tree,
// or -1 when rel is not one. Symlinks are refused (snapshots have none, and a
// link is the classic way out of a tree).
func (t *tree) lineCount(rel string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.lines[rel]; ok {
		return n
	}
	n := -1
	full := filepath.Join(t.root, filepath.FromSlash(rel))
	if fi, err := os.Lstat(full); err == nil && fi.Mode().IsRegular() && t.inside(full) {
		n = countLines(full)
	}
	t.lines[rel] = n
	return n
}

// inside resolves every symlink on the way and checks the result is still under root.
func (t *tree) inside(full string) bool {
	root, err := filepath.EvalSymlinks(t.root)
	if err != nil {
		return false
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, real)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func (t *tree) isDirOrFile(rel string) bool {
	full := filepath.Join(t.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(full)
	return err == nil && (fi.IsDir() || fi.Mode().IsRegular()) && t.inside(full)
}

func countLines(p string) int {
	f, err := os.Open(p)
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return max(n, 1)
}

// clampLines keeps a line range inside a file of n lines.
func clampLines(start, end, n int) (int, int) {
	start = min(max(start, 1), n)
	end = min(max(end, start), n)
	return start, end
}

// filter decides which paths may be reported: scope paths (the scan's) and
// out-of-scope entries (the profile's) that look like paths or globs.
type filter struct {
	scope      []string
	outOfScope []string
	threshold  int
}

func newFilter(scope []string, p *store.ThreatProfileContent) filter {
	f := filter{threshold: -1}
	for _, s := range scope {
		if c := cleanRel(s); c != "" {
			f.scope = append(f.scope, c)
		}
	}
	if p != nil {
		for _, o := range p.OutOfScope {
			o = strings.TrimSuffix(strings.TrimSpace(o), "/")
			if c := cleanRel(o); c != "" && !strings.Contains(c, " ") {
				f.outOfScope = append(f.outOfScope, c)
			}
		}
		if p.SeverityThreshold != "" {
			f.threshold = store.SeverityRank(p.SeverityThreshold)
		}
	}
	return f
}

func underOrMatch(p, pattern string) bool {
	if p == pattern || strings.HasPrefix(p, pattern+"/") {
		return true
	}
	if ok, _ := path.Match(pattern, p); ok {
		return true
	}
	// "vendor/*" style globs should cover everything below the match too.
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		if ok, _ := path.Match(pattern, d); ok {
			return true
		}
	}
	return false
}

// allowed reports whether a finding at rel may be reported, and why not.
func (f filter) allowed(rel string) (bool, string) {
	if len(f.scope) > 0 {
		in := false
		for _, s := range f.scope {
			if underOrMatch(rel, s) {
				in = true
				break
			}
		}
		if !in {
			return false, "outside the scan's paths"
		}
	}
	for _, o := range f.outOfScope {
		if underOrMatch(rel, o) {
			return false, "out of scope in the threat profile"
		}
	}
	return true, ""
}

var cweRe = regexp.MustCompile(`^(?i)cwe-?(\d{1,5})$`)

func clip(s string, n int, token string) string {
	s = strings.ToValidUTF8(scrub(strings.TrimSpace(s), token), "")
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func normSeverity(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if store.SeverityRank(s) >= 0 {
		return s, true
	}
	return store.SeverityMedium, false
}

func normConfidence(s string) string {
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "high", "medium", "low":
		return s
	}
	return "low"
}

// toReport turns one model finding into a report, or explains why it was dropped.
func toReport(rf rawFinding, t *tree, f filter, token string) (engine.Report, string) {
	rel := cleanRel(rf.FilePath)
	if rel == "" {
		return engine.Report{}, fmt.Sprintf("path %q is not inside the repository", clip(rf.FilePath, 120, token))
	}
	n := t.lineCount(rel)
	if n < 0 {
		return engine.Report{}, fmt.Sprintf("file %q does not exist in the snapshot", rel)
	}
	if ok, why := f.allowed(rel); !ok {
		return engine.Report{}, fmt.Sprintf("%s is %s", rel, why)
	}
	reported := clip(rf.Title, maxTitle, token)
	if reported == "" {
		return engine.Report{}, "finding without a title"
	}
	category := clip(strings.ToLower(rf.Category), maxCategory, token)
	title := titleWithoutPath(reported, rel, category)
	sev, _ := normSeverity(rf.Severity)
	start, end := clampLines(rf.StartLine, rf.EndLine, n)
	r := engine.Report{
		Title:          title,
		Severity:       sev,
		Confidence:     normConfidence(rf.Confidence),
		Category:       category,
		FilePath:       rel,
		StartLine:      start,
		EndLine:        end,
		Description:    clip(rf.Description, maxDescription, token),
		Evidence:       clip(rf.Evidence, maxEvidence, token),
		Recommendation: clip(rf.Recommendation, maxRecommend, token),
		CWE:            []string{},
		Locations:      []store.Location{},
	}
	if title != reported {
		// Findings stored before titles lost their path were fingerprinted
		// with the title as reported (docs/findings.md, "Codex titles").
		r.FormerTitle = reported
	}
	for _, c := range rf.CWE {
		if m := cweRe.FindStringSubmatch(strings.TrimSpace(c)); m != nil && len(r.CWE) < maxCWEs {
			r.CWE = append(r.CWE, "CWE-"+m[1])
		}
	}
	for _, l := range rf.Locations {
		lrel := cleanRel(l.FilePath)
		if lrel == "" || len(r.Locations) >= maxLocations {
			continue
		}
		ln := t.lineCount(lrel)
		if ln < 0 {
			continue
		}
		s, e := clampLines(l.StartLine, l.EndLine, ln)
		r.Locations = append(r.Locations, store.Location{FilePath: lrel, StartLine: s, EndLine: e, Note: clip(l.Note, maxNote, token)})
	}
	// Within a scan, (title, file) identifies a finding (docs/findings.md).
	h := sha256.Sum256([]byte(strings.ToLower(title) + "\x00" + rel))
	r.Key = "codex:" + hex.EncodeToString(h[:8])
	return r, ""
}

// planComponents keeps the components whose paths exist in the tree (and in
// scope), cleaning every path.
func planComponents(cs []component, t *tree, f filter, limit int, token string) []component {
	var out []component
	seen := map[string]bool{}
	for _, c := range cs {
		var paths []string
		for _, p := range c.Paths {
			rel := cleanRel(strings.TrimSuffix(strings.TrimSpace(p), "/"))
			if p == "." || p == "./" {
				rel = "."
			}
			if rel == "" || (rel != "." && !t.isDirOrFile(rel)) {
				continue
			}
			if rel != "." {
				if ok, _ := f.allowed(rel); !ok && !coversScope(rel, f.scope) {
					continue
				}
			}
			paths = append(paths, rel)
		}
		name := clip(c.Name, 80, token)
		if len(paths) == 0 || name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, component{Name: name, Paths: paths, Rationale: clip(c.Rationale, 500, token), Priority: normPriority(c.Priority)})
		if len(out) == limit {
			break
		}
	}
	return out
}

// coversScope: a directory that contains a scope path is still useful to audit.
func coversScope(rel string, scope []string) bool {
	for _, s := range scope {
		if strings.HasPrefix(s, rel+"/") {
			return true
		}
	}
	return false
}

func normPriority(p string) string {
	switch p = strings.ToLower(strings.TrimSpace(p)); p {
	case "high", "medium", "low":
		return p
	}
	return "medium"
}
