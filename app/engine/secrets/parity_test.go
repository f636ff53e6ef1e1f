package secrets

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/testutil/srctree"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/sources"
)

// loc is what parity compares: the file, line and rule of a finding.
type loc struct {
	File string
	Line int
	Rule string
}

func (l loc) String() string { return fmt.Sprintf("%s:%d %s", l.File, l.Line, l.Rule) }

// gitleaksDir runs the code path of the `gitleaks dir` CLI (v8.30.1) with
// its defaults — sources.Files + Detector.DetectSource, decoding depth 5, no
// archive descent, inline gitleaks:allow honoured — over root, and returns
// its locations relative to root.
func gitleaksDir(tb testing.TB, root string) map[loc]bool {
	tb.Helper()
	cfg, err := DefaultRules()
	if err != nil {
		tb.Fatal(err)
	}
	d := detect.NewDetector(cfg)
	d.MaxDecodeDepth = 5
	d.MaxArchiveDepth = 0
	fs, err := d.DetectSource(context.Background(), &sources.Files{
		Config: &d.Config, Path: root, Sema: d.Sema, FollowSymlinks: false, MaxArchiveDepth: d.MaxArchiveDepth,
	})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[loc]bool{}
	for _, f := range fs {
		rel, err := filepath.Rel(root, f.File)
		if err != nil {
			tb.Fatal(err)
		}
		out[loc{filepath.ToSlash(rel), f.StartLine, f.RuleID}] = true
	}
	return out
}

// engineLocations runs the engine over root and returns every location of
// every final report. It fails when a report hit the location cap, which
// would hide locations from the comparison.
func engineLocations(tb testing.TB, e *Engine, root string) map[loc]bool {
	tb.Helper()
	rec := &recorder{}
	if err := e.Run(context.Background(), engine.Input{SourceDir: root}, rec); err != nil {
		tb.Fatal(err)
	}
	out := map[loc]bool{}
	for _, r := range rec.Final() {
		if len(r.Locations) >= maxLocations {
			tb.Fatalf("report %s lists %d locations (the cap): the comparison would be incomplete", r.Key, len(r.Locations))
		}
		for _, l := range r.Locations {
			out[loc{l.FilePath, l.StartLine, r.Category}] = true
		}
	}
	return out
}

// diffLocations returns the locations in a but not in b, sorted.
func diffLocations(a, b map[loc]bool) []loc {
	var out []loc
	for l := range a {
		if !b[l] {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// TestParityWithGitleaksDir: on a tree with the shape of a real repository
// (multi-megabyte fixtures and bundles dense in keywords, vendored
// directories, private keys and secrets straddling 100 KB and 1 MiB
// boundaries), the engine reports every location `gitleaks dir` reports —
// same file, line and rule — and every planted secret.
func TestParityWithGitleaksDir(t *testing.T) {
	if testing.Short() {
		t.Skip("runs gitleaks over a 6 MB tree")
	}
	root := t.TempDir()
	stats := srctree.WriteRepo(t, root, srctree.SmallRepoShape())
	want := gitleaksDir(t, root)
	got := engineLocations(t, New(), root)
	if missed := diffLocations(want, got); len(missed) > 0 {
		t.Errorf("engine missed %d of %d gitleaks locations:\n%s", len(missed), len(want), joinLocs(missed))
	}
	extra := diffLocations(got, want)
	t.Logf("%d files, %d bytes; gitleaks %d locations, engine %d (%d only in the engine)", stats.Files, stats.Bytes, len(want), len(got), len(extra))
	for _, l := range extra {
		t.Logf("engine only: %s", l)
	}
	rules := map[string]string{"aws": "aws-access-token", "github": "github-pat", "stripe": "stripe-access-token", "private-key": "private-key"}
	for _, p := range stats.Planted {
		if !got[loc{p.Path, p.Line, rules[p.Kind]}] {
			t.Errorf("planted %s at %s:%d not reported", p.Kind, p.Path, p.Line)
		}
	}
}

func joinLocs(ls []loc) string {
	var b strings.Builder
	for i, l := range ls {
		if i == 40 {
			fmt.Fprintf(&b, "  … and %d more\n", len(ls)-40)
			break
		}
		b.WriteString("  " + l.String() + "\n")
	}
	return b.String()
}
