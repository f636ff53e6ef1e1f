package secrets

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/srctree"
)

// Environment of a benchmark side run in a subprocess (see runSide).
const (
	sideEnv = "VEGA_SECRETS_BENCH_SIDE" // engine or gitleaks
	rootEnv = "VEGA_SECRETS_BENCH_ROOT"
	outEnv  = "VEGA_SECRETS_BENCH_OUT"
)

// TestSecretsBenchSide is not a test: it is one side of BenchmarkSecretsRepo,
// run in its own process so its peak RSS and CPU time are its own.
func TestSecretsBenchSide(t *testing.T) {
	side, root, out := os.Getenv(sideEnv), os.Getenv(rootEnv), os.Getenv(outEnv)
	if side == "" {
		t.Skip("runs only as a subprocess of BenchmarkSecretsRepo")
	}
	var locs map[loc]bool
	switch side {
	case "engine":
		e := New()
		if err := e.init(); err != nil {
			t.Fatal(err)
		}
		locs = engineLocations(t, e, root)
	case "gitleaks":
		locs = gitleaksDir(t, root)
	default:
		t.Fatalf("unknown side %q", side)
	}
	list := make([]loc, 0, len(locs))
	for l := range locs {
		list = append(list, l)
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// sideResult is what one side cost and found.
type sideResult struct {
	wall, cpu time.Duration
	rssMiB    float64
	locs      map[loc]bool
}

// runSide runs one side in a child process of this test binary and
// measures it with getrusage: wall time, user+system CPU, peak RSS.
func runSide(b *testing.B, side, root string) sideResult {
	b.Helper()
	out := filepath.Join(b.TempDir(), side+".json")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSecretsBenchSide$", "-test.count", "1", "-test.timeout", "60m")
	cmd.Env = append(os.Environ(), sideEnv+"="+side, rootEnv+"="+root, outEnv+"="+out)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if outb, err := cmd.Output(); err != nil {
		b.Fatalf("%s side: %v\n%s", side, err, outb)
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	data, err := os.ReadFile(out)
	if err != nil {
		b.Fatal(err)
	}
	var list []loc
	if err := json.Unmarshal(data, &list); err != nil {
		b.Fatal(err)
	}
	r := sideResult{
		wall:   wall,
		cpu:    time.Duration(ru.Utime.Nano() + ru.Stime.Nano()),
		rssMiB: float64(ru.Maxrss) / 1024, // Linux reports KiB
		locs:   map[loc]bool{},
	}
	for _, l := range list {
		r.locs[l] = true
	}
	return r
}

// BenchmarkSecretsRepo runs the engine and the `gitleaks dir` code path
// (sources.Files + DetectSource, CLI defaults) on the same realistic tree
// (srctree.BenchRepoShape) in one run, each in its own process, and reports
// wall time, CPU time, peak RSS and the location diff (docs/benchmarks.md).
// VEGA_SECRETS_BENCH_TREE reuses (or creates) the tree at that path;
// VEGA_SECRETS_BENCH_SHAPE=small uses the parity test's small tree.
//
//	go test ./app/engine/secrets -run '^$' -bench BenchmarkSecretsRepo -benchtime 1x -timeout 60m
func BenchmarkSecretsRepo(b *testing.B) {
	root := os.Getenv("VEGA_SECRETS_BENCH_TREE")
	if root == "" {
		root = b.TempDir()
	}
	var stats srctree.RepoStats
	if _, err := os.Stat(filepath.Join(root, ".srctree-done")); err != nil {
		shape := srctree.BenchRepoShape()
		if os.Getenv("VEGA_SECRETS_BENCH_SHAPE") == "small" {
			shape = srctree.SmallRepoShape() // a quick check of the harness
		}
		stats = srctree.WriteRepo(b, root, shape)
		if err := os.WriteFile(filepath.Join(root, ".srctree-done"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("tree: %d files, %.0f MB, %d planted secrets", stats.Files, float64(stats.Bytes)/1e6, len(stats.Planted))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gl := runSide(b, "gitleaks", root)
		en := runSide(b, "engine", root)
		missed, extra := diffLocations(gl.locs, en.locs), diffLocations(en.locs, gl.locs)
		b.ReportMetric(gl.wall.Seconds(), "gitleaks-wall-s")
		b.ReportMetric(en.wall.Seconds(), "engine-wall-s")
		b.ReportMetric(en.wall.Seconds()/gl.wall.Seconds(), "wall-ratio")
		b.ReportMetric(gl.cpu.Seconds(), "gitleaks-cpu-s")
		b.ReportMetric(en.cpu.Seconds(), "engine-cpu-s")
		b.ReportMetric(en.cpu.Seconds()/gl.cpu.Seconds(), "cpu-ratio")
		b.ReportMetric(gl.rssMiB, "gitleaks-rss-MiB")
		b.ReportMetric(en.rssMiB, "engine-rss-MiB")
		b.ReportMetric(float64(len(gl.locs)), "gitleaks-locs")
		b.ReportMetric(float64(len(missed)), "missed-locs")
		b.ReportMetric(float64(len(extra)), "extra-locs")
		if len(missed) > 0 {
			b.Errorf("engine missed %d gitleaks locations:\n%s", len(missed), joinLocs(missed))
		}
		for _, l := range extra {
			b.Logf("engine only: %s", l)
		}
	}
}
