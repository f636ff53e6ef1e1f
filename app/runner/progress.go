package runner

import (
	"sync"

	"github.com/vegasec/vega/store"
)

// progressTracker turns what engines report into the scan's progress
// (docs/scan-lifecycle.md, "Progress"). Engines run one after another and
// each reports 0–100 % of its own work; a codex audit reports from several
// goroutines, so two reports can arrive out of order. Passing an engine's
// report through as the scan's percent made the bar jump back (85 % → 67 %)
// at every engine switch and at every out-of-order report. Here:
//
//   - an engine's percent and its done count within a stage only rise;
//   - the scan's percent is the mean of the engines' percents (an engine
//     that finished counts 100, one not started 0), and only rises.
type progressTracker struct {
	mu      sync.Mutex
	order   []string
	engines map[string]*store.EngineProgress
	percent int
	last    store.ScanProgress
}

func newProgressTracker(engines []string) *progressTracker {
	t := &progressTracker{engines: map[string]*store.EngineProgress{}}
	for _, name := range engines {
		if _, dup := t.engines[name]; dup {
			continue
		}
		t.order = append(t.order, name)
		t.engines[name] = &store.EngineProgress{Engine: name, State: store.EnginePending}
	}
	return t
}

func clampPercent(p int) int { return max(0, min(100, p)) }

// report records one engine's report and returns the scan's progress to
// publish.
func (t *progressTracker) report(engineName string, p store.ScanProgress) store.ScanProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.engine(engineName)
	if e.State == store.EnginePending {
		e.State = store.EngineRunning
	}
	e.Percent = max(e.Percent, clampPercent(p.Percent))
	done, total, unit := p.Done, p.Total, p.Unit
	if total == 0 && p.ComponentsTotal > 0 {
		done, total, unit = p.ComponentsDone, p.ComponentsTotal, "components"
	}
	stage := p.Stage
	if total > 0 {
		if stage == "" {
			stage = unit
		}
		if stage != e.Stage || total != e.Total {
			e.Stage, e.Total, e.Done, e.Unit = stage, total, 0, unit
		}
		e.Done = max(e.Done, min(max(done, 0), total))
	} else if stage != "" && stage != e.Stage {
		e.Stage, e.Total, e.Done, e.Unit = stage, 0, 0, ""
	}
	out := p
	out.Engine = engineName
	out.Stage, out.Done, out.Total, out.Unit = e.Stage, e.Done, e.Total, e.Unit
	if p.ComponentsTotal > 0 {
		out.ComponentsDone = e.Done
	}
	return t.publish(out)
}

// finish marks an engine ended in state (done, failed or stopped).
func (t *progressTracker) finish(engineName, state string) store.ScanProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.engine(engineName)
	e.State = state
	if state == store.EngineDone {
		e.Percent = 100
		e.Done = e.Total
	}
	out := t.last
	out.Engine = engineName
	return t.publish(out)
}

// current is the latest published progress (what a heartbeat stores).
func (t *progressTracker) current() store.ScanProgress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

func (t *progressTracker) engine(name string) *store.EngineProgress {
	e, ok := t.engines[name]
	if !ok {
		e = &store.EngineProgress{Engine: name, State: store.EnginePending}
		t.engines[name] = e
		t.order = append(t.order, name)
	}
	return e
}

// publish sets the scan-wide fields of p; t.mu is held.
func (t *progressTracker) publish(p store.ScanProgress) store.ScanProgress {
	sum := 0
	p.Engines = make([]store.EngineProgress, 0, len(t.order))
	for _, name := range t.order {
		e := t.engines[name]
		sum += e.Percent
		p.Engines = append(p.Engines, *e)
	}
	if len(t.order) > 0 {
		t.percent = max(t.percent, sum/len(t.order))
	}
	p.Percent = t.percent
	t.last = p
	return p
}
