// Package secrets is Vega's offline secret-detection engine (docs/secrets-engine.md): it
// runs gitleaks' default rules, as a library, over an unpacked snapshot and
// reports each distinct secret once, redacted, with a key that is stable
// across scans.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/secrets/match"
	"github.com/vegasec/vega/app/redact"
	"github.com/vegasec/vega/store"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/report"
)

// Name is the engine name used in scan requests and findings.
const Name = "secrets"

// DefaultMaxFileBytes is the largest file scanned. Source files are far
// smaller; anything bigger is data or a bundle and scanning it would only
// cost memory.
const DefaultMaxFileBytes = 8 << 20

// maxLocations caps how many places one secret lists, so a key copied into
// thousands of fixtures does not make one huge finding.
const maxLocations = 100

// progressInterval bounds how often progress is reported besides every 5%.
const progressInterval = 2 * time.Second

// Options tune an Engine; zero values mean the defaults.
type Options struct {
	// Workers is the number of files scanned in parallel (default GOMAXPROCS).
	Workers int
	// MaxFileBytes skips larger files (default DefaultMaxFileBytes).
	MaxFileBytes int64
}

// Engine implements engine.Engine. It is safe for concurrent Runs: the
// gitleaks detector is built once, lazily, and only read afterwards.
type Engine struct {
	opt Options

	once    sync.Once
	cfg     config.Config
	matcher *match.Matcher
	ratings map[string]ruleRating
	initErr error
}

var _ engine.Engine = (*Engine)(nil)

// New returns the secrets engine with default options.
func New() *Engine { return NewWithOptions(Options{}) }

// NewWithOptions returns the secrets engine with opt.
func NewWithOptions(opt Options) *Engine {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = DefaultMaxFileBytes
	}
	return &Engine{opt: opt}
}

func (e *Engine) Name() string { return Name }

func (e *Engine) init() error {
	e.once.Do(func() {
		cfg, err := DefaultRules()
		if err != nil {
			e.initErr = err
			return
		}
		e.cfg = cfg
		e.matcher = newMatcher(cfg)
		e.ratings = make(map[string]ruleRating, len(cfg.Rules))
		for id, r := range cfg.Rules {
			e.ratings[id] = rate(r)
		}
	})
	return e.initErr
}

// skipPath applies gitleaks' global path allowlist (lock files, images,
// vendored dependencies, .git) before a file is even opened.
func (e *Engine) skipPath(rel string) bool {
	for _, a := range e.cfg.Allowlists {
		if a.PathAllowed(rel) {
			return true
		}
	}
	return false
}

