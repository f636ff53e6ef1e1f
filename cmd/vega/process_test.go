package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/srctree"
)

// These tests run the real binary as separate processes, the way operators do.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func vegaBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vega-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vega")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type proc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
	mu  *sync.Mutex
}

type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs `vega args...` with env; the process is killed when the test ends.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(vegaBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, out: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd.Stdout = lockedBuffer{p.mu, p.out}
	cmd.Stderr = lockedBuffer{p.mu, p.out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("output of vega %v:\n%s", args, tail(p.output(), 3000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// client talks to a running server's API.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) call(method, path string, body any, out any) int {
	c.t.Helper()
	status, raw := apitest.Call(c.t, c.base, c.token, method, path, body, out)
	if status >= 300 && out != nil {
		c.t.Fatalf("%s %s: %d %s", method, path, status, raw)
	}
	return status
}

func waitHTTP(t *testing.T, url string, within time.Duration) {
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

func login(t *testing.T, base string) *client {
	c := &client{t: t, base: base}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.call("POST", "/v1/auth/login", map[string]string{"email": "debug@example.com", "password": "vega-debug-password"}, &tok)
	c.token = tok.AccessToken
	return c
}

// readyRepository uploads a zip of files and waits until it is ingested.
func (c *client) readyRepository(files map[string]string) string {
	c.t.Helper()
	var prj struct{ ID string }
	c.call("POST", "/v1/projects", map[string]string{"name": "p"}, &prj)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for name, content := range files {
		w, _ := zw.Create(name)
		io.WriteString(w, content)
	}
	zw.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("archive", "src.zip")
	fw.Write(zbuf.Bytes())
	mw.WriteField("name", "repo")
	mw.Close()
	var repo struct{ ID string }
	c.call("POST", "/v1/projects/"+prj.ID+"/repositories", apitest.Body{Reader: &body, ContentType: mw.FormDataContentType()}, &repo)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var r struct {
			IngestStatus string `json:"ingest_status"`
		}
		c.call("GET", "/v1/repositories/"+repo.ID, nil, &r)
		if r.IngestStatus == "ready" {
			return repo.ID
		}
		if r.IngestStatus == "failed" {
			c.t.Fatal("ingest failed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatal("ingest did not finish")
	return ""
}

type scanView struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Attempt   int    `json:"attempt"`
	ClaimedBy string `json:"claimed_by"`
}

func (c *client) scan(id string) scanView {
	var s scanView
	c.call("GET", "/v1/scans/"+id, nil, &s)
	return s
}

func (c *client) eventKinds(scanID string) []string {
	var kinds []string
	after := 0
	for {
		var page struct {
			Items []struct {
				Seq  int    `json:"seq"`
				Kind string `json:"kind"`
			} `json:"items"`
		}
		c.call("GET", fmt.Sprintf("/v1/scans/%s/events?after_seq=%d&limit=500", scanID, after), nil, &page)
		if len(page.Items) == 0 {
			return kinds
		}
		for _, e := range page.Items {
			kinds = append(kinds, e.Kind)
			after = e.Seq
		}
	}
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func sourceTree(files int) map[string]string {
	tree := map[string]string{"config/settings.py": srctree.AWSKeyLine(7)}
	for i := 0; i < files; i++ {
		tree[fmt.Sprintf("src/pkg%d/mod%d.py", i%50, i)] = strings.Repeat(fmt.Sprintf("def f%d(x):\n    return x + %d\n", i, i), 20)
	}
	return tree
}
