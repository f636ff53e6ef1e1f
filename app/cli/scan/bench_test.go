package scan

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/sources"

	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/testutil/srctree"
)

// BenchmarkScanCLI20k compares standalone `vega scan` — select the tree,
// snapshot it into a temporary bbolt store and blob directory, run the real
// runner with the secrets engine, write the JSON report and SARIF, remove the
// store — with the `gitleaks dir` path: gitleaks v8's default detector as a
// library, sources.Files + DetectSource over the same tree, in the same run.
// Target: vega scan ≤ 1x gitleaks (docs/benchmarks.md "vega scan").
//
//	go test ./app/cli/scan -run '^$' -bench BenchmarkScanCLI20k -benchtime 1x -count 2 -timeout 60m
func BenchmarkScanCLI20k(b *testing.B) {
	files := 20000
	if os.Getenv("VEGA_BENCH_SMALL") != "" {
		files = 2000
	}
	src := b.TempDir()
	total := srctree.Write(b, src, files, func(i int) string { return srctree.AWSKeyLine(i + 100) })
	ctx := context.Background()

	b.Run("gitleaks-dir", func(b *testing.B) {
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
		b.SetBytes(total)
		out := b.TempDir()
		var found int
		for i := 0; i < b.N; i++ {
			report := filepath.Join(out, "report.json")
			code := Main(ctx, []string{src, "--format", "json", "-o", report, "--sarif", filepath.Join(out, "report.sarif"), "-q"},
				IO{Stdout: io.Discard, Stderr: os.Stderr, Getenv: func(string) string { return "" }, Version: "bench"})
			if code != ExitFindings {
				b.Fatalf("exit %d, want %d (planted keys)", code, ExitFindings)
			}
			raw, err := os.ReadFile(report)
			if err != nil {
				b.Fatal(err)
			}
			var rep struct {
				Findings []struct{} `json:"findings"`
			}
			if err := json.Unmarshal(raw, &rep); err != nil {
				b.Fatal(err)
			}
			found = len(rep.Findings)
		}
		b.ReportMetric(float64(found), "findings")
	})
}