// Run scans in.SourceDir (limited to in.Paths when given) and emits one
// report per distinct secret. It returns ctx.Err() when cancelled; reports
// already emitted stand.
func (e *Engine) Run(ctx context.Context, in engine.Input, emit engine.Emitter) error {
	started := time.Now()
	if err := e.init(); err != nil {
		emit.Stage(store.StageResult{Engine: Name, Stage: "detect", Status: "failed", Message: "could not load the gitleaks rules"})
		return err
	}
	scope, err := normalizeScope(in.Paths)
	if err != nil {
		emit.Stage(store.StageResult{Engine: Name, Stage: "detect", Status: "failed", Message: "invalid scope paths"})
		return err
	}
	// The runner picks SourceDir, so resolving it is safe; without this a
	// root that is itself a symlink (macOS /tmp) would not be walked at all.
	root, err := filepath.EvalSymlinks(in.SourceDir)
	if err != nil {
		emit.Stage(store.StageResult{Engine: Name, Stage: "detect", Status: "failed", Message: "source directory is not readable"})
		return fmt.Errorf("secrets: source directory: %w", err)
	}

	targets, stats, err := listTargets(ctx, root, scope, walkOptions{MaxFileBytes: e.opt.MaxFileBytes, Skip: e.skipPath})
	if err != nil {
		return e.stop(ctx, emit, err)
	}
	for _, m := range stats.Missing {
		emit.Log("warn", fmt.Sprintf("secrets: scope path %s is not in the snapshot (or is a symlink); skipped", quote(m)))
	}
	emit.Log("info", fmt.Sprintf("secrets: scanning %d files with %d gitleaks rules (skipped: %d ignored by path, %d symlinks, %d over %d bytes, %d special, %d empty)",
		len(targets), len(e.cfg.Rules), stats.Ignored, stats.Symlinks, stats.Oversized, e.opt.MaxFileBytes, stats.Special, stats.Empty))
	emit.Progress(store.ScanProgress{Percent: 0, Message: fmt.Sprintf("secrets: 0/%d files scanned", len(targets)), Component: Name,
		Stage: "scan", Total: len(targets), Unit: "files"})

	// The root .gitleaksignore only (as gitleaks reads it); a symlink or
	// oversized file is read no further than the caps.
	ignores := e.readIgnoreFile(root)
	if n := len(ignores.global); n > 0 || ignores.commits > 0 {
		emit.Log("info", fmt.Sprintf("secrets: .gitleaksignore: %d entries (%d commit entries do not apply to a snapshot)", n, ignores.commits))
	}
	results := e.scanAll(ctx, targets)
	c := newCollector(emit, e.ratings, e.cfg)
	var (
		done, binaries, unreadable int
		lastPct                    int
		lastAt                     = time.Now()
	)
	for r := range results {
		if r.final {
			done++
		}
		switch {
		case r.err != nil && r.final:
			unreadable++
		case r.binary:
			binaries++
		}
		for i := range r.hits {
			h := &r.hits[i]
			if h.suppression == nil {
				h.suppression = ignores.match(r.rel, h.ruleID, h.startLine)
			}
		}
		c.add(r)
		pct := 100
		if len(targets) > 0 {
			pct = done * 100 / len(targets)
		}
		if pct >= lastPct+5 || time.Since(lastAt) >= progressInterval {
			lastPct, lastAt = pct, time.Now()
			emit.Progress(store.ScanProgress{Percent: pct, Message: fmt.Sprintf("secrets: %d/%d files scanned", done, len(targets)), Component: Name,
				Stage: "scan", Done: done, Total: len(targets), Unit: "files"})
		}
	}
	c.flush()
	if unreadable > 0 {
		emit.Log("warn", fmt.Sprintf("secrets: %d files could not be read and were skipped", unreadable))
	}
	if err := ctx.Err(); err != nil {
		return e.stop(ctx, emit, err)
	}
	emit.Progress(store.ScanProgress{Percent: 100, Message: fmt.Sprintf("secrets: %d/%d files scanned", done, len(targets)), Component: Name,
		Stage: "scan", Done: done, Total: len(targets), Unit: "files"})
	msg := fmt.Sprintf("%d files scanned (%d binary, path rules only), %d distinct secrets in %s",
		done, binaries, c.distinct(), time.Since(started).Round(time.Millisecond))
	emit.Log("info", "secrets: "+msg)
	emit.Stage(store.StageResult{Engine: Name, Stage: "detect", Status: "succeeded", Message: msg})
	return nil
}

// readIgnoreFile reads root/.gitleaksignore without following a symlink;
// a missing or unreadable file means no entries.
func (e *Engine) readIgnoreFile(root string) *ignoreList {
	f, err := openRegular(filepath.Join(root, ignoreFileName))
	if err != nil {
		return parseIgnoreFile(nil)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxIgnoreFileBytes))
	if err != nil {
		return parseIgnoreFile(nil)
	}
	return parseIgnoreFile(data)
}

func (e *Engine) stop(ctx context.Context, emit engine.Emitter, err error) error {
	if ctx.Err() != nil {
		emit.Stage(store.StageResult{Engine: Name, Stage: "detect", Status: "failed", Message: "cancelled"})
		return ctx.Err()
	}
	emit.Stage(store.StageResult{Engine: Name, Stage: "detect", Status: "failed", Message: "could not list the source files"})
	return fmt.Errorf("secrets: %w", err)
}

// fileResult is what a worker found in one file. Raw secrets never leave
// the worker: hits carry only keys, lengths and redacted evidence.
type fileResult struct {
	rel    string
	hits   []hit
	binary bool
	err    error
	// final marks a file's last result: files larger than one segment
	// report once per segment.
	final bool
}

type hit struct {
	key       string
	ruleID    string
	startLine int
	endLine   int
	// span is where the secret itself lies (zero for path-only rules and
	// when it cannot be found in the line, e.g. a decoded secret).
	span      span
	evidence  string
	secretLen int
	// suppression is the in-source suppression of this location, if any.
	suppression *store.Suppression
}

// unit is one piece of work: a whole small file (seg == nil, the worker
// reads it) or one segment of a large file, read by the feeder.
type unit struct {
	t   target
	seg *segmentText
}

