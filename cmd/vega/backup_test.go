package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/apitest"
)

// serveLocal starts `vega serve` on a fresh local (bolt) data directory and
// returns its environment (skipped under -short: it starts processes).
func serveLocal(t *testing.T) ([]string, *client) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes")
	}
	env := localEnv(t.TempDir())
	return env, startAPI(t, env)
}

func localEnv(dataDir string) []string {
	return []string{
		"VEGA_PERSISTENCE_BACKEND=bolt",
		"VEGA_FILE_STORAGE_BACKEND=local",
		"VEGA_DATA_DIR=" + dataDir,
		"VEGA_SCAN_EXECUTION_MODE=thread",
		"VEGA_SCAN_ENGINES=secrets",
		"VEGA_MAX_ACTIVE_SCANS_PER_USER=1000",
		"VEGA_LOG_LEVEL=info",
	}
}

// vegaCmd runs a short-lived vega command and returns its exit code and output.
func vegaCmd(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(apitest.VegaBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

func (c *client) createScan(repo string) string {
	c.t.Helper()
	var s scanView
	if code := c.call("POST", "/v1/repositories/"+repo+"/scans", map[string]any{}, &s); code != 201 && code != 202 {
		c.t.Fatalf("create scan: %d", code)
	}
	return s.ID
}

// waitScan waits until the scan has ended, however it ended.
func (c *client) waitScan(id string, within time.Duration) scanView {
	c.t.Helper()
	return c.waitStatus(id, within, "completed", "failed", "cancelled")
}

type findingsPage struct {
	Items []struct {
		ID          string `json:"id"`
		Fingerprint string `json:"fingerprint"`
	} `json:"items"`
}

// scanState is what a restored server must serve again for one scan.
func (c *client) scanState(id string) string {
	c.t.Helper()
	var f findingsPage
	c.call("GET", "/v1/scans/"+id+"/findings?limit=500", nil, &f)
	ids := []string{}
	for _, x := range f.Items {
		ids = append(ids, x.ID+"/"+x.Fingerprint)
	}
	// The runner uploads the artifacts just after the scan completes.
	var status int
	var report []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if status, report = apitest.Call(c.t, c.base, c.token, "GET", "/v1/scans/"+id+"/artifacts/report.json", nil, nil); status != http.StatusNotFound {
			break
		}
	}
	if status != http.StatusOK || !bytes.Contains(report, []byte(`"findings"`)) {
		c.t.Fatalf("report.json of %s: %d %.200s", id, status, report)
	}
	return fmt.Sprintf("%s findings=%v report=%d bytes", c.scan(id).Status, ids, len(report))
}

// TestBackupWhileServingAndRestore: `vega backup` copies the store of a
// running `vega serve` while scans write to it; the archive restored into a
// fresh data directory serves the same projects, findings and artifacts.
func TestBackupWhileServingAndRestore(t *testing.T) {
	envA, api := serveLocal(t)
	repo := api.readyRepository(sourceTree(30))
	first := api.createScan(repo)
	if s := api.waitScan(first, time.Minute); s.Status != "completed" {
		t.Fatalf("first scan: %+v", s)
	}
	before := api.scanState(first)
	if !strings.Contains(before, "/") {
		t.Fatalf("the first scan found nothing: %s", before)
	}

	// Scans keep being created and run while the backup is taken.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var created atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			apitest.Call(t, api.base, api.token, "POST", "/v1/repositories/"+repo+"/scans", map[string]any{}, nil)
			created.Add(1)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	archive := filepath.Join(t.TempDir(), "vega.backup.tgz")
	code, out := vegaCmd(t, envA, "backup", "--out", archive)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "backup written to") {
		t.Fatalf("vega backup: exit %d\n%s", code, out)
	}
	t.Logf("%s(%d scans created while serving)", out, created.Load())
	if code, out := vegaCmd(t, envA, "backup", "--out", archive); code != 1 || !strings.Contains(out, "already exists") {
		t.Fatalf("backup over an existing file: exit %d\n%s", code, out)
	}
	if code, out := vegaCmd(t, envA, "restore", "--from", archive); code != 1 || !strings.Contains(out, "stop `vega serve` first") {
		t.Fatalf("restore under a running server: exit %d\n%s", code, out)
	}

	// Restore into a fresh data directory and serve it.
	dataB := t.TempDir()
	envB := localEnv(dataB)
	if code, out := vegaCmd(t, envB, "restore", "--from", archive); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("vega restore: exit %d\n%s", code, out)
	}
	restored := startAPI(t, envB)
	if got := restored.scanState(first); got != before {
		t.Fatalf("first scan after restore:\n got %s\nwant %s", got, before)
	}
	var projects struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	restored.call("GET", "/v1/projects", nil, &projects)
	if len(projects.Items) != 1 || projects.Items[0].Name != "p" {
		t.Fatalf("projects: %+v", projects)
	}
	var file struct {
		Content string `json:"content"`
	}
	restored.call("GET", "/v1/repositories/"+repo+"/file?path=src/pkg1/mod1.py", nil, &file)
	if !strings.Contains(file.Content, "def f1") {
		t.Fatalf("snapshot file after restore: %+v", file)
	}
	// Every artifact a restored scan records is served: the runner records
	// artifacts after uploading them, and the backup copies the blobs the
	// snapshot names.
	var scans struct {
		Items []struct {
			ID        string `json:"id"`
			Status    string `json:"status"`
			Artifacts []struct {
				Name string `json:"name"`
				Size int    `json:"size"`
			} `json:"artifacts"`
		} `json:"items"`
	}
	restored.call("GET", "/v1/repositories/"+repo+"/scans?limit=500", nil, &scans)
	artifacts := 0
	for _, s := range scans.Items {
		for _, a := range s.Artifacts {
			status, body := apitest.Call(t, restored.base, restored.token, "GET", "/v1/scans/"+s.ID+"/artifacts/"+a.Name, nil, nil)
			if status != http.StatusOK || len(body) == 0 {
				t.Fatalf("artifact %s of scan %s (%s) after restore: %d", a.Name, s.ID, s.Status, status)
			}
			artifacts++
		}
	}
	t.Logf("restored: %d scans, %d recorded artifacts all served", len(scans.Items), artifacts)
	// The restored server runs new scans.
	if s := restored.waitScan(restored.createScan(repo), time.Minute); s.Status != "completed" {
		t.Fatalf("scan after restore: %+v", s)
	}
}

