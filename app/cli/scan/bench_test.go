package scan

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vegasec/vega/app/engine/secrets/secretstest"
	"github.com/vegasec/vega/testutil/srctree"
)

// BenchmarkScanCLI20k compares standalone `vega scan` — select the tree,
// snapshot it into a temporary bbolt store and blob directory, run the real
// runner with the secrets engine, write the JSON report and SARIF, remove the
// store — with the `gitleaks dir` path: gitleaks v8's default detector as a
// library, sources.Files + DetectSource over the same tree, in the same run.
// Target: vega scan ≤ 1x gitleaks (docs/benchmarks.md "vega scan"). ns/op
// is the pair; the metrics split it.
//
//	go test ./app/cli/scan -run '^$' -bench BenchmarkScanCLI20k -benchtime 2x -timeout 90m
func BenchmarkScanCLI20k(b *testing.B) {
	files := 20000
	if os.Getenv("VEGA_BENCH_SMALL") != "" {
		files = 2000
	}
	src := b.TempDir()
	total := srctree.Write(b, src, files, func(i int) string { return srctree.AWSKeyLine(i + 100) })
	ctx := context.Background()

	gitleaksDir := func() int { return secretstest.GitleaksDirCount(ctx, b, src) }
	out := b.TempDir()
	vegaScan := func() int {
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
		return len(rep.Findings)
	}

	// Each round runs both, alternating which goes first, so the load of a
	// shared machine hits both alike; the figures are per round.
	b.SetBytes(total)
	b.ResetTimer()
	var gl, vg time.Duration
	var glFound, vgFound int
	for i := 0; i < b.N; i++ {
		runs := []func(){
			func() { t := time.Now(); glFound = gitleaksDir(); gl += time.Since(t) },
			func() { t := time.Now(); vgFound = vegaScan(); vg += time.Since(t) },
		}
		if i%2 == 1 {
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, r := range runs {
			r()
		}
		b.Logf("round %d: gitleaks-dir %.1f s, vega scan %.1f s (cumulative)", i+1, gl.Seconds(), vg.Seconds())
	}
	if glFound != vgFound {
		b.Fatalf("gitleaks found %d secrets, vega scan %d", glFound, vgFound)
	}
	b.ReportMetric(gl.Seconds()/float64(b.N), "gitleaks-s/op")
	b.ReportMetric(vg.Seconds()/float64(b.N), "vega-s/op")
	b.ReportMetric(vg.Seconds()/gl.Seconds(), "vega/gitleaks")
	b.ReportMetric(float64(vgFound), "findings")
}
