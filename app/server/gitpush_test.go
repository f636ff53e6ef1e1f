package server

import (
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vegasec/vega/testutil/srctree"
)

// gitWork commits files to a new work tree and returns a runner of git in
// it: a fixed identity, no prompts, the work tree as HOME. Without a git
// client the test is skipped (a failure under CI).
func gitWork(t *testing.T, files map[string]string) func(args ...string) (string, error) {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is required for this test under CI")
		}
		t.Skip("no git client on this machine")
	}
	work := t.TempDir()
	git := func(args ...string) (string, error) {
		cmd := exec.Command(gitBin, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "HOME="+work)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	srctree.WriteFiles(t, work, files)
	for _, args := range [][]string{{"init", "-q", "-b", "work"}, {"add", "."}, {"commit", "-q", "-m", "first"}} {
		if out, err := git(args...); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	return git
}

func TestGitPushRemote(t *testing.T) {
	git := gitWork(t, map[string]string{
		"go.mod":      "module example.com/api\n\nrequire github.com/gin-gonic/gin v1.9.0\n",
		"cmd/main.go": "package main\n\nfunc main() {}\n",
	})
	// Debug level: every log line the server can write about these requests.
	h := newHarness(t, map[string]string{"VEGA_LOG_LEVEL": "debug"})
	addr := h.serve()
	tok := h.debugToken()
	pid := h.project(tok, "pushed")

	r := h.do("POST", "/v1/git-uploads", tok, map[string]string{"project_id": pid, "repository_name": "api"})
	if r.Status != 201 {
		t.Fatalf("create upload: %d %s", r.Status, r.Body)
	}
	up := r.JSON(t)
	remote, _ := url.Parse(up["remote_url"].(string))
	remote.Host = addr

	if out, err := git("push", remote.String(), "HEAD:main"); err != nil {
		t.Fatalf("git push: %v\n%s", err, out)
	}
	got := h.do("GET", "/v1/git-uploads/"+up["id"].(string), tok, nil).JSON(t)
	if got["status"] != "received" || got["repository_id"] == "" {
		t.Fatalf("upload after push: %v", got)
	}
	repo := h.waitIngest(tok, got["repository_id"].(string))
	if repo["ingest_status"] != "ready" || repo["source_type"] != "git_push" {
		t.Fatalf("pushed repository: %v", repo)
	}
	f := h.do("GET", "/v1/repositories/"+repo["id"].(string)+"/file?path=cmd/main.go", tok, nil)
	if f.Status != 200 || !strings.Contains(string(f.Body), "func main") {
		t.Fatalf("pushed file: %d %s", f.Status, f.Body)
	}
	// The remote takes one push only.
	if out, err := git("push", remote.String(), "HEAD:other"); err == nil {
		t.Fatalf("second push accepted:\n%s", out)
	}
	// Fetching from it is refused.
	if out, err := git("ls-remote", remote.String()); err == nil {
		t.Fatalf("fetch allowed:\n%s", out)
	}
	// A made-up token is unknown.
	bad := *remote
	bad.Path = "/git/nottherealtoken.git"
	if out, err := git("push", bad.String(), "HEAD:main"); err == nil {
		t.Fatalf("push with an unknown token accepted:\n%s", out)
	}

	// The token in the remote URL is its credential: no log line may carry it,
	// neither the request log nor an error path (mixed case routes the same).
	token := strings.TrimSuffix(strings.TrimPrefix(remote.Path, "/git/"), ".git")
	upper := *remote
	upper.Path = "/GIT/" + token + ".git"
	git("push", upper.String(), "HEAD:third")
	logs := h.logs.String()
	if !strings.Contains(logs, "/git/[redacted].git/info/refs") {
		t.Fatalf("push requests are not in the log (or not redacted as expected):\n%s", logs)
	}
	for _, secret := range []string{token, "nottherealtoken"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the server log carries a push token %q:\n%s", secret, logs)
		}
	}
}
