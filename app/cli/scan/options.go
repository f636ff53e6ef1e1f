package scan

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/vegasec/vega/store"
)

// Exit codes (README "Vega in CI"), as gitleaks and Semgrep use them.
const (
	ExitClean    = 0 // no open finding at or above --fail-on
	ExitFindings = 1 // at least one open finding at or above --fail-on
	ExitError    = 2 // bad flags, unreadable tree, server or scan failure
)

// Help is `vega scan --help`.
const Help = `Usage: vega scan [PATH] [flags]

Scan a working tree (default: the current directory) for secrets and, when
Codex and a model provider are configured, security flaws. Without --server
the scan runs in this process on a temporary store that is removed
afterwards; with --server the tree is uploaded and scanned by a Vega server.

Scanned or uploaded: every regular file except .git, what .gitignore and
.vegaignore files exclude (in any directory), files over --max-target-bytes
and symlinks (never followed).

Output:
  -f, --format FORMAT        table (default) or json (the export's JSON document);
                             also --report-format as in gitleaks
      --json                 same as --format json
  -o, --output FILE          write the table or JSON to FILE instead of stdout;
                             also -r/--report-path as in gitleaks
      --sarif FILE           also write SARIF 2.1.0 to FILE (for GitHub code scanning)
      --fail-on SEVERITY     exit 1 when an open finding at or above SEVERITY is
                             reported: critical, high (default), medium, low, info,
                             or none to never fail on findings
  -q, --quiet                no progress on stderr
  -v, --verbose              log what the engines do on stderr

Selection:
      --dry-run              list the files that would be scanned or uploaded, and exit
      --max-target-bytes N   skip files larger than N bytes (default: the server's
                             per-file cap, VEGA_MAX_ARCHIVE_FILE_BYTES, 256 MiB)
      --engines LIST         engines to run, comma-separated (secrets, codex);
                             default: every engine available

Standalone (default):
  -b, --baseline FILE        report only findings not in FILE, an earlier
                             --format json output (matched by fingerprint)

Against a server:
      --server URL           Vega server to scan on (or VEGA_SERVER); needs an API
                             key in VEGA_API_KEY
      --project NAME         project to scan into, created if missing (required)
      --repo NAME            repository name (default: the directory's name),
                             created if missing
      --new-only             report only findings new since the repository's
                             previous complete scan
      --timeout DURATION     give up waiting for the server after this long (default 30m)

Exit codes:
  0  no open finding at or above --fail-on (dismissed findings never count)
  1  at least one open finding at or above --fail-on
  2  an error: bad flags, unreadable tree, server refused, scan failed

Examples:
  vega scan                                   # table of findings in .
  vega scan . --sarif vega.sarif              # table, plus SARIF for code scanning
  vega scan --format json -o vega.json src/   # JSON report of src/
  vega scan --baseline vega.json              # only what is new since vega.json
  vega scan --fail-on critical                # fail the build only on critical
  vega scan --dry-run                         # what would be scanned
  VEGA_API_KEY=vk_... vega scan --server https://vega.example.com \
      --project shop --new-only --sarif vega.sarif
`

// options are the parsed flags.
type options struct {
	path        string
	format      string // table | json
	output      string
	sarif       string
	failOn      string // a severity or "none"
	quiet       bool
	verbose     bool
	dryRun      bool
	maxBytes    int64
	engines     []string
	baseline    string
	server      string
	project     string
	repo        string
	newOnly     bool
	timeout     string
	helpWanted  bool
	maxBytesSet bool
}

// errHelp asks for the help text (exit 0).
var errHelp = errors.New("help requested")

// parseArgs reads flags and at most one PATH, in any order, as gitleaks and
// Semgrep accept them (`vega scan . --sarif out.sarif`).
func parseArgs(args []string, getenv func(string) string) (*options, error) {
	o := &options{format: "table", failOn: store.SeverityHigh, server: getenv("VEGA_SERVER"), timeout: "30m"}
	fs := flag.NewFlagSet("vega scan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, n := range []string{"f", "format", "report-format"} {
		fs.StringVar(&o.format, n, o.format, "")
	}
	json := fs.Bool("json", false, "")
	for _, n := range []string{"o", "output", "r", "report-path"} {
		fs.StringVar(&o.output, n, "", "")
	}
	for _, n := range []string{"sarif", "sarif-output"} {
		fs.StringVar(&o.sarif, n, "", "")
	}
	fs.StringVar(&o.failOn, "fail-on", o.failOn, "")
	for _, n := range []string{"q", "quiet"} {
		fs.BoolVar(&o.quiet, n, false, "")
	}
	for _, n := range []string{"v", "verbose"} {
		fs.BoolVar(&o.verbose, n, false, "")
	}
	fs.BoolVar(&o.dryRun, "dry-run", false, "")
	fs.Func("max-target-bytes", "", func(v string) error {
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			return errors.New("want a positive number of bytes")
		}
		o.maxBytes, o.maxBytesSet = n, true
		return nil
	})
	engines := fs.String("engines", "", "")
	for _, n := range []string{"b", "baseline", "baseline-path"} {
		fs.StringVar(&o.baseline, n, "", "")
	}
	fs.StringVar(&o.server, "server", o.server, "")
	fs.StringVar(&o.project, "project", "", "")
	fs.StringVar(&o.repo, "repo", "", "")
	fs.BoolVar(&o.newOnly, "new-only", false, "")
	fs.StringVar(&o.timeout, "timeout", o.timeout, "")
	for _, n := range []string{"h", "help"} {
		fs.BoolVar(&o.helpWanted, n, false, "")
	}

	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if o.helpWanted {
			return nil, errHelp
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(paths) > 1:
		return nil, fmt.Errorf("scan takes one PATH, got %d (%s)", len(paths), strings.Join(paths, " "))
	case len(paths) == 1:
		o.path = paths[0]
	default:
		o.path = "."
	}
	if *json {
		o.format = "json"
	}
	if o.format != "table" && o.format != "json" {
		return nil, fmt.Errorf("--format: want table or json (SARIF goes to a file with --sarif FILE), got %q", o.format)
	}
	o.failOn = strings.ToLower(strings.TrimSpace(o.failOn))
	if o.failOn != "none" && store.SeverityRank(o.failOn) < 0 {
		return nil, fmt.Errorf("--fail-on: want one of %s or none, got %q", strings.Join(store.Severities, ", "), o.failOn)
	}
	for _, e := range strings.Split(*engines, ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			o.engines = append(o.engines, e)
		}
	}
	if o.server == "" {
		if o.newOnly {
			return nil, errors.New("--new-only compares with the repository's previous scan on a server: use it with --server (standalone, use --baseline FILE)")
		}
		if o.project != "" || o.repo != "" {
			return nil, errors.New("--project and --repo name where the scan goes on a server: use them with --server")
		}
	} else {
		if o.baseline != "" {
			return nil, errors.New("--baseline is for standalone scans; against a server use --new-only")
		}
		if !o.dryRun && strings.TrimSpace(o.project) == "" {
			return nil, errors.New("--project NAME is required with --server")
		}
	}
	return o, nil
}
