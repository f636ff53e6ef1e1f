// Package scan is `vega scan`: one command for a CI job (README "Vega in
// CI"). It selects the files of a working tree (app/ingest.SelectTree), scans
// them in this process on a temporary embedded store with the real runner
// and engines (standalone) or uploads them to a Vega server and waits for its
// scan (--server), then prints the findings as a table or the export's JSON,
// writes SARIF with app/export and exits 0, 1 or 2 by --fail-on.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vegasec/vega/app/export"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
)

// IO is the command's world: streams, environment and version.
type IO struct {
	Stdout, Stderr io.Writer
	// StderrTTY says stderr is a terminal: progress is a bar, not lines.
	StderrTTY bool
	Getenv    func(string) string
	Version   string
}

// result is what a scan produced, in either mode, before filtering.
type result struct {
	findings []store.Finding
	meta     export.Meta
}

// Main runs `vega scan args...` and returns the exit code.
func Main(ctx context.Context, args []string, sys IO) int {
	if sys.Getenv == nil {
		sys.Getenv = os.Getenv
	}
	o, err := parseArgs(args, sys.Getenv)
	if errors.Is(err, errHelp) {
		fmt.Fprint(sys.Stdout, Help)
		return ExitClean
	}
	if err != nil {
		fmt.Fprintf(sys.Stderr, "vega scan: %v\nRun 'vega scan --help' for usage.\n", err)
		return ExitError
	}
	code, err := run(ctx, o, sys)
	if err != nil {
		fmt.Fprintf(sys.Stderr, "vega scan: %v\n", err)
		return ExitError
	}
	return code
}

func run(ctx context.Context, o *options, sys IO) (int, error) {
	root, err := filepath.Abs(o.path)
	if err == nil {
		root, err = filepath.EvalSymlinks(root) // PATH itself may be a link; nothing under it is followed
	}
	if err != nil {
		return 0, fmt.Errorf("PATH %s: %w", o.path, err)
	}
	if !o.maxBytesSet {
		o.maxBytes = ingest.DefaultLimits().MaxFileBytes
	}
	prog := newProgress(sys.Stderr, sys.StderrTTY, o.quiet)
	sel, err := ingest.SelectTree(ctx, root, ingest.SelectOptions{MaxFileBytes: o.maxBytes})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", o.path, err)
	}
	if o.dryRun {
		return ExitClean, listSelection(sys.Stdout, o.format, sel)
	}
	if len(sel.Files) == 0 {
		prog.line("no files to scan in %s", o.path)
	} else {
		prog.line("%d files (%s) selected in %s; skipped: %d ignored, %d symlinks, %d over %d bytes, %d unusable names",
			len(sel.Files), humanBytes(sel.TotalBytes), o.path, sel.Skipped.Ignored, sel.Skipped.Symlinks,
			sel.Skipped.Oversized, o.maxBytes, sel.Skipped.Special)
	}

	var res *result
	if o.server != "" {
		res, err = runRemote(ctx, o, sys, root, sel, prog)
	} else {
		res, err = runStandalone(ctx, o, sys, root, sel, prog)
	}
	if err != nil {
		return 0, err
	}
	findings := res.findings
	if o.baseline != "" {
		known, err := readBaseline(o.baseline)
		if err != nil {
			return 0, err
		}
		findings = notIn(findings, known)
	}
	if err := writeOutputs(o, sys.Stdout, findings, res.meta); err != nil {
		return 0, err
	}
	failing := countFailing(findings, o.failOn)
	if failing > 0 {
		prog.line("%d open finding(s) at or above %s: exit %d", failing, o.failOn, ExitFindings)
		return ExitFindings, nil
	}
	return ExitClean, nil
}

// countFailing counts open (or confirmed) findings at or above failOn;
// dismissed and fixed ones never fail a build.
func countFailing(findings []store.Finding, failOn string) int {
	if failOn == "none" {
		return 0
	}
	min := store.SeverityRank(failOn)
	n := 0
	for _, f := range findings {
		if (f.Status == store.FindingOpen || f.Status == store.FindingConfirmed) && store.SeverityRank(f.Severity) >= min {
			n++
		}
	}
	return n
}
