package storetest

import (
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

func testUsageRecords(t *testing.T, f *fixture) {
	u, v := f.user(), f.user()
	base := f.tick()
	mk := func(user string, at time.Time, cost float64) *store.UsageRecord {
		r := &store.UsageRecord{ID: store.NewID(store.PrefixUsage), ScanID: "scan_x", ProjectID: "prj_x", UserID: user,
			Model: "gpt-5-codex", Usage: store.Usage{Requests: 1, InputTokens: 100, CachedInputTokens: 10, OutputTokens: 5, CostUSD: cost}, At: at}
		must(t, f.s.CreateUsageRecord(f.ctx, r), "CreateUsageRecord")
		return r
	}
	// Created out of time order on purpose: the list is ordered by At.
	late := mk(u.ID, base.Add(2*time.Hour), 0.3)
	early := mk(u.ID, base, 0.1)
	edge := mk(u.ID, base.Add(3*time.Hour), 0.4) // exactly To: excluded
	mid := mk(u.ID, base.Add(time.Hour), 0.2)
	mk(u.ID, base.Add(-time.Second), 9) // before From
	mk(v.ID, base.Add(time.Hour), 9)    // someone else

	got, err := f.s.ListUsageRecords(f.ctx, store.UsageFilter{UserID: u.ID, From: base, To: base.Add(3 * time.Hour)})
	must(t, err, "ListUsageRecords")
	sameOrder(t, []string{early.ID, mid.ID, late.ID}, ids(got, func(x store.UsageRecord) string { return x.ID }), "usage in [From, To)")
	assertSame(t, mid, &got[1], "usage record")
	got, err = f.s.ListUsageRecords(f.ctx, store.UsageFilter{UserID: u.ID, From: base.Add(3 * time.Hour), To: base.Add(4 * time.Hour)})
	must(t, err, "ListUsageRecords edge")
	sameOrder(t, []string{edge.ID}, ids(got, func(x store.UsageRecord) string { return x.ID }), "From is inclusive")
	got, err = f.s.ListUsageRecords(f.ctx, store.UsageFilter{UserID: store.NewID(store.PrefixUser), From: base, To: base.Add(time.Hour)})
	wantNone(t, got, err, "ListUsageRecords unknown user")
}