// scanAll fans files and segments out to the workers (files and segments
// are the units of work, so both cores stay busy on a tree whose time is in
// a few large files); the channel closes when every worker has stopped
// (after the last unit, or promptly on cancellation). Large files are
// streamed by the feeder, once, front to back: at most a few segments are
// in memory at any time.
func (e *Engine) scanAll(ctx context.Context, targets []target) <-chan fileResult {
	jobs := make(chan unit, e.opt.Workers)
	results := make(chan fileResult, 2*e.opt.Workers)
	send := func(u unit) bool {
		select {
		case jobs <- u:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(jobs)
		for _, t := range targets {
			if t.Size <= segmentBytes+segmentOverlap {
				if !send(unit{t: t}) {
					return
				}
				continue
			}
			if err := e.feedSegments(ctx, t, send); err != nil {
				select {
				case results <- fileResult{rel: t.Rel, err: err, final: true}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < e.opt.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				if ctx.Err() != nil {
					continue // drain quickly; the feeder stops too
				}
				if u.seg == nil {
					results <- e.scanFile(ctx, u.t)
				} else {
					results <- e.scanSegment(ctx, u.t, *u.seg)
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	return results
}

// errStopped ends a feed whose scan was cancelled.
var errStopped = errors.New("scan stopped")

// feedSegments streams a large file into segments and sends each as a
// unit. A binary file (NUL in its first bytes) is sent as one segment
// without content, so only path rules apply.
func (e *Engine) feedSegments(ctx context.Context, t target, send func(unit) bool) error {
	f, err := openRegular(t.Abs)
	if err != nil {
		return err
	}
	defer f.Close()
	err = streamSegments(io.LimitReader(f, e.opt.MaxFileBytes), segmentBytes, segmentOverlap, func(s segmentText) error {
		if s.first && isBinary(s.raw) {
			s = segmentText{first: true, last: true}
			if !send(unit{t: t, seg: &s}) {
				return errStopped
			}
			return errBinary
		}
		if !send(unit{t: t, seg: &s}) {
			return errStopped
		}
		return nil
	})
	if errors.Is(err, errBinary) || errors.Is(err, errStopped) {
		return nil
	}
	return err
}

var errBinary = errors.New("binary file")

// binarySniffBytes is how much of a file is checked for NUL bytes, the same
// heuristic git uses to call a file binary.
const binarySniffBytes = 8000

func isBinary(raw string) bool {
	return strings.IndexByte(raw[:min(len(raw), binarySniffBytes)], 0) >= 0
}

func (e *Engine) scanFile(ctx context.Context, t target) fileResult {
	data, err := readRegular(t.Abs, e.opt.MaxFileBytes)
	if err != nil {
		return fileResult{rel: t.Rel, err: err, final: true}
	}
	raw := string(data)
	if isBinary(raw) {
		// Content rules are meaningless on binaries, but path rules (key
		// stores such as .p12/.pfx) still apply.
		raw = ""
	}
	return e.scanSegment(ctx, t, segmentText{raw: raw, startLine: 1, ownEnd: len(raw), first: true, last: true})
}

// scanSegment runs the rules over one segment; the first segment of a file
// also carries the path-only rules.
func (e *Engine) scanSegment(ctx context.Context, t target, s segmentText) fileResult {
	var findings []report.Finding
	if s.first {
		findings = e.matcher.PathFindings(t.Rel)
	}
	if s.raw != "" {
		findings = append(findings, e.matcher.Detect(ctx, match.Segment{
			Path: t.Rel, Raw: s.raw, StartLine: s.startLine, OwnStart: s.ownStart, OwnEnd: s.ownEnd,
		})...)
	}
	hits := toHits(findings)
	if len(hits) > 0 && s.raw != "" {
		src := &lineSource{raw: s.raw, startLine: s.startLine}
		secrets := make([]string, 0, len(findings))
		for _, f := range findings {
			secrets = append(secrets, f.Secret)
		}
		for i := range hits {
			if hits[i].startLine > 0 {
				hits[i].suppression = inlineSuppression(src, t.Rel, hits[i].ruleID, hits[i].startLine, hits[i].endLine, secrets)
			}
		}
	}
	return fileResult{rel: t.Rel, hits: hits, binary: s.first && s.last && s.raw == "" && t.Size > 0, final: s.last}
}

// openRegular opens a regular file without following symlinks.
func openRegular(abs string) (*os.File, error) {
	f, err := os.OpenFile(abs, openFlags, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, errors.New("not a regular file")
	}
	return f, nil
}

// readRegular reads a regular file of at most max bytes without following
// symlinks.
func readRegular(abs string, max int64) ([]byte, error) {
	f, err := openRegular(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, errors.New("file grew past the size limit")
	}
	return data, nil
}

// toHits turns gitleaks findings of one file into redacted hits. Every
// secret of the file is redacted from every evidence line, and so is what
// sits beside it (redact.Evidence: passwords in URLs, secret-named values,
// other random-looking tokens).
func toHits(findings []report.Finding) []hit {
	if len(findings) == 0 {
		return nil
	}
	// Match and Line contain the secret verbatim; only their redacted forms
	// are ever used.
	secrets := make([]string, 0, len(findings))
	for _, f := range findings {
		secrets = append(secrets, f.Secret)
	}
	hits := make([]hit, 0, len(findings))
	for _, f := range findings {
		h := hit{ruleID: f.RuleID, startLine: f.StartLine, endLine: f.EndLine}
		if f.Secret == "" {
			// Path-only rule: the file itself is the finding.
			h.key = secretKey(f.RuleID, "path:"+f.File)
			h.startLine, h.endLine = 0, 0
			h.evidence = "the file name matches the " + f.RuleID + " pattern"
		} else {
			h.key = secretKey(f.RuleID, f.Secret)
			h.span = secretSpan(f)
			h.secretLen = len([]rune(f.Secret))
			h.evidence = redact.Evidence(f.Line, f.Secret, secrets)
		}
		hits = append(hits, h)
	}
	return hits
}

// collector turns hits into reports: the first sighting of a secret is
// emitted at once (findings appear live); secrets seen in several places are
// re-emitted at the end with every location and the lexically first one as
// primary, so the final report does not depend on worker scheduling.
type collector struct {
	emit    engine.Emitter
	ratings map[string]ruleRating
	cfg     config.Config
	byKey   map[string]*aggregate
}

type aggregate struct {
	first hit
	rel   string
	locs  []store.Location
	seen  map[store.Location]bool
	multi bool
	// open is set once any location of the secret is not suppressed: a
	// suppression covers its own place only, never a copy elsewhere.
	open bool
}

func newCollector(emit engine.Emitter, ratings map[string]ruleRating, cfg config.Config) *collector {
	return &collector{emit: emit, ratings: ratings, cfg: cfg, byKey: map[string]*aggregate{}}
}

func (c *collector) distinct() int { return len(c.byKey) }

func (c *collector) add(r fileResult) {
	for _, h := range r.hits {
		loc := store.Location{FilePath: r.rel, StartLine: h.startLine, EndLine: h.endLine, Role: "occurrence"}
		if h.span.startColumn > 0 {
			loc.StartLine, loc.EndLine = h.span.startLine, h.span.endLine
			loc.StartColumn, loc.EndColumn, loc.Secret = h.span.startColumn, h.span.endColumn, true
		}
		a, ok := c.byKey[h.key]
		if !ok {
			a = &aggregate{first: h, rel: r.rel, seen: map[store.Location]bool{loc: true}, locs: []store.Location{loc}, open: h.suppression == nil}
			c.byKey[h.key] = a
			c.emit.Finding(c.report(a))
			continue
		}
		if a.seen[loc] {
			continue
		}
		a.seen[loc] = true
		a.multi = true
		a.open = a.open || h.suppression == nil
		if len(a.locs) < maxLocations {
			a.locs = append(a.locs, loc)
		}
		// Keep the evidence of the lexically first location as primary.
		if less(loc, store.Location{FilePath: a.rel, StartLine: a.first.startLine}) {
			a.first, a.rel = h, r.rel
		}
	}
}

func less(a, b store.Location) bool {
	if a.FilePath != b.FilePath {
		return a.FilePath < b.FilePath
	}
	return a.StartLine < b.StartLine
}

// flush re-emits secrets found in more than one place, in key order.
func (c *collector) flush() {
	keys := make([]string, 0, len(c.byKey))
	for k, a := range c.byKey {
		if a.multi {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		a := c.byKey[k]
		sort.Slice(a.locs, func(i, j int) bool { return less(a.locs[i], a.locs[j]) })
		c.emit.Finding(c.report(a))
	}
}

func (c *collector) report(a *aggregate) engine.Report {
	h := a.first
	rating, ok := c.ratings[h.ruleID]
	if !ok {
		rating = ruleRating{Severity: store.SeverityHigh, Confidence: "medium"}
	}
	desc := c.cfg.Rules[h.ruleID].Description
	if h.secretLen > 0 {
		desc += fmt.Sprintf(" The value (%d characters) is redacted here and in every export.", h.secretLen)
	}
	if len(a.locs) > 1 {
		desc += fmt.Sprintf(" The same value appears in %d places.", len(a.locs))
	}
	locs := append([]store.Location(nil), a.locs...)
	var sup *store.Suppression
	if !a.open {
		sup = h.suppression
	}
	return engine.Report{
		Suppression:    sup,
		Key:            h.key,
		StableKey:      true,
		Title:          label(h.ruleID), // the path is the Location column's
		Severity:       rating.Severity,
		Confidence:     rating.Confidence,
		Category:       h.ruleID,
		CWE:            []string{"CWE-798"},
		FilePath:       a.rel,
		StartLine:      h.startLine,
		EndLine:        h.endLine,
		Description:    desc,
		Evidence:       h.evidence,
		Recommendation: recommendation(h.ruleID),
		Locations:      locs,
	}
}
