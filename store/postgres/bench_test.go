package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/store/storetest"
)

// Shared benchmarks (same code measures bbolt): event append throughput and
// ListEvents cost by position.
func BenchmarkAppendEvents(b *testing.B) {
	storetest.BenchmarkAppendEvents(b, func(tb testing.TB) store.Store { return pgtest.OpenStore(tb) })
}

func BenchmarkListEventsAfterSeq(b *testing.B) {
	storetest.BenchmarkListEventsAfterSeq(b, func(tb testing.TB) store.Store { return pgtest.OpenStore(tb) })
}

func BenchmarkSessionLookup(b *testing.B) {
	storetest.BenchmarkSessionLookup(b, func(tb testing.TB) store.Store { return pgtest.OpenStore(tb) })
}

// benchFindings is the repository size the findings list target names.
const benchFindings = 10_000

// seedFindings stores n realistic findings in one repository with COPY (the
// benchmark measures reads; seeding through CreateFinding would only add
// minutes of fsyncs) and returns the store, the repository and the finding IDs.
func seedFindings(b *testing.B, n int) (store.Store, *store.Repository, []string) {
	b.Helper()
	s := pgtest.OpenStore(b)
	ctx := context.Background()
	p := &store.Project{OwnerUserID: "usr_bench", Name: "bench"}
	if err := s.CreateProject(ctx, p); err != nil {
		b.Fatal(err)
	}
	r := &store.Repository{ProjectID: p.ID, OwnerUserID: p.OwnerUserID, Name: "bench", SourceType: store.SourceGit, IngestStatus: store.IngestReady}
	if err := s.CreateRepository(ctx, r); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	dirs := []string{"src/handlers/", "src/db/", "src/auth/", "internal/api/", "web/static/js/", "cmd/"}
	titles := []string{"SQL injection in query builder", "Hard-coded AWS secret", "Missing authorization check",
		"Path traversal in file download", "Reflected XSS in search page", "Insecure deserialization"}
	engines := []string{"codex", "secrets"}
	statuses := []string{store.FindingOpen, store.FindingOpen, store.FindingOpen, store.FindingConfirmed, store.FindingDismissed, store.FindingFixed}
	now := time.Now().UTC().Truncate(time.Microsecond)
	ids := make([]string, n)
	rows := make([][]any, n)
	for i := range rows {
		ids[i] = store.NewID(store.PrefixFinding)
		title := titles[rng.IntN(len(titles))]
		path := fmt.Sprintf("%sfile_%05d.go", dirs[rng.IntN(len(dirs))], i)
		locs := []byte(fmt.Sprintf(`[{"file_path":%q,"start_line":%d,"end_line":%d,"role":"sink"},{"file_path":"src/db/query.go","start_line":10,"end_line":14,"role":"source"}]`, path, i%400, i%400+3))
		rows[i] = []any{ids[i], "scan_bench", r.ID, p.ID, p.OwnerUserID, fmt.Sprintf("fp-%d", i),
			engines[rng.IntN(2)], title, store.Severities[rng.IntN(len(store.Severities))], "high", "injection",
			[]string{fmt.Sprintf("CWE-%d", 20+rng.IntN(80))}, path, i % 400, i%400 + 3,
			title + ": the request parameter reaches a sink without validation. " + string(slices.Repeat([]byte("Detailed reasoning about the data flow. "), 8)),
			"db.Query(\"SELECT * FROM t WHERE id=\" + r.FormValue(\"id\"))", "Use parameterised queries.",
			locs, statuses[rng.IntN(len(statuses))], "", "", "scan_bench", "scan_bench", now, now}
	}
	cols := []string{"id", "scan_id", "repository_id", "project_id", "owner_user_id", "fingerprint", "engine", "title",
		"severity", "confidence", "category", "cwe", "file_path", "start_line", "end_line", "description", "evidence",
		"recommendation", "locations", "status", "dismissed_reason", "triage_note", "first_seen_scan_id",
		"last_seen_scan_id", "created_at", "updated_at"}
	if _, err := s.Pool().CopyFrom(ctx, pgx.Identifier{"findings"}, cols, pgx.CopyFromRows(rows)); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, `ANALYZE findings`); err != nil {
		b.Fatal(err)
	}
	sort.Strings(ids)
	return s, r, ids
}

