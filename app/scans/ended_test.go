package scans_test

import (
	"context"
	"sync"
	"testing"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// endedHook records the scans the service announced as ended.
type endedHook struct {
	mu    sync.Mutex
	ended []string // id:status
}

func (h *endedHook) ScanEnded(_ context.Context, s *store.Scan) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended = append(h.ended, s.ID+":"+string(s.Status))
}

func (h *endedHook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.ended
	h.ended = nil
	return out
}

func TestEndedHook(t *testing.T) { scantest.Stores(t, endedHookCases) }

// endedHookCases: the hook hears every completed or failed scan once,
// whichever verb ended it, and never a cancelled one.
func endedHookCases(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	hook := &endedHook{}
	v.svc = scans.New(v.e.Store, scans.Options{MaxActivePerUser: 10, MaxAttempts: 1, DefaultEngines: []string{"secrets"},
		KnownEngines: []string{"secrets"}, Queue: v.queue, Events: v.broker, Now: v.clock.now, Ended: hook})
	ctx := context.Background()
	expect := func(what string, want ...string) {
		t.Helper()
		got := hook.take()
		if len(got) != len(want) {
			t.Fatalf("%s: hook heard %v, want %v", what, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: hook heard %v, want %v", what, got, want)
			}
		}
	}

	done := v.running()
	expect("before the end")
	if _, err := v.svc.Finish(ctx, done.ID, done.Attempt, scans.Outcome{}); err != nil {
		t.Fatal(err)
	}
	expect("Finish completed", done.ID+":completed")

	failed := v.running()
	if _, err := v.svc.Finish(ctx, failed.ID, failed.Attempt, scans.Outcome{Error: &store.ScanError{Code: store.ScanErrEngineFailed, Message: "x"}}); err != nil {
		t.Fatal(err)
	}
	expect("Finish failed", failed.ID+":failed")

	aborted := v.running()
	if _, err := v.svc.Abort(ctx, aborted.ID, aborted.Attempt, store.ScanErrInterrupted, "task stopped"); err != nil {
		t.Fatal(err)
	}
	expect("Abort", aborted.ID+":failed")

	released := v.running()
	if to, err := v.svc.Release(ctx, released.ID, released.Attempt, "shut down"); err != nil || to != store.ScanFailed {
		t.Fatalf("release of the last attempt: %s %v", to, err)
	}
	expect("Release with no attempts left", released.ID+":failed")

	stopped := v.running()
	if _, err := v.svc.Cancel(ctx, store.System(), v.user.ID, stopped.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := v.svc.Finish(ctx, stopped.ID, stopped.Attempt, scans.Outcome{Cancelled: true}); err != nil {
		t.Fatal(err)
	}
	expect("cancelled")
}
