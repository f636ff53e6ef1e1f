package apitest

// Helpers for tests that run the real vega binary as a separate process and
// talk to it over the network (cmd/vega, dispatch's crash test, the AWS
// rehearsal): each of them once carried its own copy of these.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	vegaOnce sync.Once
	vegaPath string
	vegaErr  error
)

// VegaBinary builds cmd/vega once per test binary and returns its path; the
// build is slow, so every test of a package shares it.
func VegaBinary(t testing.TB) string {
	t.Helper()
	vegaOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vega-bin-")
		if err != nil {
			vegaErr = err
			return
		}
		vegaPath = filepath.Join(dir, "vega")
		out, err := exec.Command("go", "build", "-o", vegaPath, "github.com/vegasec/vega/cmd/vega").CombinedOutput()
		if err != nil {
			vegaErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if vegaErr != nil {
		t.Fatal(vegaErr)
	}
	return vegaPath
}

// FreeAddr is a loopback address that was free a moment ago, for a process
// under test to listen on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// WaitOK polls url until it answers 200, failing the test after within: a
// started process is usable only once its health endpoint says so.
func WaitOK(t testing.TB, url string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s", url, within)
}

// SyncBuffer collects a process's stdout and stderr while the test reads
// them; os/exec writes from its own goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Tail is the last n bytes of s: enough of a process's output to log when a
// test fails.
func Tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Zip is a zip archive of files (name → content), the source upload format.
func Zip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Upload is the multipart body of POST /v1/projects/{id}/repositories: a
// repository called name from a zip archive.
func Upload(name string, archive []byte) Body {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("archive", name+".zip")
	_, _ = fw.Write(archive)
	_ = mw.WriteField("name", name)
	_ = mw.Close()
	return Body{Reader: &body, ContentType: mw.FormDataContentType()}
}

// ReadyRepository makes a project called project on the server at base, a
// repository in it from files, and waits until the repository is ingested;
// it returns the repository's id.
func ReadyRepository(t testing.TB, base, bearer, project string, files map[string]string) string {
	t.Helper()
	call := func(method, path string, body, out any) {
		t.Helper()
		if status, raw := Call(t, base, bearer, method, path, body, out); status >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, status, raw)
		}
	}
	var prj struct{ ID string }
	call("POST", "/v1/projects", map[string]string{"name": project}, &prj)
	var repo struct {
		ID           string `json:"id"`
		IngestStatus string `json:"ingest_status"`
	}
	call("POST", "/v1/projects/"+prj.ID+"/repositories", Upload("repo", Zip(t, files)), &repo)
	deadline := time.Now().Add(60 * time.Second)
	for repo.IngestStatus != "ready" {
		if repo.IngestStatus == "failed" || time.Now().After(deadline) {
			t.Fatalf("ingest: %+v", repo)
		}
		time.Sleep(50 * time.Millisecond)
		call("GET", "/v1/repositories/"+repo.ID, nil, &repo)
	}
	return repo.ID
}

// StartTestChild runs this test binary again as a child process running only
// test, with env added: crash tests kill that child mid-write and check what
// it left. The child's stderr is the test's; its stdout is returned as lines
// (the child prints where it is, so the parent knows when to kill it).
func StartTestChild(t testing.TB, test string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}
