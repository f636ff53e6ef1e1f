package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/srctree"
)

// These tests run the real binary as separate processes, the way operators do.

type proc struct {
	cmd *exec.Cmd
	out *apitest.SyncBuffer
}

func (p *proc) output() string { return p.out.String() }

// start runs `vega args...` with env; the process is killed when the test ends.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(apitest.VegaBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{cmd: cmd, out: &apitest.SyncBuffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("output of vega %v:\n%s", args, apitest.Tail(p.output(), 3000))
		}
	})
	return p
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
	return apitest.ReadyRepository(c.t, c.base, c.token, "p", files)
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
