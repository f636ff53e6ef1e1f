package server

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// zipOf builds a zip archive from name → content.
func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload posts a multipart archive upload and returns the response.
func (h *harness) upload(token, path, name string, archive []byte) response {
	h.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if name != "" {
		mw.WriteField("name", name)
	}
	fw, _ := mw.CreateFormFile("archive", "source.zip")
	fw.Write(archive)
	mw.Close()
	return h.do("POST", path, token, body.Bytes(), "Content-Type", mw.FormDataContentType())
}

// waitIngest polls the repository until its ingest ends.
func (h *harness) waitIngest(token, repoID string) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := h.do("GET", "/v1/repositories/"+repoID, token, nil).JSON(h.t)
		if s := r["ingest_status"]; s == "ready" || s == "failed" {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("ingest of %s did not finish", repoID)
	return nil
}

// ingestedRepo creates a project, uploads files to it as the repository
// name, waits for a ready ingest and returns the repository ID.
func (h *harness) ingestedRepo(tok, project, name string, files map[string]string) string {
	h.t.Helper()
	pid := h.project(tok, project)
	r := h.upload(tok, "/v1/projects/"+pid+"/repositories", name, zipOf(h.t, files))
	if r.Status != 201 {
		h.t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	repoID := r.JSON(h.t)["id"].(string)
	if done := h.waitIngest(tok, repoID); done["ingest_status"] != "ready" {
		h.t.Fatalf("ingest: %v", done)
	}
	return repoID
}

// project creates a project and returns its ID.
func (h *harness) project(token, name string) string {
	h.t.Helper()
	return h.create("project", token, "/v1/projects", map[string]string{"name": name}, "id")
}

func TestArchiveRepositoryLifecycle(t *testing.T) {
	h, tok := rootHarness(t)
	pid := h.project(tok, "shop")
	archive := zipOf(t, map[string]string{
		"shop-main/package.json":        `{"dependencies": {"express": "^4.18.0", "pg": "^8"}}`,
		"shop-main/src/server.js":       "const express = require('express');\nconst app = express();\napp.get('/users/:id', (req, res) => res.send(req.params.id));\n",
		"shop-main/routes/orders.js":    "module.exports = {};\n",
		"shop-main/docs/notes.md":       "ignored by .vegaignore\n",
		"shop-main/.vegaignore":         "docs/\n",
		"shop-main/.git/config":         "[core]\n",
		"shop-main/test/server.test.js": "test('x', () => {});\n",
	})
	r := h.upload(tok, "/v1/projects/"+pid+"/repositories", "shop", archive)
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	repo := r.JSON(t)
	id := repo["id"].(string)
	if repo["ingest_status"] != "pending" || repo["source_type"] != "archive" {
		t.Fatalf("new repository: %s", r.Body)
	}
	done := h.waitIngest(tok, id)
	if done["ingest_status"] != "ready" || done["latest_snapshot_id"] == "" {
		t.Fatalf("ingest: %v", done)
	}

	snaps := h.do("GET", "/v1/repositories/"+id+"/snapshots", tok, nil).JSON(t)["items"].([]any)
	if len(snaps) != 1 {
		t.Fatalf("snapshots: %v", snaps)
	}
	snap := snaps[0].(map[string]any)
	if snap["file_count"] != float64(5) { // package.json, server.js, orders.js, .vegaignore, server.test.js
		t.Fatalf("file_count %v (the wrapping folder, .git and docs/ must be left out): %v", snap["file_count"], snap)
	}

	tree := h.do("GET", "/v1/repositories/"+id+"/tree", tok, nil).JSON(t)
	names := []string{}
	for _, e := range tree["entries"].([]any) {
		names = append(names, e.(map[string]any)["name"].(string))
	}
	joined := strings.Join(names, ",")
	if !strings.Contains(joined, "src") || strings.Contains(joined, ".git") || strings.Contains(joined, "docs") || strings.Contains(joined, "shop-main") {
		t.Fatalf("root entries: %v", names)
	}
	f := h.do("GET", "/v1/repositories/"+id+"/file?path=src/server.js", tok, nil)
	if f.Status != 200 || !strings.Contains(f.JSON(t)["content"].(string), "express()") {
		t.Fatalf("file: %d %s", f.Status, f.Body)
	}
	for _, p := range []string{"../../etc/passwd", "/etc/passwd", "src/%2e%2e/%2e%2e/x", "nope.js"} {
		r := h.do("GET", "/v1/repositories/"+id+"/file?path="+p, tok, nil)
		if r.Status != 404 && r.Status != 400 {
			t.Fatalf("file %q: %d %s", p, r.Status, r.Body)
		}
		r.ErrCode(t)
	}

	// A profile was generated from the manifest on first ingest.
	var tp map[string]any
	for i := 0; i < 100; i++ {
		tp = h.do("GET", "/v1/repositories/"+id+"/threat-profile", tok, nil).JSON(t)
		if tp["status"] == "ready" {
			break
		}
		time.Sleep(30 * time.Millisecond)
	}
	content := tp["content"].(map[string]any)
	if tp["status"] != "ready" || tp["source"] != "generated" || !strings.Contains(strings.ToLower(fmt.Sprint(content)), "express") {
		t.Fatalf("generated profile: %v", tp)
	}
	edit := map[string]any{"summary": "Shop API", "focus": []string{"injection"}, "out_of_scope": []string{"test/"}, "severity_threshold": "medium"}
	put := h.do("PUT", "/v1/repositories/"+id+"/threat-profile", tok, edit)
	if put.Status != 200 || put.JSON(t)["source"] != "edited" {
		t.Fatalf("edit profile: %d %s", put.Status, put.Body)
	}
	if r := h.do("PUT", "/v1/repositories/"+id+"/threat-profile", tok, map[string]any{"severity_threshold": "urgent"}); r.Status != 400 || r.ErrCode(t) != "validation_failed" {
		t.Fatalf("bad threshold: %d %s", r.Status, r.Body)
	}
	if r := h.do("POST", "/v1/repositories/"+id+"/threat-profile/generate", tok, nil); r.Status != 202 {
		t.Fatalf("generate: %d %s", r.Status, r.Body)
	}

	// Another user sees none of it.
	other := h.newUser(tok, "other@example.com")
	for _, p := range []string{"/v1/repositories/" + id, "/v1/repositories/" + id + "/tree", "/v1/repositories/" + id + "/file?path=src/server.js", "/v1/repositories/" + id + "/threat-profile", "/v1/projects/" + pid + "/repositories"} {
		if r := h.do("GET", p, other, nil); r.Status != 404 {
			t.Fatalf("%s as another user: %d", p, r.Status)
		}
	}

	// Re-ingest needs a new archive for an uploaded repository.
	if r := h.upload(tok, "/v1/repositories/"+id+"/ingest", "", archive); r.Status != 202 {
		t.Fatalf("re-ingest: %d %s", r.Status, r.Body)
	}
	h.waitIngest(tok, id)
	if n := len(h.do("GET", "/v1/repositories/"+id+"/snapshots", tok, nil).JSON(t)["items"].([]any)); n != 2 {
		t.Fatalf("snapshots after re-ingest: %d", n)
	}
	if staged, _ := h.env.Blobs.List(t.Context(), "uploads/"); len(staged) != 0 {
		t.Fatalf("the re-ingested upload was kept after its ingest: %v", staged)
	}

	// Deleting removes the blobs too.
	if r := h.do("DELETE", "/v1/repositories/"+id, tok, nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	left, _ := h.env.Blobs.List(t.Context(), "snapshots/"+id+"/")
	if len(left) != 0 {
		t.Fatalf("blobs left after delete: %v", left)
	}
}

func TestHostileArchivesFailWithAReason(t *testing.T) {
	h := newHarness(t, map[string]string{"VEGA_MAX_ARCHIVE_FILE_BYTES": "1000"})
	tok := h.debugToken()
	pid := h.project(tok, "hostile")
	cases := map[string]struct {
		archive []byte
		reason  string
	}{
		"traversal":      {zipOf(t, map[string]string{"../evil.sh": "x", "ok.txt": "y"}), "path_traversal"},
		"absolute":       {zipOf(t, map[string]string{"/etc/cron.d/evil": "x"}), "absolute_path"},
		"file too big":   {zipOf(t, map[string]string{"big.bin": strings.Repeat("A", 5000)}), "file_too_large"},
		"not an archive": {[]byte("just some text, not an archive at all"), "unsupported_format"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := h.upload(tok, "/v1/projects/"+pid+"/repositories", name, c.archive)
			if r.Status != 201 {
				t.Fatalf("upload: %d %s", r.Status, r.Body)
			}
			done := h.waitIngest(tok, r.JSON(t)["id"].(string))
			ie, _ := done["ingest_error"].(map[string]any)
			if done["ingest_status"] != "failed" || ie == nil || ie["code"] != "archive_rejected" {
				t.Fatalf("%v", done)
			}
			if d, _ := ie["details"].(map[string]any); d["reason"] != c.reason {
				t.Fatalf("reason %v, want %s", ie, c.reason)
			}
		})
	}
	// Nothing of the rejected uploads is left: no staged uploads, no work dirs.
	uploads, _ := h.env.Blobs.List(t.Context(), "uploads/")
	if len(uploads) != 0 {
		t.Fatalf("staged uploads left behind: %v", uploads)
	}
	entries, _ := os.ReadDir(h.env.TempDir())
	if len(entries) != 1 || entries[0].Name() != ".lock" { // the process's lock (tempdir.go)
		t.Fatalf("ingest work directories left behind: %d", len(entries))
	}
	if _, err := os.Stat(filepath.Join(h.env.Config.DataDir, "evil.sh")); err == nil {
		t.Fatal("traversal wrote outside")
	}
}

func TestUploadTooLargeIsCutOff(t *testing.T) {
	h := newHarness(t, map[string]string{"VEGA_MAX_SOURCE_BYTES": "1024"})
	tok := h.debugToken()
	pid := h.project(tok, "big")
	r := h.upload(tok, "/v1/projects/"+pid+"/repositories", "big", bytes.Repeat([]byte("x"), 4096))
	if r.Status != 413 || r.ErrCode(t) != "payload_too_large" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if uploads, _ := h.env.Blobs.List(t.Context(), "uploads/"); len(uploads) != 0 {
		t.Fatalf("a cut-off upload was kept: %v", uploads)
	}
	if r := h.upload(tok, "/v1/projects/prj_01J0000000000000000000000X/repositories", "x", []byte("PK")); r.Status != 404 {
		t.Fatalf("upload to an unknown project: %d", r.Status)
	}
}

func TestGitURLValidation(t *testing.T) {
	h, tok := rootHarness(t)
	pid := h.project(tok, "git")
	for _, u := range []string{"ftp://example.com/x.git", "file:///etc", "git@github.com:a/b.git", "", "https://"} {
		r := h.do("POST", "/v1/projects/"+pid+"/repositories", tok, map[string]string{"git_url": u})
		if r.Status != 400 || r.ErrCode(t) != "validation_failed" {
			t.Fatalf("%q: %d %s", u, r.Status, r.Body)
		}
	}
	// Loopback is refused by the host check: the ingest fails with host_not_allowed.
	r := h.do("POST", "/v1/projects/"+pid+"/repositories", tok, map[string]string{"git_url": "http://127.0.0.1:9/repo.git"})
	if r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	done := h.waitIngest(tok, r.JSON(t)["id"].(string))
	if ie, _ := done["ingest_error"].(map[string]any); ie == nil || ie["code"] != "host_not_allowed" {
		t.Fatalf("%v", done)
	}
}