// BenchmarkListFindingsConcurrent measures one page (50) of a repository's
// findings with the API's filters, 10,000 findings stored, from 1 client
// (baseline) and from 64 concurrent clients, and reports p50/p99 latency.
// The request mix: first page, a page at a random cursor, severity, status,
// engine, path prefix, CWE and a free-text query.
func BenchmarkListFindingsConcurrent(b *testing.B) {
	s, repo, ids := seedFindings(b, benchFindings)
	sc := store.OwnedBy(repo.OwnerUserID)
	type req struct {
		f store.FindingFilter
		p store.Page
	}
	base := store.FindingFilter{RepositoryID: repo.ID}
	with := func(mod func(*store.FindingFilter)) store.FindingFilter { f := base; mod(&f); return f }
	type kind struct {
		name string
		make func(r *rand.Rand) req
	}
	all := []kind{
		{"first-page", func(*rand.Rand) req { return req{f: base} }},
		{"cursor", func(r *rand.Rand) req { return req{f: base, p: store.Page{Cursor: ids[r.IntN(len(ids))]}} }},
		{"severity", func(*rand.Rand) req {
			return req{f: with(func(f *store.FindingFilter) { f.Severities = []string{"critical", "high"} })}
		}},
		{"status", func(*rand.Rand) req {
			return req{f: with(func(f *store.FindingFilter) { f.Statuses = []string{"open"} })}
		}},
		{"engine", func(*rand.Rand) req {
			return req{f: with(func(f *store.FindingFilter) { f.Engines = []string{"secrets"} })}
		}},
		{"path", func(*rand.Rand) req {
			return req{f: with(func(f *store.FindingFilter) { f.PathPrefix = "src/handlers/" })}
		}},
		{"cwe", func(*rand.Rand) req { return req{f: with(func(f *store.FindingFilter) { f.CWE = "CWE-79" })} }},
		{"q", func(*rand.Rand) req { return req{f: with(func(f *store.FindingFilter) { f.Query = "traversal" })} }},
	}
	type run struct {
		name    string
		clients int
		mix     []kind
	}
	// ping (an empty query through the pool) is the machine's floor: what 64
	// clients wait for work that costs Postgres nothing.
	ping := []kind{{"ping", nil}}
	runs := []run{{"ping/clients=1", 1, ping}, {"ping/clients=64", 64, ping},
		{"first-page/clients=64", 64, all[:1]}, {"mix/clients=1", 1, all}, {"mix/clients=64", 64, all}}
	for _, k := range all {
		runs = append(runs, run{k.name + "/clients=1", 1, []kind{k}})
	}
	for _, rn := range runs {
		clients, mix := rn.clients, rn.mix
		b.Run(rn.name, func(b *testing.B) {
			ctx := context.Background()
			var mu sync.Mutex
			var lat []time.Duration
			b.ResetTimer()
			run := func(next func() bool) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				local := make([]time.Duration, 0, 1024)
				for next() {
					k := mix[r.IntN(len(mix))]
					if k.make == nil {
						start := time.Now()
						err := s.Ping(ctx)
						local = append(local, time.Since(start))
						if err != nil {
							b.Error(err)
							return
						}
						continue
					}
					q := k.make(r)
					start := time.Now()
					items, _, err := s.ListFindings(ctx, sc, q.f, q.p)
					local = append(local, time.Since(start))
					if err != nil {
						b.Error(err)
						return
					}
					if len(items) == 0 && q.p.Cursor == "" {
						b.Errorf("filter %+v matched nothing: the seed does not exercise it", q.f)
						return
					}
				}
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}
			if clients == 1 {
				i := 0
				run(func() bool { i++; return i <= b.N })
			} else {
				// RunParallel starts parallelism × GOMAXPROCS goroutines.
				b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.RunParallel(func(pb *testing.PB) { run(pb.Next) })
			}
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// BenchmarkOwnedTotals measures the quota read with migration 0003's covering
// index and, as the baseline on the same data, without it.
func BenchmarkOwnedTotals(b *testing.B) {
	s := pgtest.OpenStore(b)
	user := storetest.SeedOwned(b, s)
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Run("index", func(b *testing.B) { storetest.BenchmarkOwnedTotals(b, s, user) })
	if _, err := s.Pool().Exec(ctx, `DROP INDEX snapshots_owner_idx`); err != nil {
		b.Fatal(err)
	}
	b.Run("without-snapshots_owner_idx-baseline", func(b *testing.B) { storetest.BenchmarkOwnedTotals(b, s, user) })
}

// BenchmarkClaimNextScan measures one claim, with queued scans waiting and
// with none (an idle worker's poll). "scans-rule" is ClaimNextScan as it is:
// one transaction that locks the oldest queued row (SKIP LOCKED), runs the
// claim rule of app/scans and writes the row. "single-statement" is the
// baseline it replaced: one UPDATE … WHERE id = (SELECT … SKIP LOCKED) with
// the claim's fields written in SQL.
func BenchmarkClaimNextScan(b *testing.B) {
	singleStatement := func(ctx context.Context, s *postgres.Store, worker string) error {
		var id string
		return s.Pool().QueryRow(ctx, `UPDATE scans SET status = 'claimed', claimed_by = $1,
				attempt = attempt + 1, claimed_at = $2, heartbeat_at = $2
			WHERE id = (SELECT id FROM scans WHERE status = 'queued'
				ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
			RETURNING id`, worker, time.Now()).Scan(&id)
	}
	claims := map[string]func(ctx context.Context, s *postgres.Store) error{
		"scans-rule": func(ctx context.Context, s *postgres.Store) error {
			_, err := s.ClaimNextScan(ctx, storetest.ClaimAs("wrk_bench", time.Now()))
			return err
		},
		"single-statement": func(ctx context.Context, s *postgres.Store) error {
			err := singleStatement(ctx, s, "wrk_bench")
			if errors.Is(err, pgx.ErrNoRows) {
				return store.ErrNotFound
			}
			return err
		},
	}
	for _, name := range []string{"single-statement", "scans-rule"} {
		claim := claims[name]
		b.Run(name+"/queued", func(b *testing.B) {
			s := pgtest.OpenStore(b)
			ctx := context.Background()
			first := seedScan(b, s, store.ScanQueued)
			for range b.N {
				x := &store.Scan{RepositoryID: first.RepositoryID, ProjectID: first.ProjectID, OwnerUserID: first.OwnerUserID}
				if err := s.CreateScan(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				if err := claim(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/idle", func(b *testing.B) {
			s := pgtest.OpenStore(b)
			ctx := context.Background()
			for range b.N {
				if err := claim(ctx, s); !errors.Is(err, store.ErrNotFound) {
					b.Fatalf("nothing is queued, got %v", err)
				}
			}
		})
	}
}