// A damaged or hostile archive is refused with a clear error and the data
// directory is left as it was.
func TestRestoreRefusesBadArchives(t *testing.T) {
	env, api := serveLocal(t)
	api.readyRepository(map[string]string{"a.py": "print(1)\n"})
	archive := filepath.Join(t.TempDir(), "b.tgz")
	if code, out := vegaCmd(t, env, "backup", "--out", archive); code != 0 {
		t.Fatalf("backup: %d %s", code, out)
	}
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	hostile := func(name string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o600, Size: 4})
		tw.Write([]byte("evil"))
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}
	outside := filepath.Join(t.TempDir(), "evil")
	cases := map[string]struct {
		archive []byte
		want    string
	}{
		"truncated":     {raw[:len(raw)*2/3], "truncated or corrupted"},
		"corrupted":     {append(append([]byte{}, raw[:len(raw)/2]...), bytes.Repeat([]byte{0x55}, len(raw)-len(raw)/2)...), "backup archive refused"},
		"parent path":   {hostile("blobs/../../" + filepath.Base(outside)), "outside the backup's folders"},
		"absolute path": {hostile(outside), "outside the backup's folders"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dest := t.TempDir()
			p := filepath.Join(t.TempDir(), "bad.tgz")
			os.WriteFile(p, c.archive, 0o600)
			code, out := vegaCmd(t, localEnv(dest), "restore", "--from", p)
			if code != 1 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, want %q:\n%s", code, c.want, out)
			}
			if entries, _ := os.ReadDir(dest); len(entries) != 0 {
				t.Fatalf("the data directory changed: %v", entries)
			}
			if _, err := os.Stat(outside); err == nil {
				t.Fatal("a file was written outside the data directory")
			}
		})
	}
}
