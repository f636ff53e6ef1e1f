package store_test

import (
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

func TestStampUpdatedDefaultsToCreation(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var p store.Project
	store.StampUpdated(&p.ID, &p.CreatedAt, &p.UpdatedAt, store.PrefixProject, now)
	if !store.HasPrefix(p.ID, store.PrefixProject) || !p.CreatedAt.Equal(now) || !p.UpdatedAt.Equal(now) {
		t.Fatalf("stamped %+v", p)
	}
	// Caller-set values are kept.
	created, updated := now.Add(-time.Hour), now.Add(-time.Minute)
	q := store.Project{ID: "prj_pinned", CreatedAt: created, UpdatedAt: updated}
	store.StampUpdated(&q.ID, &q.CreatedAt, &q.UpdatedAt, store.PrefixProject, now)
	if q.ID != "prj_pinned" || !q.CreatedAt.Equal(created) || !q.UpdatedAt.Equal(updated) {
		t.Fatalf("stamp changed pinned values: %+v", q)
	}
	r := store.Repository{CreatedAt: created}
	store.StampUpdated(&r.ID, &r.CreatedAt, &r.UpdatedAt, store.PrefixRepo, now)
	if !r.UpdatedAt.Equal(created) {
		t.Fatalf("updated_at = %v, want the pinned creation time %v", r.UpdatedAt, created)
	}
}

func TestStampDeliveryIsDueAtCreation(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var d store.WebhookDelivery
	store.StampDelivery(&d, now)
	if !store.HasPrefix(d.ID, store.PrefixDelivery) || !d.CreatedAt.Equal(now) || !d.UpdatedAt.Equal(now) || !d.NextAttemptAt.Equal(now) {
		t.Fatalf("stamped %+v", d)
	}
	later := now.Add(time.Hour)
	e := store.WebhookDelivery{NextAttemptAt: later}
	store.StampDelivery(&e, now)
	if !e.NextAttemptAt.Equal(later) {
		t.Fatalf("next_attempt_at = %v, want the pinned %v", e.NextAttemptAt, later)
	}
}

func TestRuleGroupsTallyAndSort(t *testing.T) {
	g := store.RuleGroups{}
	g.Add("xss", store.SeverityMedium, 2)
	g.Add("sqli", store.SeverityCritical, 1)
	g.Add("xss", store.SeverityHigh, 1)
	g.Add("aaa", store.SeverityMedium, 3)
	got := g.Sorted()
	if len(got) != 3 {
		t.Fatalf("got %d groups: %+v", len(got), got)
	}
	// Highest severity first, then count, then rule ID.
	if got[0].RuleID != "sqli" || got[1].RuleID != "xss" || got[2].RuleID != "aaa" {
		t.Fatalf("order = %s, %s, %s", got[0].RuleID, got[1].RuleID, got[2].RuleID)
	}
	if x := got[1]; x.Severity != store.SeverityHigh || x.Count != 3 || x.Counts.Medium != 2 || x.Counts.High != 1 {
		t.Fatalf("xss group = %+v", x)
	}
	if empty := (store.RuleGroups{}).Sorted(); empty == nil || len(empty) != 0 {
		t.Fatalf("empty tally sorted to %#v, want an empty non-nil slice", empty)
	}
}
