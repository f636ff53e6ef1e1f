package server

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkFileView20k times the file view (GET /v1/repositories/:id/file)
// through the real router on a snapshot of 20,000 files, once warm: with
// local files (the baseline), with files in S3 behind the snapshot cache
// (the AWS default), and in S3 with the cache off (ranged reads only), all in
// one run. Target for S3: p50 < 50 ms (docs/benchmarks.md).
//
//	go test ./app/server -run '^$' -bench FileView20k -benchtime 300x
func BenchmarkFileView20k(b *testing.B) {
	files := 20000
	if s := os.Getenv("VEGA_BENCH_SMALL"); s != "" {
		files = 2000
	}
	archive, paths := benchArchive(b, files)
	// Set up outside b.Run: a sub-benchmark body runs more than once, and
	// ingesting 20,000 files each time would dominate the run.
	type target struct {
		name string
		view func(path string) time.Duration
	}
	var targets []target
	for _, c := range []struct {
		name string
		env  map[string]string
	}{
		{"local", nil},
		{"s3-cached", map[string]string{"VEGA_FILE_STORAGE_BACKEND": "s3"}},
		{"s3-ranged", map[string]string{"VEGA_FILE_STORAGE_BACKEND": "s3", "VEGA_S3_CACHE_MAX_BYTES": "0"}},
	} {
		h := newHarness(b, c.env)
		tok := h.debugToken()
		pid := h.project(tok, "bench")
		r := h.upload(tok, "/v1/projects/"+pid+"/repositories", "big", archive)
		if r.Status != 201 {
			b.Fatalf("%s upload: %d %s", c.name, r.Status, r.Body)
		}
		id := r.JSON(b)["id"].(string)
		for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
			st := h.do("GET", "/v1/repositories/"+id, tok, nil).JSON(b)["ingest_status"]
			if st == "ready" {
				break
			}
			if st == "failed" || time.Now().After(deadline) {
				b.Fatalf("%s ingest: %v", c.name, st)
			}
		}
		view := func(p string) time.Duration {
			start := time.Now()
			r := h.do("GET", "/v1/repositories/"+id+"/file?path="+url.QueryEscape(p), tok, nil)
			d := time.Since(start)
			if r.Status != 200 {
				b.Fatalf("file %s: %d %s", p, r.Status, r.Body)
			}
			return d
		}
		view(paths[0]) // warm: the ingest's profile step usually filled the cache already
		targets = append(targets, target{c.name, view})
	}
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				times = append(times, tg.view(paths[rng.IntN(len(paths))]))
			}
			b.StopTimer()
			slices.Sort(times)
			ms := func(q float64) float64 {
				return float64(times[int(q*float64(len(times)-1))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
}

// benchArchive is a zip of n small source files in 100 directories.
func benchArchive(b *testing.B, n int) ([]byte, []string) {
	// A second top-level entry, or ingest strips the lone wrapping folder.
	files := map[string]string{"README.md": "# bench\n"}
	paths := make([]string, 0, n)
	for i := range n {
		p := fmt.Sprintf("src/pkg%02d/mod%05d.py", i%100, i)
		files[p] = strings.Repeat("def f"+strconv.Itoa(i)+"(x):\n    return x + 1\n", 20)
		paths = append(paths, p)
	}
	return zipOf(b, files), paths
}
