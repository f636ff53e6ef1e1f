package server

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/store/blob"
)

// fullDisk is the blob store with a disk of `room` bytes: a Put that would
// go past it fails with ENOSPC mid-stream, as the file system's write does,
// so the real store's own clean-up of the partial write runs.
type fullDisk struct {
	blob.Store
	room atomic.Int64
}

func (d *fullDisk) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return d.Store.Put(ctx, key, &spaceReader{r: r, d: d, key: key})
}

// wrap puts the full disk in front of b. A store that keeps blobs as local
// files (the local one) keeps its LocalPath, so the ingest reads a staged
// upload in place as it does unwrapped; S3 (VEGA_TEST_BLOBS=s3) has none.
func (d *fullDisk) wrap(b blob.Store) blob.Store {
	d.Store = b
	if lp, ok := b.(localPather); ok {
		return &localFullDisk{fullDisk: d, lp: lp}
	}
	return d
}

type localPather interface {
	LocalPath(key string) (string, error)
}

type localFullDisk struct {
	*fullDisk
	lp localPather
}

func (d *localFullDisk) LocalPath(key string) (string, error) { return d.lp.LocalPath(key) }

type spaceReader struct {
	r   io.Reader
	d   *fullDisk
	key string
}

func (s *spaceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if s.d.room.Add(-int64(n)) < 0 {
		return 0, &fs.PathError{Op: "write", Path: "/data/blobs/" + s.key + ".tmp", Err: syscall.ENOSPC}
	}
	return n, err
}

// noFilesUnder fails when dir holds a file: a partial write, a staged
// upload, an ingest or scan directory left behind.
func noFilesUnder(t *testing.T, dir string, allow func(rel string) bool) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if allow == nil || !allow(rel) {
			t.Errorf("left behind: %s", rel)
		}
		return nil
	})
}

// A disk that fills up ends the operation with storage_full and keeps
// nothing of it: no staged upload, no snapshot (row or blob), no partial
// file, no ingest or scan directory; the repository and scans that existed
// stay usable. Runs on bolt and, with VEGA_TEST_STORE=postgres, Postgres.
func TestDiskFullEndsUploadIngestAndScanCleanly(t *testing.T) {
	disk := &fullDisk{}
	disk.room.Store(1 << 40)
	h := newHarness(t, map[string]string{"VEGA_SCAN_ENGINES": "secrets"},
		WithBlobWrapper(disk.wrap))
	h.runBackground()
	tok := h.debugToken()
	prj := h.project(tok, "p")
	files := map[string]string{"config/settings.py": "AWS_SECRET_ACCESS_KEY = \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"\n"}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("src/m%d.py", i)] = strings.Repeat(fmt.Sprintf("x%d = %d\n", i, i*7919), 200)
	}
	archive := zipOf(t, files)
	dataDir := h.env.Config.DataDir
	blobsDir := filepath.Join(dataDir, "blobs")

	// A working repository first, to check it survives.
	good := h.upload(tok, "/v1/projects/"+prj+"/repositories", "good", archive)
	if good.Status != 202 && good.Status != 201 {
		t.Fatalf("upload: %d %s", good.Status, good.Body)
	}
	goodID := good.JSON(t)["id"].(string)
	if r := h.waitIngest(tok, goodID); r["ingest_status"] != "ready" {
		t.Fatalf("ingest: %v", r)
	}
	before, _ := h.env.Blobs.List(context.Background(), "")

	t.Run("upload staging", func(t *testing.T) {
		disk.room.Store(int64(len(archive) / 2))
		r := h.upload(tok, "/v1/projects/"+prj+"/repositories", "staged", archive)
		if r.Status != 507 || r.ErrCode(t) != "storage_full" || !strings.Contains(string(r.Body), "ran out of disk space") {
			t.Fatalf("want 507 storage_full, got %d %s", r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "/data/") {
			t.Fatalf("the answer shows a path: %s", r.Body)
		}
		repos := h.do("GET", "/v1/projects/"+prj+"/repositories", tok, nil).JSON(t)["items"].([]any)
		if len(repos) != 1 {
			t.Fatalf("a repository was recorded for the refused upload: %v", repos)
		}
	})

	t.Run("ingest snapshot", func(t *testing.T) {
		// Room for the staged upload, not for the snapshot built from it.
		disk.room.Store(int64(len(archive)) + 100)
		r := h.upload(tok, "/v1/projects/"+prj+"/repositories", "ingest", archive)
		if r.Status != 202 && r.Status != 201 {
			t.Fatalf("upload: %d %s", r.Status, r.Body)
		}
		id := r.JSON(t)["id"].(string)
		repo := h.waitIngest(tok, id)
		ie, _ := repo["ingest_error"].(map[string]any)
		if repo["ingest_status"] != "failed" || ie["code"] != "storage_full" || !strings.Contains(fmt.Sprint(ie["message"]), "disk space") {
			t.Fatalf("want a failed ingest with storage_full, got %v", repo)
		}
		if id, _ := repo["latest_snapshot_id"].(string); id != "" {
			t.Fatalf("a snapshot was recorded: %v", repo)
		}
		snaps := h.do("GET", "/v1/repositories/"+id+"/snapshots", tok, nil).JSON(t)["items"].([]any)
		if len(snaps) != 0 {
			t.Fatalf("snapshots of the failed ingest: %v", snaps)
		}
	})

	t.Run("scan artifacts", func(t *testing.T) {
		disk.room.Store(0)
		r := h.do("POST", "/v1/repositories/"+goodID+"/scans", tok, map[string]any{})
		if r.Status != 202 && r.Status != 201 {
			t.Fatalf("create scan: %d %s", r.Status, r.Body)
		}
		s := h.waitScan(tok, r.JSON(t)["id"].(string), time.Minute)
		// The artifacts are uploaded once the scan has ended; wait for the
		// stage that says how that went.
		var stage map[string]any
		for deadline := time.Now().Add(10 * time.Second); stage == nil && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			s = h.do("GET", "/v1/scans/"+s["id"].(string), tok, nil).JSON(t)
			for _, st := range s["stages"].([]any) {
				if m := st.(map[string]any); m["stage"] == "artifacts" {
					stage = m
				}
			}
		}
		if stage == nil || stage["status"] != "failed" || !strings.Contains(fmt.Sprint(stage["message"]), "no space left on disk") {
			t.Fatalf("artifacts stage: %v (scan %v)", stage, s)
		}
		if arts, _ := s["artifacts"].([]any); len(arts) != 0 {
			t.Fatalf("artifacts recorded though none was stored: %v", s["artifacts"])
		}
	})

	// Nothing of the three operations is left on disk, and what was there
	// before still is.
	after, _ := h.env.Blobs.List(context.Background(), "")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("blobs changed:\nbefore %v\nafter  %v", before, after)
	}
	noFilesUnder(t, blobsDir, func(rel string) bool { return !strings.Contains(filepath.Base(rel), ".tmp-") })
	noFilesUnder(t, filepath.Join(dataDir, "tmp"), IsProcessTempLock)
	disk.room.Store(1 << 40)
	r := h.do("POST", "/v1/repositories/"+goodID+"/scans", tok, map[string]any{})
	if s := h.waitScan(tok, r.JSON(t)["id"].(string), time.Minute); s["status"] != "completed" {
		t.Fatalf("scan once space is back: %v", s)
	}
	if _, local := disk.Store.(localPather); local { // S3 keeps no blobs directory
		if _, err := os.Stat(blobsDir); err != nil {
			t.Fatal(err)
		}
	}
}
