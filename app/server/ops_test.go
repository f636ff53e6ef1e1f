package server

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestOpsRoutes(t *testing.T) {
	h, root := rootHarness(t)
	user := h.newUser(root, "plain@example.com")
	for _, p := range []string{"/v1/ops/workers", "/v1/ops/limits", "/v1/ops/queue"} {
		if r := h.do("GET", p, user, nil); r.Status != 403 || r.ErrCode(t) != "forbidden" {
			t.Fatalf("%s as a plain user: %d", p, r.Status)
		}
		if r := h.do("GET", p, root, nil); r.Status != 200 {
			t.Fatalf("%s as root: %d %s", p, r.Status, r.Body)
		}
	}
	if l := h.do("GET", "/v1/ops/limits", root, nil).JSON(t); l["max_active_scans_per_user"] != float64(4) || l["execution_mode"] != "thread" {
		t.Fatalf("limits: %v", l)
	}

	// Blobs whose rows are gone (a crash between the two deletes) are swept;
	// live ones are kept.
	repoID := h.ingestedRepo(root, "keep", "r", map[string]string{"a.txt": "a"})
	ctx := t.Context()
	orphans := []string{"snapshots/repo_01J0000000000000000000000X/snap_01J0000000000000000000000X.zip", "scans/scan_01J0000000000000000000000X/report.json",
		"uploads/repo_01J0000000000000000000000Y.archive"}
	for _, k := range orphans {
		if _, err := h.env.Blobs.Put(ctx, k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	res := h.do("POST", "/v1/ops/cleanup", root, nil)
	if res.Status != 200 || res.JSON(t)["orphaned_blobs"] != float64(2) || res.JSON(t)["stale_uploads"] != float64(1) {
		t.Fatalf("cleanup: %d %s", res.Status, res.Body)
	}
	for _, k := range orphans {
		if keys, _ := h.env.Blobs.List(ctx, k); len(keys) != 0 {
			t.Fatalf("%s survived cleanup", k)
		}
	}
	if keys, _ := h.env.Blobs.List(ctx, "snapshots/"+repoID+"/"); len(keys) != 2 {
		t.Fatalf("cleanup removed a live snapshot: %v", keys)
	}
	if r := h.do("POST", "/v1/ops/recover", root, nil); r.Status != 200 {
		t.Fatalf("recover: %d %s", r.Status, r.Body)
	}
}

func TestExpiredPushRemoteIsRefused(t *testing.T) {
	git := gitWork(t, map[string]string{"a.txt": "a"})
	h := newHarness(t, map[string]string{"VEGA_GIT_UPLOAD_TTL_SECONDS": "1"})
	addr := h.serve()
	tok := h.debugToken()
	up := h.do("POST", "/v1/git-uploads", tok, map[string]string{"project_id": h.project(tok, "p"), "repository_name": "late"}).JSON(t)
	time.Sleep(1100 * time.Millisecond)
	if got := h.do("GET", "/v1/git-uploads/"+up["id"].(string), tok, nil).JSON(t); got["status"] != "expired" {
		t.Fatalf("status after expiry: %v", got["status"])
	}
	remote, _ := url.Parse(up["remote_url"].(string))
	remote.Host = addr
	if out, err := git("push", remote.String(), "HEAD:main"); err == nil {
		t.Fatalf("push to an expired remote accepted:\n%s", out)
	}
}
