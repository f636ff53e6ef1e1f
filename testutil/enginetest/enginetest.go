// Package enginetest has an engine.Emitter for tests that run an engine and
// look at what it emitted.
package enginetest

import (
	"slices"
	"sync"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// Recorder is an engine.Emitter that keeps every call, safe for an
// engine's concurrent workers: one recorder instead of one per test file.
type Recorder struct {
	mu       sync.Mutex
	logs     []string
	progress []store.ScanProgress
	reports  []engine.Report
	usage    []engine.UsageReport
	stages   []store.StageResult
}

func (r *Recorder) Log(level, msg string) {
	r.locked(func() { r.logs = append(r.logs, level+": "+msg) })
}
func (r *Recorder) Progress(p store.ScanProgress) {
	r.locked(func() { r.progress = append(r.progress, p) })
}
func (r *Recorder) Finding(rep engine.Report) {
	r.locked(func() { r.reports = append(r.reports, rep) })
}
func (r *Recorder) Usage(u engine.UsageReport) { r.locked(func() { r.usage = append(r.usage, u) }) }
func (r *Recorder) Stage(s store.StageResult)  { r.locked(func() { r.stages = append(r.stages, s) }) }

// Reports are the findings emitted so far, in order.
func (r *Recorder) Reports() []engine.Report { return snapshot(r, &r.reports) }

// Logs are the log lines emitted so far as "level: message".
func (r *Recorder) Logs() []string { return snapshot(r, &r.logs) }

// Stages are the stage results emitted so far.
func (r *Recorder) Stages() []store.StageResult { return snapshot(r, &r.stages) }

func (r *Recorder) locked(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// snapshot copies one of r's lists under its lock.
func snapshot[T any](r *Recorder, list *[]T) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(*list)
}
