package runner_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/sources"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/secrets"
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
			d, err := detect.NewDetectorDefaultConfig()
			if err != nil {
				b.Fatal(err)
			}
			fs, err := d.DetectSource(ctx, &sources.Files{Config: &d.Config, Path: src, Sema: d.Sema,
				MaxFileSize: secrets.DefaultMaxFileBytes, MaxArchiveDepth: d.MaxArchiveDepth})
			if err != nil {
				b.Fatal(err)
			}
			found = len(fs)
		}
		b.ReportMetric(float64(found), "findings")
	})

	b.Run("vega-scan", func(b *testing.B) {
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
		b.SetBytes(total)
		b.ResetTimer()
		var found int
		for i := 0; i < b.N; i++ {
			s, err := svc.Create(ctx, store.OwnedBy(u.ID), u.ID, repo.ID, scans.CreateInput{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := svc.Claim(ctx, "wrk_bench"); err != nil {
				b.Fatal(err)
			}
			if err := run.Run(ctx, s.ID); err != nil {
				b.Fatal(err)
			}
			got, _ := env.Store.GetScan(ctx, store.System(), s.ID)
			if got.Status != store.ScanCompleted {
				b.Fatalf("scan %s: %+v", got.Status, got.Error)
			}
			found = got.FindingCounts.Total()
		}
		b.ReportMetric(float64(found), "findings")
	})
}
