package runner

import (
	"strings"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// emitter is what one engine reports through: logs, progress and usage
// become events; findings are upserted first, then announced as
// finding_updated with the stored finding (IDs included, so the UI can link).
type emitter struct {
	x      *run
	engine string
}

var _ engine.Emitter = (*emitter)(nil)

func (e *emitter) Log(level, message string) {
	lvl := store.LogLevel(level)
	if !lvl.Valid() {
		lvl = store.LogInfo
	}
	if len(message) > 4000 {
		message = message[:4000]
	}
	e.x.w.Emit(store.ScanLogPayload{Level: lvl, Message: e.x.clean(message), Engine: e.engine})
}

func (e *emitter) Progress(p store.ScanProgress) {
	if len(p.Message) > 500 {
		p.Message = p.Message[:500]
	}
	p.Engines = nil // the runner's to set
	e.x.w.Emit(store.ScanProgressPayload(e.x.prog.report(e.engine, p)))
}

func (e *emitter) Finding(r engine.Report) {
	f, err := e.x.rec.Record(e.x.bg, e.engine, r)
	if err != nil {
		e.x.mu.Lock()
		if e.x.recErr == nil {
			e.x.recErr = err
		}
		e.x.mu.Unlock()
		return
	}
	if f == nil {
		return // below the threat profile's severity threshold
	}
	e.x.w.Emit(store.FindingUpdatedPayload{Key: r.Key, Finding: *f})
}

func (e *emitter) Usage(u engine.UsageReport) {
	e.x.w.Emit(store.UsagePayload{Model: u.Model, Usage: u.Usage})
}

func (e *emitter) Stage(s store.StageResult) {
	if s.Engine == "" {
		s.Engine = e.engine
	}
	if !s.Status.Valid() {
		s.Status = store.StageFailed
	}
	s.Message = e.x.clean(strings.TrimSpace(s.Message))
	e.x.stage(s)
}
