package scans

import (
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

func TestTransitionTable(t *testing.T) {
	legal := map[[2]string]bool{
		{store.ScanQueued, store.ScanClaimed}:    true,
		{store.ScanQueued, store.ScanCancelled}:  true,
		{store.ScanClaimed, store.ScanRunning}:   true,
		{store.ScanClaimed, store.ScanQueued}:    true,
		{store.ScanClaimed, store.ScanFailed}:    true,
		{store.ScanClaimed, store.ScanCancelled}: true,
		{store.ScanRunning, store.ScanCompleted}: true,
		{store.ScanRunning, store.ScanFailed}:    true,
		{store.ScanRunning, store.ScanCancelled}: true,
		{store.ScanRunning, store.ScanQueued}:    true,
	}
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	targets := append(append([]string{}, Statuses...), "", "bogus")
	for _, from := range Statuses {
		for _, to := range targets {
			s := &store.Scan{ID: "scan_x", Status: from, ClaimedBy: "wrk_1"}
			err := Transition(s, to, now)
			if legal[[2]string{from, to}] {
				if err != nil {
					t.Errorf("%s → %s: unexpected error %v", from, to, err)
				}
				if s.Status != to {
					t.Errorf("%s → %s: status is %s", from, to, s.Status)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s → %s: illegal transition accepted", from, to)
				continue
			}
			if !apperr.IsCode(err, apperr.Conflict) {
				t.Errorf("%s → %s: want a conflict error, got %v", from, to, err)
			}
			if s.Status != from || s.ClaimedBy != "wrk_1" || s.FinishedAt != nil {
				t.Errorf("%s → %s: rejected transition modified the scan: %+v", from, to, s)
			}
		}
	}
}

func TestTransitionMaintainsFields(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s := &store.Scan{Status: store.ScanClaimed, ClaimedBy: "wrk_1", Attempt: 1}
	if err := Transition(s, store.ScanRunning, now); err != nil {
		t.Fatal(err)
	}
	if s.StartedAt == nil || !s.StartedAt.Equal(now) || s.HeartbeatAt == nil {
		t.Fatalf("running must set started_at and heartbeat_at: %+v", s)
	}
	if err := Transition(s, store.ScanQueued, now); err != nil {
		t.Fatal(err)
	}
	if s.ClaimedBy != "" || s.StartedAt != nil || s.HeartbeatAt != nil || s.Attempt != 1 {
		t.Fatalf("re-queue must drop the claim but keep the attempt: %+v", s)
	}
	s.Status = store.ScanRunning
	if err := Fail(s, "engine_failed", "boom", store.StopError, now); err != nil {
		t.Fatal(err)
	}
	if s.FinishedAt == nil || s.Error == nil || s.Error.Code != "engine_failed" || s.StopReason != store.StopError {
		t.Fatalf("fail must set finished_at, error and stop reason: %+v", s)
	}
	c := &store.Scan{Status: store.ScanQueued}
	if err := Transition(c, store.ScanCancelled, now); err != nil || c.StopReason != store.StopCancelled {
		t.Fatalf("cancel sets stop_reason=cancelled: %+v %v", c, err)
	}
}

func TestRelease(t *testing.T) {
	now := time.Now()
	s := &store.Scan{Status: store.ScanRunning, Attempt: 1}
	if to, err := Release(s, 2, now); err != nil || to != store.ScanQueued {
		t.Fatalf("attempt 1 of 2 is re-queued, got %s %v", to, err)
	}
	s = &store.Scan{Status: store.ScanRunning, Attempt: 2}
	if to, err := Release(s, 2, now); err != nil || to != store.ScanFailed || s.StopReason != store.StopInterrupted {
		t.Fatalf("last attempt fails as interrupted, got %s %v %+v", to, err, s)
	}
	s = &store.Scan{Status: store.ScanClaimed, Attempt: 1, CancelRequestedAt: &now}
	if to, err := Release(s, 2, now); err != nil || to != store.ScanCancelled {
		t.Fatalf("a cancel request wins over re-queueing, got %s %v", to, err)
	}
	s = &store.Scan{Status: store.ScanCompleted}
	if _, err := Release(s, 2, now); err == nil {
		t.Fatal("a finished scan cannot be released")
	}
}
