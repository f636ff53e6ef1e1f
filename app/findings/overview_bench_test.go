package findings_test

import (
	"context"
	"testing"
	"time"

	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/store"
)

// BenchmarkProjectOverview10k: GET /v1/projects/:id/overview for a project
// whose repository holds 10,000 findings, each with its "detected" history
// entry inside the 30-day window and every fifth triaged since (two
// entries): the open counts, per-repository rollup and the trend rebuilt
// from history (docs/findings.md, "Overview and trend").
func BenchmarkProjectOverview10k(b *testing.B) {
	onSeededStores(b, 0, func(b *testing.B, s store.Store, repo *store.Repository, svc *findings.Service, sc store.Scope) {
		ctx := context.Background()
		ids, err := s.FindingIDs(ctx, sc, store.FindingFilter{RepositoryID: repo.ID}, benchN)
		if err != nil || len(ids) != benchN {
			b.Fatal(len(ids), err)
		}
		now := time.Now().UTC()
		seedInParallel(b, len(ids), func(i int) error {
			hs := []store.FindingHistory{{FindingID: ids[i], ToStatus: store.FindingOpen, Reason: "detected", At: now.AddDate(0, 0, -(i % 28))}}
			if i%5 == 0 {
				hs = append(hs, store.FindingHistory{FindingID: ids[i], FromStatus: store.FindingOpen, ToStatus: store.FindingDismissed, At: now.AddDate(0, 0, -(i%28)/2)},
					store.FindingHistory{FindingID: ids[i], FromStatus: store.FindingDismissed, ToStatus: store.FindingOpen, At: now.AddDate(0, 0, -(i%28)/4)})
			}
			for _, h := range hs {
				if err := s.AppendFindingHistory(ctx, &h); err != nil {
					return err
				}
			}
			return nil
		})
		b.Run("overview", func(b *testing.B) {
			latencies(b, func() {
				o, err := svc.ProjectOverview(ctx, sc, repo.ProjectID)
				if err != nil || o.OpenCounts.Total() != benchN || len(o.Trend) != findings.TrendDays || len(o.Repositories) != 1 {
					b.Fatal(err)
				}
			})
		})
		// The store call alone; the rest is the trend (30 days × findings) and two small reads.
		b.Run("part/timelines", func(b *testing.B) {
			since := findings.TrendStart(findings.TrendDays, time.Now())
			latencies(b, func() {
				if tl, err := s.FindingTimelines(ctx, sc, store.FindingFilter{ProjectID: repo.ProjectID}, since); err != nil || len(tl) != benchN {
					b.Fatal(len(tl), err)
				}
			})
		})
	})
}
