package scans_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
)

// The verbs of the sqs and ecs dispatchers: ClaimScan, Unclaim, Abort, Watch.
func TestDispatchVerbs(t *testing.T) { scantest.Stores(t, dispatchVerbs) }

func dispatchVerbs(t *testing.T, open func(testing.TB) *scantest.Env) {
	v := newVerbEnv(t, open)
	ctx := context.Background()
	if _, err := v.svc.ClaimScan(ctx, "scan_nope", "wrk_a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown scan: %v", err)
	}
	old, named := v.create(), v.create()
	got, err := v.svc.ClaimScan(ctx, named.ID, "wrk_a")
	if err != nil || got.ID != named.ID || got.Status != store.ScanClaimed || got.Attempt != 1 || got.ClaimedBy != "wrk_a" {
		t.Fatalf("the named scan is claimed, not the oldest: %+v %v", got, err)
	}
	if v.get(old.ID).Status != store.ScanQueued {
		t.Fatal("the older scan stays queued")
	}
	if _, err := v.svc.ClaimScan(ctx, named.ID, "wrk_b"); !errors.Is(err, scans.ErrNotQueued) {
		t.Fatalf("a duplicate claim: %v", err)
	}

	// Unclaim: back to queued, the attempt not counted.
	if _, err := v.svc.Unclaim(ctx, named.ID, 2, "x"); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("unclaim of another attempt: %v", err)
	}
	to, err := v.svc.Unclaim(ctx, named.ID, 1, "no Fargate capacity")
	if s := v.get(named.ID); err != nil || to != store.ScanQueued || s.Status != store.ScanQueued || s.Attempt != 0 || s.ClaimedBy != "" {
		t.Fatalf("unclaimed: %s %v %+v", to, err, s)
	}
	v.last(named.ID, store.EventScanLog)

	// Watch: a new claimer, and a fresh heartbeat while claimed.
	if _, err := v.svc.ClaimScan(ctx, named.ID, "wrk_a"); err != nil {
		t.Fatal(err)
	}
	v.clock.t = v.clock.t.Add(30 * time.Second)
	w, err := v.svc.Watch(ctx, named.ID, 1, "wrk_a", "wrk_c")
	if err != nil || w.ClaimedBy != "wrk_c" || !w.HeartbeatAt.Equal(v.clock.t) {
		t.Fatalf("watch: %+v %v", w, err)
	}
	if _, err := v.svc.Watch(ctx, named.ID, 1, "wrk_a", "wrk_d"); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("a second taker of the same task: %v", err)
	}
	if _, err := v.svc.Watch(ctx, old.ID, 1, "", "wrk_c"); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("watch of a queued scan: %v", err)
	}

	// Abort: failed with the task's story, or cancelled when one was asked.
	a, err := v.svc.Abort(ctx, named.ID, 1, store.ScanErrRunner, "runner task stopped: EssentialContainerExited, exit code 137")
	if err != nil || a.Status != store.ScanFailed || a.Error == nil || a.Error.Code != store.ScanErrRunner {
		t.Fatalf("abort: %+v %v", a, err)
	}
	v.last(named.ID, store.EventScanFailed)
	if _, err := v.svc.Abort(ctx, named.ID, 1, store.ScanErrRunner, "again"); !errors.Is(err, scans.ErrLostClaim) {
		t.Fatalf("abort of a finished scan: %v", err)
	}
	if _, err := v.svc.ClaimScan(ctx, old.ID, "wrk_a"); err != nil {
		t.Fatal(err)
	}
	r, err := v.svc.Start(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.svc.Cancel(ctx, store.System(), v.user.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if a, err := v.svc.Abort(ctx, r.ID, r.Attempt, store.ScanErrRunner, "stopped"); err != nil || a.Status != store.ScanCancelled {
		t.Fatalf("abort after a cancel request: %+v %v", a, err)
	}
	v.last(r.ID, store.EventScanCancelled)
}
