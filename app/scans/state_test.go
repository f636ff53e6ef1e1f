package scans

import (
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
)

func TestTransitionTable(t *testing.T) {
	legal := map[[2]store.ScanStatus]bool{
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
	targets := append(append([]store.ScanStatus{}, store.ScanStatuses...), "", "bogus")
	for _, from := range store.ScanStatuses {
		for _, to := range targets {
			s := &store.Scan{ID: "scan_x", Status: from, ClaimedBy: "wrk_1"}
			err := Transition(s, to, now)
			if legal[[2]store.ScanStatus{from, to}] {
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
	if err := fail(s, store.ScanErrEngineFailed, "boom", store.StopError, now); err != nil {
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

func TestHandBack(t *testing.T) {
	now := time.Now()
	s := &store.Scan{Status: store.ScanRunning, Attempt: 1}
	if to, err := handBack(s, 2, now); err != nil || to != store.ScanQueued {
		t.Fatalf("attempt 1 of 2 is re-queued, got %s %v", to, err)
	}
	s = &store.Scan{Status: store.ScanRunning, Attempt: 2}
	if to, err := handBack(s, 2, now); err != nil || to != store.ScanFailed || s.StopReason != store.StopInterrupted {
		t.Fatalf("last attempt fails as interrupted, got %s %v %+v", to, err, s)
	}
	s = &store.Scan{Status: store.ScanClaimed, Attempt: 1, CancelRequestedAt: &now}
	if to, err := handBack(s, 2, now); err != nil || to != store.ScanCancelled {
		t.Fatalf("a cancel request wins over re-queueing, got %s %v", to, err)
	}
	s = &store.Scan{Status: store.ScanCompleted}
	if _, err := handBack(s, 2, now); err == nil {
		t.Fatal("a finished scan cannot be released")
	}
}

func TestClaimCountsAttempts(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s := &store.Scan{ID: "scan_x", Status: store.ScanQueued, Attempt: 1}
	if err := claim(s, "wrk_1", now); err != nil {
		t.Fatal(err)
	}
	if s.Status != store.ScanClaimed || s.ClaimedBy != "wrk_1" || s.Attempt != 2 ||
		s.ClaimedAt == nil || !s.ClaimedAt.Equal(now) || s.HeartbeatAt == nil || !s.HeartbeatAt.Equal(now) {
		t.Fatalf("claim: %+v", s)
	}
	if err := claim(s, "wrk_2", now); !apperr.IsCode(err, apperr.Conflict) || s.ClaimedBy != "wrk_1" || s.Attempt != 2 {
		t.Fatalf("a claimed scan cannot be claimed again: %v %+v", err, s)
	}
}

// TestStaleRule pins the one definition of a stale scan: held, and its
// heartbeat (or claim) older than the TTL or started before the running cap.
func TestStaleRule(t *testing.T) {
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	old, fresh, longAgo := base.Add(-10*time.Minute), base.Add(-10*time.Second), base.Add(-3*time.Hour)
	rule := staleness{heartbeatBefore: base.Add(-time.Minute), startedBefore: base.Add(-time.Hour)}
	for _, c := range []struct {
		name          string
		status        store.ScanStatus
		beat, claimed *time.Time
		started       *time.Time
		want          bool
	}{
		{"claimed, old heartbeat", store.ScanClaimed, &old, &old, nil, true},
		{"running, old heartbeat", store.ScanRunning, &old, &old, &fresh, true},
		{"running too long", store.ScanRunning, &fresh, &fresh, &longAgo, true},
		{"claimed, no heartbeat, old claim", store.ScanClaimed, nil, &old, nil, true},
		{"claimed, no heartbeat, fresh claim", store.ScanClaimed, nil, &fresh, nil, false},
		{"held with no time at all", store.ScanClaimed, nil, nil, nil, true},
		{"healthy running", store.ScanRunning, &fresh, &fresh, &fresh, false},
		{"healthy claimed", store.ScanClaimed, &fresh, &fresh, nil, false},
		{"finished", store.ScanCompleted, &old, &old, &longAgo, false},
		{"queued", store.ScanQueued, nil, nil, nil, false},
	} {
		s := &store.Scan{Status: c.status, HeartbeatAt: c.beat, ClaimedAt: c.claimed, StartedAt: c.started}
		if got := rule.stale(s); got != c.want {
			t.Errorf("%s: stale = %v, want %v", c.name, got, c.want)
		}
	}
}
