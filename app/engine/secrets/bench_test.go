package secrets

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/testutil/srctree"
	"github.com/zricethezav/gitleaks/v8/sources"
)

// countingEmitter discards everything but counts findings.
type countingEmitter struct {
	engine.Discard
	findings atomic.Int64
}

func (c *countingEmitter) Finding(engine.Report) { c.findings.Add(1) }

// BenchmarkSecrets compares Engine.Run with the baseline: the same gitleaks
// default rules run directly as a library (sources.Files + DetectSource,
// what `gitleaks dir` does) over the same unpacked tree.
//
//	go test ./app/engine/secrets -run '^$' -bench BenchmarkSecrets -benchtime 3x
func BenchmarkSecrets(b *testing.B) {
	const files = 20000
	root := b.TempDir()
	total := srctree.Write(b, root, files, func(i int) string {
		s := plant(uint64(i))
		return fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nGITHUB_TOKEN=%s\n", s.aws, s.github)
	})
	ctx := context.Background()

	b.Run("gitleaks-library", func(b *testing.B) {
		cfg, err := DefaultRules()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(total)
		b.ResetTimer()
		var found int
		for i := 0; i < b.N; i++ {
			d := newDetector(cfg)
			fs, err := d.DetectSource(ctx, &sources.Files{
				Config: &d.Config, Path: root, Sema: d.Sema, MaxFileSize: DefaultMaxFileBytes,
				FollowSymlinks: false, MaxArchiveDepth: d.MaxArchiveDepth,
			})
			if err != nil {
				b.Fatal(err)
			}
			found = len(fs)
		}
		b.ReportMetric(float64(found), "findings")
	})

	b.Run("engine", func(b *testing.B) {
		e := New()
		if err := e.init(); err != nil { // rule compilation is a one-off per process
			b.Fatal(err)
		}
		b.SetBytes(total)
		b.ResetTimer()
		var found int64
		for i := 0; i < b.N; i++ {
			em := &countingEmitter{}
			if err := e.Run(ctx, engine.Input{SourceDir: root}, em); err != nil {
				b.Fatal(err)
			}
			found = em.findings.Load()
		}
		b.ReportMetric(float64(found), "findings")
	})
}
