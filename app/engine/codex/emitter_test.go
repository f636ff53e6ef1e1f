package codex

import (
	"strings"
	"sync"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// recorder is an engine.Emitter that keeps everything for assertions.
type recorder struct {
	mu       sync.Mutex
	logs     []string
	progress []store.ScanProgress
	findings []engine.Report
	usage    []engine.UsageReport
	stages   []store.StageResult
}

func (r *recorder) Log(level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, level+": "+msg)
}
func (r *recorder) Progress(p store.ScanProgress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, p)
}
func (r *recorder) Finding(f engine.Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.findings = append(r.findings, f)
}
func (r *recorder) Usage(u engine.UsageReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.usage = append(r.usage, u)
}
func (r *recorder) Stage(s store.StageResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stages = append(r.stages, s)
}

func (r *recorder) stage(name string) store.StageResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.stages {
		if s.Stage == name {
			return s
		}
	}
	return store.StageResult{}
}

func (r *recorder) allLogs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.logs, "\n")
}

func (r *recorder) totalUsage() store.Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	var u store.Usage
	for _, x := range r.usage {
		u.Add(x.Usage)
	}
	return u
}
