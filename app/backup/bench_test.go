package backup

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// BenchmarkBackup100kEvents backs up (and restores) a store holding 100,000
// scan events — 100 scans of 1,000 ~150-byte log lines — plus each scan's
// report artifact, and reports the archive's size (docs/benchmarks.md).
func BenchmarkBackup100kEvents(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	now := time.Now().UTC()
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "bench@example.com", Groups: []string{store.GroupUser}, CreatedAt: now}
	must(b, f.store.CreateUser(ctx, u))
	p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: u.ID, Name: "bench", CreatedAt: now, UpdatedAt: now}
	must(b, f.store.CreateProject(ctx, p))
	r := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: p.ID, OwnerUserID: u.ID, Name: "bench",
		SourceType: store.SourceGit, IngestStatus: store.IngestReady, CreatedAt: now, UpdatedAt: now}
	must(b, f.store.CreateRepository(ctx, r))
	for i := 0; i < 100; i++ {
		sc := &store.Scan{ID: store.NewID(store.PrefixScan), RepositoryID: r.ID, ProjectID: p.ID, OwnerUserID: u.ID,
			Status: store.ScanCompleted, Engines: []string{"codex"}, CreatedAt: now}
		must(b, f.store.CreateScan(ctx, sc))
		evs := make([]store.Event, 1000)
		for j := range evs {
			evs[j] = store.Event{Kind: store.EventScanLog, Payload: []byte(fmt.Sprintf(
				`{"level":"info","message":"codex: reading src/handlers/file_%06d.go to trace the request body into the query builder"}`, i*1000+j))}
		}
		_, err := f.store.AppendEvents(ctx, sc.ID, evs)
		must(b, err)
		_, err = f.blobs.Put(ctx, "scans/"+sc.ID+"/report.json", strings.NewReader(strings.Repeat(`{"finding":"x"},`, 2000)))
		must(b, err)
	}
	src := Source{Store: f.store, Blobs: f.blobs, SecretsDir: filepath.Join(f.dir, SecretsDir), Version: "bench"}
	out := b.TempDir()
	var size, storeBytes int64
	var restore time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		path := filepath.Join(out, fmt.Sprintf("b%d.tgz", i))
		m, err := WriteFile(path, func(w *os.File) (*Manifest, error) { return Write(ctx, w, src) })
		must(b, err)
		storeBytes = m.StoreBytes
		st, err := os.Stat(path)
		must(b, err)
		size = st.Size()
		b.StopTimer()
		start := time.Now()
		rf, err := os.Open(path)
		must(b, err)
		_, err = Restore(ctx, rf, filepath.Join(out, fmt.Sprintf("restore%d", i)))
		must(b, err)
		rf.Close()
		restore += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(size), "archive_bytes")
	b.ReportMetric(float64(storeBytes), "store_bytes")
	b.ReportMetric(float64(restore.Milliseconds())/float64(b.N), "restore_ms/op")
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
