package findings

import (
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

func TestOpenTrend(t *testing.T) {
	now := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	day := func(d int, h int) time.Time { return time.Date(2026, 12, d, h, 0, 0, 0, time.UTC) }
	tls := []store.FindingTimeline{
		// Open before the window, dismissed on Dec 1 at 10:00, reopened today at 14:00.
		{ID: "a", Severity: store.SeverityCritical, Status: store.FindingOpen, Changes: []store.StatusChange{
			{From: store.FindingOpen, To: store.FindingDismissed, At: day(1, 10)},
			{From: store.FindingDismissed, To: store.FindingOpen, At: day(2, 14)},
		}},
		// Detected on Nov 30, confirmed, still counted as open.
		{ID: "b", Severity: store.SeverityHigh, Status: store.FindingConfirmed, Changes: []store.StatusChange{
			{From: "", To: store.FindingOpen, At: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)},
			{From: store.FindingOpen, To: store.FindingConfirmed, At: day(1, 9)},
		}},
		// Fixed long ago: never counted.
		{ID: "c", Severity: store.SeverityLow, Status: store.FindingFixed},
		// Detected after now (clock skew): not counted today.
		{ID: "d", Severity: store.SeverityLow, Status: store.FindingOpen, Changes: []store.StatusChange{{From: "", To: store.FindingOpen, At: day(2, 16)}}},
	}
	tr := OpenTrend(tls, 4, now)
	want := []struct {
		date     string
		crit, hi int
	}{{"2026-11-29", 1, 0}, {"2026-11-30", 1, 1}, {"2026-12-01", 0, 1}, {"2026-12-02", 1, 1}}
	if len(tr) != len(want) {
		t.Fatalf("%d days", len(tr))
	}
	for i, w := range want {
		if tr[i].Date != w.date || tr[i].Counts.Critical != w.crit || tr[i].Counts.High != w.hi || tr[i].Counts.Low != 0 {
			t.Errorf("day %d = %+v, want %+v", i, tr[i], w)
		}
	}
	if got := TrendStart(4, now); !got.Equal(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("TrendStart = %v", got)
	}
}
