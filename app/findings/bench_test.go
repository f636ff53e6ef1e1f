package findings_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/tempbolt"
)

// The triage-at-scale targets (docs/benchmarks.md, "Findings lists and bulk
// triage"), measured through the service the API calls, on both stores:
// a findings list page at 10,000 findings, sorted, with total and counts,
// and a bulk triage of 10,000 findings by filter.

const benchN = 10_000

var benchStores = []struct {
	name string
	open func(tb testing.TB) store.Store
}{
	{"bolt", func(tb testing.TB) store.Store { return tempbolt.Open(tb) }},
	{"postgres", func(tb testing.TB) store.Store { return pgtest.OpenStore(tb) }},
}

// seedRepo stores n realistic findings (plus extra info-severity ones) in one
// repository through CreateFinding, as scans do, and returns the repository.
func seedRepo(b *testing.B, s store.Store, n, extra int) *store.Repository {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: store.NewID("") + "@bench.example", Groups: []string{store.GroupUser}, CreatedAt: now}
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: "bench", CreatedAt: now, UpdatedAt: now}
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: "bench",
		SourceType: store.SourceGit, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	sc := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: u.ID,
		Status: store.ScanCompleted, Engines: []string{"secrets", "codex"}, CreatedAt: now}
	for _, err := range []error{s.CreateUser(ctx, u), s.CreateProject(ctx, p), s.CreateRepository(ctx, r), s.CreateScan(ctx, sc)} {
		if err != nil {
			b.Fatal(err)
		}
	}
	dirs := []string{"src/handlers/", "src/db/", "src/auth/", "internal/api/", "web/static/js/", "cmd/"}
	rules := []string{"aws-access-token", "generic-api-key", "github-pat", "injection", "xss", "path-traversal", "authz"}
	seedInParallel(b, n+extra, func(i int) error {
		sev := store.Severities[i%4] // critical..low
		if i >= n {
			sev = store.SeverityInfo
		}
		path := fmt.Sprintf("%sfile_%05d.go", dirs[i%len(dirs)], (i*7919)%(n+extra))
		title := fmt.Sprintf("Finding %d in the request handler", i)
		f := &store.Finding{ID: store.NewID(store.PrefixFinding), ScanID: sc.ID, RepositoryID: r.ID, ProjectID: p.ID,
			OwnerUserID: u.ID, Fingerprint: fmt.Sprintf("fp-%d", i), Engine: []string{"secrets", "codex"}[i%2], Title: title,
			Severity: sev, Confidence: "high", Category: rules[i%len(rules)], RuleID: rules[i%len(rules)], CWE: []string{fmt.Sprintf("CWE-%d", 20+i%80)},
			FilePath: path, StartLine: i % 400, EndLine: i%400 + 3,
			Description:    title + ": the request parameter reaches a sink without validation. " + string(slices.Repeat([]byte("Detailed reasoning about the data flow. "), 8)),
			Evidence:       "db.Query(\"SELECT * FROM t WHERE id=\" + r.FormValue(\"id\"))",
			Recommendation: "Use parameterised queries.",
			Locations:      []store.Location{{FilePath: path, StartLine: 1, EndLine: 4, Role: "sink"}, {FilePath: "src/db/query.go", StartLine: 10, EndLine: 14, Role: "source"}},
			Status:         store.FindingOpen, FirstSeenScanID: sc.ID, LastSeenScanID: sc.ID, CreatedAt: now, UpdatedAt: now}
		return s.CreateFinding(ctx, f)
	})
	if pg, ok := s.(*postgres.Store); ok {
		if _, err := pg.Pool().Exec(ctx, `ANALYZE findings`); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// onSeededStores runs body once per bench store, as sub-benchmark
// "store=<name>", on a repository seeded with benchN findings plus extra
// info ones: the setup every benchmark here shares.
func onSeededStores(b *testing.B, extra int, body func(b *testing.B, s store.Store, repo *store.Repository, svc *findings.Service, sc store.Scope)) {
	for _, st := range benchStores {
		b.Run("store="+st.name, func(b *testing.B) {
			s := st.open(b)
			repo := seedRepo(b, s, benchN, extra)
			body(b, s, repo, findings.NewService(s, nil), store.OwnedBy(repo.OwnerUserID))
		})
	}
}

// seedInParallel calls do for 0..n-1 from four goroutines (seeding 10k rows
// one by one is slow on Postgres) and fails b on the first error.
func seedInParallel(b *testing.B, n int, do func(i int) error) {
	var g errgroup.Group
	for w := range 4 {
		g.Go(func() error {
			for i := w; i < n; i += 4 {
				if err := do(i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// latencies runs fn b.N times and reports p50 and p99 in ms.
func latencies(b *testing.B, fn func()) {
	var ds []time.Duration
	for b.Loop() {
		t := time.Now()
		fn()
		ds = append(ds, time.Since(t))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkFindingsList10k: the first page (50) of a repository with 10,000
// findings, sorted on the server, with total and per-status counts, as
// GET /v1/repositories/:id/findings answers it. Baseline: the store's
// unsorted page (newest first by ID, no total), what the list was before.
func BenchmarkFindingsList10k(b *testing.B) {
	onSeededStores(b, 0, func(b *testing.B, s store.Store, repo *store.Repository, svc *findings.Service, sc store.Scope) {
		ctx := context.Background()
		b.Run("baseline-unsorted-no-total", func(b *testing.B) {
			latencies(b, func() {
				if xs, _, err := s.ListFindings(ctx, sc, store.FindingFilter{RepositoryID: repo.ID}, store.Page{}); err != nil || len(xs) != 50 {
					b.Fatal(len(xs), err)
				}
			})
		})
		// The two store calls a list makes, apart.
		def, _ := store.ParseFindingSort(findings.DefaultSort)
		b.Run("parts/sorted-page", func(b *testing.B) {
			latencies(b, func() {
				if xs, _, err := s.ListFindings(ctx, sc, store.FindingFilter{RepositoryID: repo.ID, Sort: def}, store.Page{}); err != nil || len(xs) != 50 {
					b.Fatal(len(xs), err)
				}
			})
		})
		b.Run("parts/status-counts", func(b *testing.B) {
			latencies(b, func() {
				if c, err := s.CountFindingsByStatus(ctx, sc, store.FindingFilter{RepositoryID: repo.ID}); err != nil || c.Open != benchN {
					b.Fatal(c, err)
				}
			})
		})
		for _, q := range []findings.Query{
			{},                                   // default: -severity, then path
			{Sort: "path"},                       // text key
			{Sort: "-last_seen", Status: "open"}, // with a filter
			{Sort: "rule", Severity: "critical,high", Rule: "xss,injection,authz"},
		} {
			name := "sort=" + q.Sort
			if q.Sort == "" {
				name = "sort=default"
			}
			if q.Status != "" || q.Severity != "" {
				name += "+filters"
			}
			b.Run(name, func(b *testing.B) {
				latencies(b, func() {
					l, err := svc.ListForRepository(ctx, sc, repo.ID, q, store.Page{})
					if err != nil || len(l.Items) != 50 || l.Total == 0 {
						b.Fatal(err)
					}
				})
			})
		}
		// A page deep in the list (keyset cursor) costs the same as the first.
		l, err := svc.ListForRepository(ctx, sc, repo.ID, findings.Query{}, store.Page{Limit: 500})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 10 && l.NextCursor != nil; i++ {
			if l, err = svc.ListForRepository(ctx, sc, repo.ID, findings.Query{}, store.Page{Limit: 500, Cursor: *l.NextCursor}); err != nil {
				b.Fatal(err)
			}
		}
		cursor := *l.NextCursor
		b.Run("sort=default+cursor-at-5500", func(b *testing.B) {
			latencies(b, func() {
				if l, err := svc.ListForRepository(ctx, sc, repo.ID, findings.Query{}, store.Page{Cursor: cursor}); err != nil || len(l.Items) != 50 {
					b.Fatal(err)
				}
			})
		})
	})
}

// BenchmarkBulkTriage10k: POST /v1/findings/bulk-triage by filter over
// exactly 10,000 findings, alternating confirm and reopen so every run
// changes all of them (10,000 updates and history entries), answering the
// previous triage of every one (what Undo needs). The repository holds one
// more (info) finding: a filter matching all 10,001 must be refused without
// changing anything. Baselines: single-finding triage (what a client did
// before), per finding; and what the dashboard did before the answer
// carried previous: read every match in pages of 200 for Undo, then the
// bulk triage.
func BenchmarkBulkTriage10k(b *testing.B) {
	onSeededStores(b, 1, func(b *testing.B, s store.Store, repo *store.Repository, svc *findings.Service, sc store.Scope) {
		ctx := context.Background()
		_, err := svc.BulkTriage(ctx, sc, repo.OwnerUserID, findings.BulkTriage{Filter: &findings.BulkFilter{RepositoryID: repo.ID},
			Triage: findings.Triage{Status: store.FindingConfirmed}})
		if !apperr.IsCode(err, apperr.ValidationFailed) {
			b.Fatalf("10,001 matches: %v, want validation_failed", err)
		}
		if c, _ := s.CountFindingsByStatus(ctx, sc, store.FindingFilter{RepositoryID: repo.ID}); c.Open != benchN+1 {
			b.Fatalf("a refused bulk changed findings: %+v", c)
		}
		// fromTo: the status all benchN findings have now, and the other one.
		fromTo := func() (string, string) {
			if c, _ := s.CountFindingsByStatus(ctx, sc, store.FindingFilter{RepositoryID: repo.ID}); c.Confirmed == benchN {
				return store.FindingConfirmed, store.FindingOpen
			}
			return store.FindingOpen, store.FindingConfirmed
		}
		b.Run("by-filter", func(b *testing.B) {
			from, to := fromTo()
			latencies(b, func() {
				res, err := svc.BulkTriage(ctx, sc, repo.OwnerUserID, findings.BulkTriage{
					Filter: &findings.BulkFilter{RepositoryID: repo.ID, Query: findings.Query{Severity: "critical,high,medium,low", Status: from}},
					Triage: findings.Triage{Status: to}})
				if err != nil || res.Changed != benchN || len(res.Previous) != 1 || res.Previous[0].Status != from || len(res.Previous[0].IDs) != benchN {
					b.Fatalf("bulk: changed %d, %d previous groups, %v", res.Changed, len(res.Previous), err)
				}
				from, to = to, from
			})
		})
		b.Run("baseline-read-matches-in-pages-then-bulk", func(b *testing.B) {
			from, to := fromTo()
			latencies(b, func() {
				q := findings.Query{Severity: "critical,high,medium,low", Status: from}
				read := 0
				for p := (store.Page{Limit: 200}); ; {
					l, err := svc.ListForRepository(ctx, sc, repo.ID, q, p)
					if err != nil {
						b.Fatal(err)
					}
					read += len(l.Items)
					if l.NextCursor == nil {
						break
					}
					p.Cursor = *l.NextCursor
				}
				res, err := svc.BulkTriage(ctx, sc, repo.OwnerUserID, findings.BulkTriage{
					Filter: &findings.BulkFilter{RepositoryID: repo.ID, Query: q}, Triage: findings.Triage{Status: to}})
				if err != nil || read != benchN || res.Changed != benchN {
					b.Fatalf("read %d, bulk %+v %v", read, res, err)
				}
				from, to = to, from
			})
		})
		b.Run("baseline-single-triage-per-finding", func(b *testing.B) {
			ids, err := s.FindingIDs(ctx, sc, store.FindingFilter{RepositoryID: repo.ID}, benchN)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			latencies(b, func() {
				status := []string{store.FindingOpen, store.FindingConfirmed}[(i/len(ids))%2]
				if _, err := svc.Triage(ctx, sc, repo.OwnerUserID, ids[i%len(ids)], findings.Triage{Status: status}); err != nil {
					b.Fatal(err)
				}
				i++
			})
		})
	})
}
