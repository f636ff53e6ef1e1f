package runner_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
)

// jumpy reports progress as a concurrent audit does: out of order, and
// starting again from a low percent after the engine before it reached 100.
type jumpy struct{}

func (jumpy) Name() string { return "codex" }
func (jumpy) Run(_ context.Context, _ engine.Input, emit engine.Emitter) error {
	emit.Progress(store.ScanProgress{Percent: 1, Message: "Planning the audit", Stage: "plan"})
	for _, d := range []int{0, 2, 1, 3, 2, 4} { // a late "Auditing" report after an "Audited" one
		emit.Progress(store.ScanProgress{Percent: 5 + 90*d/4, Stage: "audit", Done: d, Total: 4, Unit: "components",
			ComponentsDone: d, ComponentsTotal: 4})
	}
	return nil
}

func TestProgressNeverGoesBackwards(t *testing.T) {
	h := newHarness(t, map[string]string{"a.txt": "x\n", "b.txt": "y\n"}, jumpy{})
	s := h.scan(scans.CreateInput{Engines: []string{"secrets", "codex"}})
	if s.Status != store.ScanCompleted {
		t.Fatalf("scan %s", s.Status)
	}
	last, lastDone := -1, map[string]int{}
	sawUnits := map[string]bool{}
	n := 0
	for _, ev := range h.events(s.ID) {
		if ev.Kind != store.EventScanProgress {
			continue
		}
		var p store.ScanProgress
		if err := json.Unmarshal(ev.Payload, &p); err != nil {
			t.Fatal(err)
		}
		n++
		if p.Percent < last {
			t.Fatalf("event %d: percent went from %d to %d", ev.Seq, last, p.Percent)
		}
		last = p.Percent
		if len(p.Engines) != 2 || p.Engines[0].Engine != "secrets" || p.Engines[1].Engine != "codex" {
			t.Fatalf("engines %+v", p.Engines)
		}
		for _, e := range p.Engines {
			key := e.Engine + "/" + e.Stage
			if e.Done < lastDone[key] {
				t.Fatalf("event %d: %s done went from %d to %d", ev.Seq, key, lastDone[key], e.Done)
			}
			lastDone[key] = e.Done
			if e.Total > 0 {
				sawUnits[e.Engine+" "+e.Unit] = true
			}
		}
		if p.Engine == "codex" && p.Engines[0].State != store.EngineDone {
			t.Fatalf("secrets should be done while codex runs: %+v", p.Engines[0])
		}
	}
	if n < 5 || last != 100 {
		t.Fatalf("%d progress events, last percent %d", n, last)
	}
	if !sawUnits["secrets files"] || !sawUnits["codex components"] {
		t.Fatalf("units reported: %v", sawUnits)
	}
	if s.Progress.Percent != 100 || len(s.Progress.Engines) != 2 {
		t.Fatalf("stored progress %+v", s.Progress)
	}
}
