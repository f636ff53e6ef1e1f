package runner_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/app/engine/secrets/secretstest"
	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/runner"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/srctree"
)

// BenchmarkScan20k compares a whole scan — unpack the snapshot, run the
// secrets engine, store events and findings, upload artifacts — with the
// baseline: gitleaks' default detector as a library over the same tree,
// already unpacked (what `gitleaks dir` does). Target: scan ≤ 2x baseline.
//
//	go test ./app/runner -run '^$' -bench BenchmarkScan20k -benchtime 3x
func BenchmarkScan20k(b *testing.B) {
	const files = 20000
	src := b.TempDir()
	total := srctree.Write(b, src, files, func(i int) string {
		return fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\n", awsKey(uint64(i)+100))
	})
	ctx := context.Background()

	b.Run("gitleaks-library", func(b *testing.B) {
		b.SetBytes(total)
		var found int
		for i := 0; i < b.N; i++ {
			found = secretstest.GitleaksDirCount(ctx, b, src)
		}
		b.ReportMetric(float64(found), "findings")
	})

	b.Run("vega-scan", func(b *testing.B) {
		env, svc, run, u, repo := scanSetup(b, src)
		b.SetBytes(total)
		b.ResetTimer()
		var found int
		for i := 0; i < b.N; i++ {
			id := scanOnce(b, svc, run, u.ID, repo.ID)
			got := completedScan(b, env, id)
			found = got.FindingCounts.Total()
		}
		b.ReportMetric(float64(found), "findings")
	})
}

// scanSetup makes a project, a repository and a snapshot of src in a
// fresh store and a runner with the secrets engine, ready to scan.
// scanOnce creates, claims and runs one scan of the repository, as a worker
// would, and returns its ID.
func scanOnce(b *testing.B, svc *scans.Service, run *runner.Runner, userID, repoID string) string {
	b.Helper()
	ctx := context.Background()
	s, err := svc.Create(ctx, store.OwnedBy(userID), userID, repoID, scans.CreateInput{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Claim(ctx, "wrk_bench"); err != nil {
		b.Fatal(err)
	}
	if err := run.Run(ctx, s.ID); err != nil {
		b.Fatal(err)
	}
	return s.ID
}

// completedScan reads the scan back and fails unless it completed.
func completedScan(b *testing.B, env *scantest.Env, id string) *store.Scan {
	b.Helper()
	got, _ := env.Store.GetScan(context.Background(), store.System(), id)
	if got.Status != store.ScanCompleted {
		b.Fatalf("scan %s: %+v", got.Status, got.Error)
	}
	return got
}

func scanSetup(b *testing.B, src string) (*scantest.Env, *scans.Service, *runner.Runner, *store.User, *store.Repository) {
	b.Helper()
	ctx := context.Background()
	env := scantest.New(b)
	u := env.User(b)
	now := time.Now().UTC()
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: "bench", CreatedAt: now, UpdatedAt: now}
	if err := env.Store.CreateProject(ctx, p); err != nil {
		b.Fatal(err)
	}
	repo := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: "bench",
		SourceType: store.SourceArchive, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	if err := env.Store.CreateRepository(ctx, repo); err != nil {
		b.Fatal(err)
	}
	snap := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: repo.ID, OwnerUserID: u.ID, CreatedAt: now}
	if err := ingest.BuildSnapshot(ctx, src, env.Blobs, snap); err != nil {
		b.Fatal(err)
	}
	if err := env.Store.CreateSnapshot(ctx, snap); err != nil {
		b.Fatal(err)
	}
	if _, err := env.Store.UpdateRepository(ctx, store.System(), repo.ID, func(r *store.Repository) error {
		r.LatestSnapshotID = snap.ID
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	eng := secrets.New()
	broker := events.NewBroker()
	svc := scans.New(env.Store, scans.Options{DefaultEngines: []string{secrets.Name}, KnownEngines: []string{secrets.Name}, MaxActivePerUser: 1 << 20})
	run, err := runner.New(runner.Config{Store: env.Store, Scans: svc, Blobs: env.Blobs, Unpacker: runner.SnapshotUnpacker(env.Blobs, ingest.DefaultLimits()),
		Engines: map[string]engine.Engine{secrets.Name: eng}, Events: broker, TempDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	return env, svc, run, u, repo
}

// BenchmarkScanRepo measures what a whole scan through the runner costs on
// top of the secrets engine alone, on the same realistic tree
// (srctree.WriteRepo; medium size so one iteration takes tens of seconds):
// the scan unpacks the stored snapshot (the upload and snapshot build —
// ingest — are excluded), runs the engine, writes findings and events and
// uploads the artifacts. Engine and scan alternate within each iteration so
// machine load hits both alike. Target: scan ≤ 1.1x engine
// (docs/benchmarks.md).
//
//	go test ./app/runner -run '^$' -bench BenchmarkScanRepo -benchtime 2x -timeout 60m
func BenchmarkScanRepo(b *testing.B) {
	src := b.TempDir()
	stats := srctree.WriteRepo(b, src, srctree.RepoShape{SmallFiles: 2000, LargeFiles: 30, LargeMin: 500_000, LargeMax: 5_000_000, VendorFiles: 200, Secrets: 100})
	ctx := context.Background()
	env, svc, run, u, repo := scanSetup(b, src)
	eng := secrets.New()
	var engineT, scanT time.Duration
	var engineFound, scanFound int
	b.SetBytes(stats.Bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		em := &countingEmitter{}
		if err := eng.Run(ctx, engine.Input{SourceDir: src}, em); err != nil {
			b.Fatal(err)
		}
		engineT += time.Since(start)
		engineFound = len(em.keys)

		start = time.Now()
		id := scanOnce(b, svc, run, u.ID, repo.ID)
		scanT += time.Since(start)
		got := completedScan(b, env, id)
		scanFound = got.FindingCounts.Total()
	}
	b.ReportMetric(engineT.Seconds()/float64(b.N), "engine-s/op")
	b.ReportMetric(scanT.Seconds()/float64(b.N), "scan-s/op")
	b.ReportMetric(scanT.Seconds()/engineT.Seconds(), "scan/engine")
	b.ReportMetric(float64(engineFound), "engine-findings")
	b.ReportMetric(float64(scanFound), "scan-findings")
	if engineFound != scanFound {
		b.Errorf("engine found %d distinct secrets, the scan stored %d", engineFound, scanFound)
	}
}

// countingEmitter keeps the distinct finding keys the engine reports.
type countingEmitter struct {
	engine.Discard
	mu   sync.Mutex
	keys map[string]bool
}

func (c *countingEmitter) Finding(r engine.Report) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]bool{}
	}
	c.keys[r.Key] = true
}
