// Package enginetest holds test helpers shared by the engines' tests.
package enginetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// Recorder is an engine.Emitter that keeps everything it is given, for
// assertions. It is safe for concurrent use while an engine runs; read the
// fields directly once the engine has returned.
type Recorder struct {
	mu              sync.Mutex
	Logs            []string // "level: message"
	ProgressUpdates []store.ScanProgress
	Reports         []engine.Report
	Usages          []engine.UsageReport
	Stages          []store.StageResult
	// OnProgress, when set, is called (outside the lock) after each progress
	// update is recorded, so a test can react mid-run (e.g. cancel).
	OnProgress func(store.ScanProgress)
}

// appendLocked appends v to *list under mu; every Emitter method is this one
// step, so it is written once.
func appendLocked[T any](mu *sync.Mutex, list *[]T, v T) {
	mu.Lock()
	defer mu.Unlock()
	*list = append(*list, v)
}

func (r *Recorder) Log(level, msg string)      { appendLocked(&r.mu, &r.Logs, level+": "+msg) }
func (r *Recorder) Finding(f engine.Report)    { appendLocked(&r.mu, &r.Reports, f) }
func (r *Recorder) Usage(u engine.UsageReport) { appendLocked(&r.mu, &r.Usages, u) }
func (r *Recorder) Stage(s store.StageResult)  { appendLocked(&r.mu, &r.Stages, s) }

func (r *Recorder) Progress(p store.ScanProgress) {
	appendLocked(&r.mu, &r.ProgressUpdates, p)
	if r.OnProgress != nil {
		r.OnProgress(p)
	}
}

// StageNamed is the recorded result of the named stage (zero if none).
func (r *Recorder) StageNamed(name string) store.StageResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.Stages {
		if s.Stage == name {
			return s
		}
	}
	return store.StageResult{}
}

// AllLogs is every log line, one per line.
func (r *Recorder) AllLogs() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.Logs, "\n")
}

// TotalUsage sums the recorded model usage.
func (r *Recorder) TotalUsage() store.Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	var u store.Usage
	for _, x := range r.Usages {
		u.Add(x.Usage)
	}
	return u
}

// Final returns the last report per key, as the runner would store them.
func (r *Recorder) Final() map[string]engine.Report {
	out := map[string]engine.Report{}
	for _, rep := range r.Reports {
		out[rep.Key] = rep
	}
	return out
}

// Dump is everything emitted, serialised, for leak checks.
func (r *Recorder) Dump(t testing.TB) string {
	t.Helper()
	b, err := json.Marshal(struct {
		R []engine.Report
		L []string
		P []store.ScanProgress
		S []store.StageResult
	}{r.Reports, r.Logs, r.ProgressUpdates, r.Stages})
	if err != nil {
		t.Fatal(err)
	}
	// Reports are JSON-escaped; unescape the few characters that matter.
	return string(b) + fmt.Sprint(r.Reports)
}
