// Package engine defines the analyzer interface (docs/architecture.md, "Layers"). An engine reads an
// unpacked snapshot and reports what it finds through an Emitter; the runner
// turns those reports into events, findings and stage results.
package engine

import (
	"context"
	"errors"

	"github.com/vegasec/vega/store"
)

// ErrBudgetExceeded is returned (wrapped) by an engine whose LLM budget ran out.
// The runner ends the scan with stop_reason=budget_exceeded and keeps its findings.
var ErrBudgetExceeded = errors.New("engine: scan budget exceeded")

// Report is a finding as the engine sees it (the payload of finding_updated).
type Report struct {
	// Key is the engine-local identity; reports with the same key update one finding.
	Key string `json:"key,omitempty"`
	// StableKey says Key is stable across scans (e.g. rule + secret hash) and
	// may join the cross-scan fingerprint.
	StableKey bool   `json:"-"`
	Title     string `json:"title"`
	// FormerTitle is the title as the engine used to write it, when it now
	// rewrites it (Codex strips the finding's own path from model titles,
	// docs/findings.md "Codex titles"). Findings stored before were
	// fingerprinted with it: the recorder finds them by it and re-keys them.
	FormerTitle    string           `json:"-"`
	Severity       string           `json:"severity"`
	Confidence     string           `json:"confidence"`
	Category       string           `json:"category"`
	CWE            []string         `json:"cwe"`
	FilePath       string           `json:"file_path"`
	StartLine      int              `json:"start_line"`
	EndLine        int              `json:"end_line"`
	Description    string           `json:"description"`
	Evidence       string           `json:"evidence"`
	Recommendation string           `json:"recommendation"`
	Locations      []store.Location `json:"locations"`
	// Suppression is set when the source suppresses the finding in place
	// (secrets engine: gitleaks:allow, .gitleaksignore, vega:ignore). The
	// report is still emitted; the recorder decides (docs/findings.md).
	Suppression *store.Suppression `json:"suppression,omitempty"`
}

// UsageReport is model usage of one LLM call.
type UsageReport struct {
	Model string `json:"model"`
	store.Usage
}

// Emitter receives an engine's output. Implementations are safe for concurrent use.
type Emitter interface {
	Log(level, message string)
	Progress(p store.ScanProgress)
	Finding(r Report)
	Usage(u UsageReport)
	Stage(r store.StageResult)
}

// Discard is an Emitter that drops everything: for a run nobody records
// (profile generation), and for test emitters to embed so they implement only
// the calls they count.
type Discard struct{}

func (Discard) Log(string, string)          {}
func (Discard) Progress(store.ScanProgress) {}
func (Discard) Finding(Report)              {}
func (Discard) Usage(UsageReport)           {}
func (Discard) Stage(store.StageResult)     {}

// LLM is where an engine sends model traffic: the proxy and a scan-scoped token.
type LLM struct {
	BaseURL string
	Token   string
}

// Input is everything an engine may read.
type Input struct {
	ScanID    string
	SourceDir string   // unpacked snapshot, private to this run
	Paths     []string // optional scope, relative to SourceDir
	Profile   *store.ThreatProfileContent
	LLM       LLM
	// ArtifactDir is a private directory for debug output (prompts, raw model
	// output, stderr); the runner zips it into debug-bundle.zip.
	ArtifactDir string
}

type Engine interface {
	Name() string
	Run(ctx context.Context, in Input, emit Emitter) error
}
