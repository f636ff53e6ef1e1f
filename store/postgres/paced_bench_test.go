package postgres_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// BenchmarkListFindingsPaced is the open-loop companion of
// BenchmarkListFindingsConcurrent: 64 clients each ask for a findings page
// (request mix: first page, random cursor, filters) every interval, the way
// 64 people paging through a dashboard do, instead of as fast as the machine
// allows. It reports the aggregate rate offered and the latency percentiles.
//
//	VEGA_TEST_DATABASE_URL=... go test -run XXX -bench ListFindingsPaced -benchtime 1x ./store/postgres/
func BenchmarkListFindingsPaced(b *testing.B) {
	s, repo, ids := seedFindings(b, benchFindings)
	sc := store.OwnedBy(repo.OwnerUserID)
	filters := []func(r *rand.Rand) (store.FindingFilter, store.Page){
		func(*rand.Rand) (store.FindingFilter, store.Page) {
			return store.FindingFilter{RepositoryID: repo.ID}, store.Page{}
		},
		func(r *rand.Rand) (store.FindingFilter, store.Page) {
			return store.FindingFilter{RepositoryID: repo.ID}, store.Page{Cursor: ids[r.IntN(len(ids))]}
		},
		func(*rand.Rand) (store.FindingFilter, store.Page) {
			return store.FindingFilter{RepositoryID: repo.ID, Severities: []string{"critical", "high"}}, store.Page{}
		},
		func(*rand.Rand) (store.FindingFilter, store.Page) {
			return store.FindingFilter{RepositoryID: repo.ID, Statuses: []string{"open"}}, store.Page{}
		},
	}
	const clients = 64
	const duration = 5 * time.Second
	for _, interval := range []time.Duration{200 * time.Millisecond, 100 * time.Millisecond, 50 * time.Millisecond} {
		b.Run("clients=64/every="+interval.String(), func(b *testing.B) {
			for n := 0; n < b.N; n++ {
				var mu sync.Mutex
				var lat []time.Duration
				var wg sync.WaitGroup
				deadline := time.Now().Add(duration)
				for c := 0; c < clients; c++ {
					wg.Add(1)
					go func(c int) {
						defer wg.Done()
						r := rand.New(rand.NewPCG(uint64(c), 1))
						// Spread the clients' first requests over one interval.
						next := time.Now().Add(time.Duration(r.Int64N(int64(interval))))
						local := []time.Duration{}
						for next.Before(deadline) {
							time.Sleep(time.Until(next))
							f, p := filters[r.IntN(len(filters))](r)
							start := time.Now()
							if _, _, err := s.ListFindings(context.Background(), sc, f, p); err != nil {
								b.Error(err)
								return
							}
							local = append(local, time.Since(start))
							next = next.Add(interval)
						}
						mu.Lock()
						lat = append(lat, local...)
						mu.Unlock()
					}(c)
				}
				wg.Wait()
				slices.Sort(lat)
				pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
				b.ReportMetric(float64(len(lat))/duration.Seconds(), "pages/s")
				b.ReportMetric(pct(0.50), "p50-ms")
				b.ReportMetric(pct(0.99), "p99-ms")
			}
		})
	}
}
