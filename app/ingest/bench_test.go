package ingest

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	kflate "github.com/klauspost/compress/flate"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// writeBenchArchive writes a zip shaped like a large monorepo: nFiles files in
// nested directories totalling about totalBytes, nine in ten source-like text
// (compressible), one in ten random binary (incompressible). Deterministic.
func writeBenchArchive(tb testing.TB, path string, nFiles int, totalBytes int64) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return kflate.NewWriter(w, 6) })
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("func return if else for range var const type struct interface package import error nil " +
		"string int64 byte map make append len ctx context err handler request response user token secret query db " +
		"select from where insert update delete json marshal unmarshal http server client config value key")
	avg := totalBytes / int64(nFiles)
	buf := make([]byte, 0, 4*avg)
	for i := range nFiles {
		size := avg/2 + rng.Int64N(avg)
		buf = buf[:0]
		// About 20 files per directory, as in real trees.
		name := fmt.Sprintf("monorepo/svc%02d/pkg%04d/file%05d.go", (i/20)%37, i/20, i)
		if i%10 == 9 {
			name = fmt.Sprintf("monorepo/assets%02d/blob%05d.bin", (i/200)%13, i)
			for int64(len(buf)) < size {
				buf = append(buf, byte(rng.Uint32()))
			}
		} else {
			for int64(len(buf)) < size {
				buf = append(buf, words[rng.IntN(len(words))]...)
				if rng.IntN(8) == 0 {
					buf = append(buf, '\n', '\t')
				} else {
					buf = append(buf, ' ')
				}
			}
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: fixedTime})
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(buf)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkIngestVsUnzip measures ExtractArchive + BuildSnapshot against
// `unzip -q` of the same 20,000-file / 300 MB archive, alternating the two
// five times so machine noise hits both alike, and reports the medians and
// their ratio (bar: ratio <= 1.5).
//
//	go test ./app/ingest -run '^$' -bench IngestVsUnzip -benchtime 1x
func BenchmarkIngestVsUnzip(b *testing.B) {
	if _, err := exec.LookPath("unzip"); err != nil {
		b.Skip("unzip is not installed")
	}
	nFiles, total := 20000, int64(300<<20)
	if s := os.Getenv("VEGA_BENCH_SMALL"); s != "" {
		nFiles, total = 2000, 30<<20
	}
	work := b.TempDir()
	archive := filepath.Join(work, "repo.zip")
	writeBenchArchive(b, archive, nFiles, total)
	ctx := context.Background()
	rounds := 5
	var unzipTimes, ingestTimes, extractTimes []time.Duration
	b.ResetTimer()
	for range b.N {
		for r := range rounds {
			out := filepath.Join(work, fmt.Sprintf("unzip%d", r))
			start := time.Now()
			if msg, err := exec.Command("unzip", "-q", archive, "-d", out).CombinedOutput(); err != nil {
				b.Fatalf("unzip: %v %s", err, msg)
			}
			unzipTimes = append(unzipTimes, time.Since(start))
			os.RemoveAll(out)

			dest := filepath.Join(work, fmt.Sprintf("vega%d", r))
			blobs, err := blob.NewLocal(filepath.Join(work, fmt.Sprintf("blobs%d", r)))
			if err != nil {
				b.Fatal(err)
			}
			start = time.Now()
			ex, err := ExtractArchive(ctx, archive, dest, DefaultLimits())
			if err != nil {
				b.Fatal(err)
			}
			extractTimes = append(extractTimes, time.Since(start))
			snap := &store.Snapshot{ID: "snap_b", RepositoryID: "repo_b", Skipped: ex.Skipped}
			if err := BuildSnapshot(ctx, dest, blobs, snap); err != nil {
				b.Fatal(err)
			}
			ingestTimes = append(ingestTimes, time.Since(start))
			b.Logf("round %d: unzip %v, extract %v, extract+snapshot %v", r+1,
				unzipTimes[len(unzipTimes)-1].Round(time.Millisecond), extractTimes[len(extractTimes)-1].Round(time.Millisecond),
				ingestTimes[len(ingestTimes)-1].Round(time.Millisecond))
			if snap.FileCount != nFiles {
				b.Fatalf("snapshot has %d files, want %d", snap.FileCount, nFiles)
			}
			os.RemoveAll(dest)
			os.RemoveAll(filepath.Join(work, fmt.Sprintf("blobs%d", r)))
		}
	}
	median := func(d []time.Duration) time.Duration { d = slices.Clone(d); slices.Sort(d); return d[len(d)/2] }
	u, in, ex := median(unzipTimes), median(ingestTimes), median(extractTimes)
	b.ReportMetric(u.Seconds(), "unzip-s")
	b.ReportMetric(ex.Seconds(), "extract-s")
	b.ReportMetric(in.Seconds(), "ingest-s")
	b.ReportMetric(in.Seconds()/u.Seconds(), "ingest/unzip")
}

// BenchmarkBuildSnapshot compares serial and parallel packing of the same
// extracted tree (2,000 files / 30 MB, nine in ten compressible).
//
//	go test ./app/ingest -run '^$' -bench BuildSnapshot -count 5
func BenchmarkBuildSnapshot(b *testing.B) {
	work := b.TempDir()
	archive := filepath.Join(work, "repo.zip")
	writeBenchArchive(b, archive, 2000, 30<<20)
	tree := filepath.Join(work, "tree")
	if _, err := ExtractArchive(context.Background(), archive, tree, DefaultLimits()); err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(30 << 20)
			for i := range b.N {
				blobs, err := blob.NewLocal(filepath.Join(work, fmt.Sprintf("blobs-%d-%d", workers, i)))
				if err != nil {
					b.Fatal(err)
				}
				snap := &store.Snapshot{ID: "snap_b", RepositoryID: "repo_b"}
				if err := BuildSnapshotWithOptions(context.Background(), tree, blobs, snap, SnapshotOptions{Workers: workers}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(filepath.Join(work, fmt.Sprintf("blobs-%d-%d", workers, i)))
				b.StartTimer()
			}
		})
	}
}
