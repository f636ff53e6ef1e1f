package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/app/server"
	"github.com/vegasec/vega/testutil/apitest"
)

// smallDisk mounts a tmpfs of size bytes: a real file system that fills up.
// It needs the right to mount (root in CI's container); without it the test
// is skipped, except under CI=true where it fails.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		msg := "cannot mount a tmpfs for a full-disk test: " + strings.TrimSpace(string(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// randomZip is a zip holding size incompressible bytes (stored, so the
// upload, its extraction and the snapshot each take about size bytes).
func randomZip(t *testing.T, size int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "data/blob.bin", Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	chunk := make([]byte, 64<<10)
	for left := size; left > 0; left -= len(chunk) {
		for i := range chunk {
			chunk[i] = byte(rng.Uint32())
		}
		w.Write(chunk[:min(len(chunk), left)])
	}
	w2, _ := zw.Create("app/main.py")
	w2.Write([]byte("print('hello')\n"))
	zw.Close()
	return buf.Bytes()
}

func (c *client) uploadArchive(project, name string, archive []byte) (int, []byte) {
	c.t.Helper()
	return apitest.Call(c.t, c.base, c.token, "POST", "/v1/projects/"+project+"/repositories", apitest.Upload(name, archive), nil)
}

func (c *client) waitIngest(id string) map[string]any {
	c.t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var r map[string]any
		c.call("GET", "/v1/repositories/"+id, nil, &r)
		if s := r["ingest_status"]; s == "ready" || s == "failed" {
			return r
		}
	}
	c.t.Fatalf("ingest of %s did not end", id)
	return nil
}

// TestFullDiskOnARealFileSystem: `vega serve` on a 12 MiB tmpfs. An upload
// larger than the free space answers 507 storage_full; one that fits but
// whose snapshot does not fails its ingest with storage_full; neither leaves
// a file behind, and the store keeps working once they are refused.
func TestFullDiskOnARealFileSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dir := smallDisk(t, "12m")
	api := startAPI(t, localEnv(dir))
	var prj struct{ ID string }
	api.call("POST", "/v1/projects", map[string]string{"name": "p"}, &prj)

	// Just over the free space, so the disk fills near the end of the body:
	// an answer sent while much of the body is still coming is followed by
	// a reset that can reach the client before the answer does.
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	status, body := api.uploadArchive(prj.ID, "huge", randomZip(t, int(st.Bavail)*int(st.Bsize)+128<<10))
	var env struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(body, &env)
	if status != 507 || env.Error.Code != "storage_full" || strings.Contains(string(body), dir) {
		t.Fatalf("upload larger than the disk: %d %s", status, body)
	}

	// 5 MiB staged + 5 MiB extracted + a 5 MiB snapshot zip do not fit in 12.
	status, body = api.uploadArchive(prj.ID, "big", randomZip(t, 5<<20))
	if status != 201 && status != 202 {
		t.Fatalf("upload that fits: %d %s", status, body)
	}
	var repo struct{ ID string }
	json.Unmarshal(body, &repo)
	r := api.waitIngest(repo.ID)
	ie, _ := r["ingest_error"].(map[string]any)
	if r["ingest_status"] != "failed" || ie["code"] != "storage_full" {
		t.Fatalf("ingest on a full disk: %v", r)
	}
	if id, _ := r["latest_snapshot_id"].(string); id != "" {
		t.Fatalf("a snapshot was recorded: %v", r)
	}

	// Nothing partial is left: no staged upload, no snapshot blob, no
	// temporary file of a write, no ingest directory.
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case rel == "vega.db", rel == "admin.sock", strings.HasPrefix(rel, "secrets/"), isTempLock(rel):
		default:
			t.Errorf("left behind on the full disk: %s", rel)
		}
		return nil
	})

	// The store is consistent and the space is back: a repository of 3 MiB
	// is ingested and scanned.
	status, body = api.uploadArchive(prj.ID, "medium", randomZip(t, 3<<20))
	if status != 201 && status != 202 {
		t.Fatalf("upload after the full disk: %d %s", status, body)
	}
	json.Unmarshal(body, &repo)
	if r := api.waitIngest(repo.ID); r["ingest_status"] != "ready" {
		t.Fatalf("ingest after the full disk: %v", r)
	}
	if s := api.waitScan(api.createScan(repo.ID), time.Minute); s.Status != "completed" {
		t.Fatalf("scan after the full disk: %+v", s)
	}

	// A scan whose snapshot does not fit on what is left of the disk fails
	// with storage_full and leaves no scan directory.
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, int(st.Bavail)*int(st.Bsize)-(1<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	scanID := api.createScan(repo.ID)
	s := api.waitScan(scanID, time.Minute)
	os.Remove(filler)
	var full struct {
		Status string `json:"status"`
		Error  struct{ Code, Message string }
	}
	api.call("GET", "/v1/scans/"+scanID, nil, &full)
	if s.Status != "failed" || full.Error.Code != "storage_full" {
		t.Fatalf("scan on a full disk: %+v", full)
	}
	if kinds := api.eventKinds(scanID); kinds[len(kinds)-1] != "scan_failed" {
		t.Fatalf("events: %v", kinds)
	}
	// The runner uploads what artifacts it can after the scan has ended,
	// then removes its directory.
	var left []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		left = nil
		filepath.WalkDir(filepath.Join(dir, "tmp"), func(p string, d fs.DirEntry, err error) error {
			if rel, _ := filepath.Rel(dir, p); err == nil && (!d.IsDir() && !isTempLock(rel) || strings.HasPrefix(d.Name(), "vega-scan-")) {
				left = append(left, p)
			}
			return nil
		})
		if len(left) == 0 {
			return
		}
	}
	t.Fatalf("left behind by the scan: %v", left)
}

// isTempLock: rel (relative to the data directory) is the running serve's own
// temporary-directory lock, which is not something an operation left behind.
func isTempLock(rel string) bool {
	inTmp, ok := strings.CutPrefix(filepath.ToSlash(rel), "tmp/")
	return ok && server.IsProcessTempLock(inTmp)
}
