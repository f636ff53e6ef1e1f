package server

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/testutil/srctree"
)

// Regression tests for the input and storage items of the hostile-user probe
// (docs/limits.md): each one performs the attack through the real router.

func (h *harness) blobDir(sub string) string {
	return filepath.Join(h.env.Config.DataDir, "blobs", filepath.FromSlash(sub))
}

// stagedFiles lists everything under blobs/uploads, partial writes included
// (on S3: the keys under uploads/ and the multipart uploads still open there).
func (h *harness) stagedFiles() []string {
	if h.aws != nil {
		var names []string
		for _, k := range append(h.aws.emu.Keys(h.t, h.aws.source), h.aws.emu.MultipartUploads(h.t, h.aws.source)...) {
			if strings.HasPrefix(k, "uploads/") {
				names = append(names, k)
			}
		}
		return names
	}
	entries, _ := os.ReadDir(h.blobDir("uploads"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func errorOf(t *testing.T, r response) map[string]any {
	t.Helper()
	r.ErrCode(t)
	return r.JSON(t)["error"].(map[string]any)
}

// oldID is an ID minted the given time ago (IDs carry their creation time).
func oldID(prefix string, ago time.Duration) string {
	return prefix + ulid.MustNew(ulid.Timestamp(time.Now().Add(-ago)), rand.Reader).String()
}

// An archive sent to re-ingest a Git repository used to be staged under
// blobs/uploads (up to VEGA_MAX_SOURCE_BYTES) and left there. It is refused
// before a byte is stored.
func TestUploadForAGitRepositoryIsRefusedBeforeStaging(t *testing.T) {
	// The archive sent is over the source cap: staged first, it would be
	// answered 413 when the cap cuts it off, not 409.
	h := newHarness(t, map[string]string{"VEGA_MAX_SOURCE_BYTES": "4096"})
	tok := h.debugToken()
	pid := h.project(tok, "git")
	r := h.do("POST", "/v1/projects/"+pid+"/repositories", tok, map[string]string{"git_url": "http://127.0.0.1:9/repo.git"})
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	before := h.waitIngest(tok, id)

	noise := make([]byte, 64<<10)
	rand.Read(noise)
	res := h.upload(tok, "/v1/repositories/"+id+"/ingest", "", noise)
	if res.Status != 409 || res.ErrCode(t) != "conflict" || !strings.Contains(errorOf(t, res)["message"].(string), "Git URL") {
		t.Fatalf("archive for a Git repository: %d %s", res.Status, res.Body)
	}
	if left := h.stagedFiles(); len(left) != 0 {
		t.Fatalf("the refused upload left %v under blobs/uploads", left)
	}
	after := h.do("GET", "/v1/repositories/"+id, tok, nil).JSON(t)
	if after["ingest_status"] != before["ingest_status"] || after["source_type"] != "git" {
		t.Fatalf("the refused upload changed the repository: %v", after)
	}
	// The way that works: re-ingest by cloning again.
	if r := h.do("POST", "/v1/repositories/"+id+"/ingest", tok, nil); r.Status != 202 {
		t.Fatalf("re-ingest by clone: %d %s", r.Status, r.Body)
	}
	h.waitIngest(tok, id)
}

// Cleanup (POST /v1/ops/cleanup, the same code as `vega maintenance`) finds
// staged uploads nothing points at once they are an hour old, and partial
// writes a killed process left, but never an upload that is fresh, still
// streaming, or being ingested.
func TestCleanupRemovesStaleStagedUploads(t *testing.T) {
	h, root := rootHarness(t)
	ctx := t.Context()
	me := h.do("GET", "/v1/auth/me", root, nil).JSON(t)["id"].(string)
	pid := h.project(root, "p")

	stale := blob.UploadKey(oldID(store.PrefixRepo, 2*time.Hour))
	fresh := blob.UploadKey(store.NewID(store.PrefixRepo))
	// A repository whose ingest resumed after a restart reads an upload staged long ago.
	inUse := blob.UploadKey(oldID(store.PrefixRepo, 3*time.Hour))
	now := time.Now().UTC()
	ingesting := &store.Repository{ID: store.NewID(store.PrefixRepo), ProjectID: pid, OwnerUserID: me, Name: "busy",
		SourceType: store.SourceArchive, IngestStatus: store.IngestIngesting, PendingUploadKey: inUse, CreatedAt: now, UpdatedAt: now}
	if err := h.env.Store.CreateRepository(ctx, ingesting); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{stale, fresh, inUse} {
		if _, err := h.env.Blobs.Put(ctx, k, strings.NewReader("archive bytes")); err != nil {
			t.Fatal(err)
		}
	}
	// Partial writes: one a killed process left two hours ago, one still
	// streaming. On S3 a partial write is an open multipart upload, which the
	// buckets' lifecycle rule aborts after a day (docs/aws.md): cleanup must
	// leave a live one alone.
	deadPartial, livePartial := h.blobDir("uploads/.tmp-dead"), h.blobDir("uploads/.tmp-live")
	wantPartials := float64(1)
	if h.aws == nil {
		for _, p := range []string{deadPartial, livePartial} {
			if err := os.WriteFile(p, []byte("half an upload"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(deadPartial, now.Add(-2*time.Hour), now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	} else {
		wantPartials = 0
		h.aws.emu.StartMultipartUpload(t, h.aws.source, "uploads/live.archive")
	}

	res := h.do("POST", "/v1/ops/cleanup", root, nil)
	got := res.JSON(t)
	if res.Status != 200 || got["stale_uploads"] != float64(1) || got["partial_writes"] != wantPartials {
		t.Fatalf("cleanup: %d %s", res.Status, res.Body)
	}
	exists := func(key string) bool {
		keys, _ := h.env.Blobs.List(ctx, key)
		return len(keys) == 1
	}
	if exists(stale) {
		t.Error("the stale staged upload survived cleanup")
	}
	if !exists(fresh) {
		t.Error("cleanup removed a fresh staged upload (its request may still attach it)")
	}
	if !exists(inUse) {
		t.Error("cleanup removed the upload a repository is being ingested from")
	}
	if h.aws == nil {
		if _, err := os.Stat(deadPartial); !os.IsNotExist(err) {
			t.Error("the dead partial write survived cleanup")
		}
		if _, err := os.Stat(livePartial); err != nil {
			t.Errorf("cleanup removed a write that is still streaming: %v", err)
		}
	} else if open := h.aws.emu.MultipartUploads(t, h.aws.source); len(open) != 1 {
		t.Errorf("cleanup aborted a multipart upload that is still streaming: %v", open)
	}
	// Idempotent: a second run finds nothing more.
	if again := h.do("POST", "/v1/ops/cleanup", root, nil).JSON(t); again["stale_uploads"] != float64(0) || again["partial_writes"] != float64(0) {
		t.Fatalf("second cleanup: %v", again)
	}
}

// Whether a host name does not resolve or resolves to a loopback/private
// address, the repository's ingest error is the same, so adding repositories
// is no oracle for internal DNS names.
func TestGitHostErrorsAreNoDNSOracle(t *testing.T) {
	h, tok := rootHarness(t)
	pid := h.project(tok, "dns")
	answers := map[string]map[string]any{}
	for _, host := range []string{"localhost", "vega-no-such-host.invalid"} {
		r := h.do("POST", "/v1/projects/"+pid+"/repositories", tok, map[string]string{"git_url": "http://" + host + ":9/team/repo.git"})
		if r.Status != 201 {
			t.Fatalf("%s: %d %s", host, r.Status, r.Body)
		}
		done := h.waitIngest(tok, r.JSON(t)["id"].(string))
		ie, _ := done["ingest_error"].(map[string]any)
		if ie == nil || ie["code"] != "host_not_allowed" {
			t.Fatalf("%s: %v", host, done)
		}
		ie["message"] = strings.ReplaceAll(ie["message"].(string), host, "HOST")
		answers[host] = ie
	}
	a, b := answers["localhost"], answers["vega-no-such-host.invalid"]
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("the answers tell the cases apart:\n  resolves to loopback: %v\n  does not resolve:     %v", a, b)
	}
}

// A 10 KB ID in a URL (or path in a query) is not echoed whole.
func TestEchoedIDsAreCapped(t *testing.T) {
	h, tok := rootHarness(t)
	repo := h.ingestedRepo(tok, "echo", "r", map[string]string{"a.txt": "a"})
	long := strings.Repeat("Z", 10_000)
	for _, p := range []string{
		"/v1/projects/prj_" + long,
		"/v1/projects/prj_" + long + "/repositories",
		"/v1/repositories/repo_" + long,
		"/v1/repositories/repo_" + long + "/threat-profile",
		"/v1/repositories/" + repo + "/file?path=" + long,
		"/v1/repositories/" + repo + "/tree?path=" + long,
		"/v1/repositories/" + repo + "/tree?snapshot_id=snap_" + long,
		"/v1/scans/scan_" + long,
		"/v1/findings/fnd_" + long,
		"/v1/git-uploads/gup_" + long,
	} {
		r := h.do("GET", p, tok, nil)
		if r.Status != 404 && r.Status != 400 {
			t.Fatalf("%.60s…: %d %.200s", p, r.Status, r.Body)
		}
		msg := errorOf(t, r)["message"].(string)
		if len(msg) > 300 || strings.Contains(msg, long[:200]) {
			t.Errorf("%.60s…: message of %d bytes echoes the input: %.120q", p, len(msg), msg)
		}
	}
	for _, p := range []string{"/v1/api-keys/key_" + long, "/v1/projects/prj_" + long} {
		if r := h.do("DELETE", p, tok, nil); r.Status != 404 || len(errorOf(t, r)["message"].(string)) > 300 {
			t.Errorf("DELETE %.40s…: %d, message of %d bytes", p, r.Status, len(r.Body))
		}
	}
}

// Names reject control and bidirectional/invisible formatting characters
// with validation_failed naming the field; display names are capped.
func TestNamesRefuseInvisibleCharacters(t *testing.T) {
	h, root := rootHarness(t)
	pid := h.project(root, "names")
	userID := h.do("POST", "/v1/users", root, map[string]any{"email": "named@example.com", "password": "correct horse battery"}).JSON(t)["id"].(string)
	wantField := func(what string, r response, field string) {
		t.Helper()
		if r.Status != 400 || r.ErrCode(t) != "validation_failed" {
			t.Fatalf("%s: %d %s", what, r.Status, r.Body)
		}
		if d := errorOf(t, r)["details"].(map[string]any); d[field] == nil {
			t.Fatalf("%s: details %v do not name %q", what, d, field)
		}
	}
	for label, bad := range map[string]string{
		"right-to-left override": "invoice\u202Egpj.exe",
		"left-to-right isolate":  "a\u2066b\u2069",
		"escape sequence":        "a\x1b[2Jb",
		"newline":                "a\nb",
		"zero-width space":       "ad\u200Bmin",
	} {
		wantField(label+" project", h.do("POST", "/v1/projects", root, map[string]string{"name": bad}), "name")
		wantField(label+" project rename", h.do("PUT", "/v1/projects/"+pid, root, map[string]string{"name": bad}), "name")
		wantField(label+" git repository", h.do("POST", "/v1/projects/"+pid+"/repositories", root, map[string]string{"name": bad, "git_url": "https://example.com/a.git"}), "name")
		wantField(label+" uploaded repository", h.upload(root, "/v1/projects/"+pid+"/repositories", bad, zipOf(t, map[string]string{"a.txt": "a"})), "name")
		wantField(label+" push remote", h.do("POST", "/v1/git-uploads", root, map[string]string{"project_id": pid, "repository_name": bad}), "repository_name")
		wantField(label+" API key", h.do("POST", "/v1/api-keys", root, map[string]string{"name": bad}), "name")
		wantField(label+" new user", h.do("POST", "/v1/users", root, map[string]any{"email": "x@example.com", "password": "correct horse battery", "display_name": bad}), "display_name")
		wantField(label+" display name", h.do("PATCH", "/v1/users/"+userID, root, map[string]any{"display_name": bad}), "display_name")
	}
	wantField("bidi in a description", h.do("PUT", "/v1/projects/"+pid, root, map[string]string{"description": "fine\n\u202Eevil"}), "description")
	if left := h.stagedFiles(); len(left) != 0 {
		t.Fatalf("refused uploads left %v", left)
	}

	wantField("101-character display name", h.do("PATCH", "/v1/users/"+userID, root, map[string]any{"display_name": strings.Repeat("d", 101)}), "display_name")
	if r := h.do("PATCH", "/v1/users/"+userID, root, map[string]any{"display_name": strings.Repeat("d", 100)}); r.Status != 200 {
		t.Fatalf("100-character display name: %d %s", r.Status, r.Body)
	}
	// Every script, emoji sequences and line breaks in descriptions stay welcome.
	for _, name := range []string{"Ünïcödé 名前", "می\u200cخواهم", "team 👩\u200d💻"} {
		if r := h.do("POST", "/v1/projects", root, map[string]string{"name": name, "description": "line one\nline two"}); r.Status != 201 || r.JSON(t)["name"] != name {
			t.Fatalf("%q: %d %s", name, r.Status, r.Body)
		}
	}
}

// quotaError checks a 429 quota_exceeded with details {limit, current}.
func quotaError(t *testing.T, what string, r response, limit, current float64) {
	t.Helper()
	if r.Status != 429 || r.ErrCode(t) != "quota_exceeded" {
		t.Fatalf("%s: %d %s", what, r.Status, r.Body)
	}
	if d := errorOf(t, r)["details"].(map[string]any); d["limit"] != limit || d["current"] != current {
		t.Fatalf("%s: details %v, want limit %v current %v", what, d, limit, current)
	}
}

func TestProjectAndRepositoryQuotas(t *testing.T) {
	h := newHarness(t, map[string]string{"VEGA_MAX_PROJECTS_PER_USER": "2", "VEGA_MAX_REPOSITORIES_PER_USER": "1"})
	root := h.debugToken()
	other := h.newUser(root, "other@example.com")
	first := h.project(root, "one")
	h.project(root, "two")
	quotaError(t, "third project", h.do("POST", "/v1/projects", root, map[string]string{"name": "three"}), 2, 2)
	h.project(other, "someone else's") // the cap is per user

	r := h.do("POST", "/v1/projects/"+first+"/repositories", root, map[string]string{"git_url": "http://127.0.0.1:9/a.git"})
	if r.Status != 201 {
		t.Fatalf("first repository: %d %s", r.Status, r.Body)
	}
	quotaError(t, "second repository", h.do("POST", "/v1/projects/"+first+"/repositories", root, map[string]string{"git_url": "http://127.0.0.1:9/b.git"}), 1, 1)
	quotaError(t, "second repository by upload", h.upload(root, "/v1/projects/"+first+"/repositories", "up", zipOf(t, map[string]string{"a.txt": "a"})), 1, 1)
	if left := h.stagedFiles(); len(left) != 0 {
		t.Fatalf("an upload over the repository quota was staged: %v", left)
	}
	quotaError(t, "second repository by push", h.do("POST", "/v1/git-uploads", root, map[string]string{"project_id": first, "repository_name": "pushed"}), 1, 1)

	limits := h.do("GET", "/v1/ops/limits", root, nil).JSON(t)
	perUser, usage := limits["per_user"].(map[string]any), limits["usage"].(map[string]any)
	if perUser["max_projects"] != float64(2) || perUser["max_repositories"] != float64(1) || perUser["max_stored_bytes"] != float64(50<<30) {
		t.Fatalf("per-user limits: %v", perUser)
	}
	if usage["projects"] != float64(2) || usage["repositories"] != float64(1) {
		t.Fatalf("usage: %v", usage)
	}

	// Deleting gives the room back.
	if r := h.do("DELETE", "/v1/projects/"+first, root, nil); r.Status != 204 {
		t.Fatalf("delete: %d", r.Status)
	}
	second := h.project(root, "three")
	if r := h.do("POST", "/v1/projects/"+second+"/repositories", root, map[string]string{"git_url": "http://127.0.0.1:9/c.git"}); r.Status != 201 {
		t.Fatalf("repository after a delete: %d %s", r.Status, r.Body)
	}
}

// manyFilesZip is an archive whose snapshot (zip plus a manifest line per
// file) is much larger than the upload: what the last check, once the real
// size is known, exists for.
func manyFilesZip(t *testing.T, dir string) []byte {
	files := map[string]string{}
	for i := range 400 {
		files[fmt.Sprintf("f%03d.txt", i)] = "x"
	}
	srctree.WriteFiles(t, dir, files)
	return zipOf(t, files)
}

func TestStoredBytesQuota(t *testing.T) {
	// Size the cap between the upload and the snapshot it makes, measured the
	// way an ingest builds it.
	src := t.TempDir()
	archive := manyFilesZip(t, src)
	probe, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	snap := &store.Snapshot{ID: "snap_probe", RepositoryID: "repo_probe"}
	if err := ingest.BuildSnapshot(t.Context(), src, probe, snap); err != nil {
		t.Fatal(err)
	}
	if snap.StoredBytes <= int64(len(archive)) {
		t.Fatalf("the probe snapshot (%d B) is not larger than its upload (%d B)", snap.StoredBytes, len(archive))
	}
	limit := (snap.StoredBytes + int64(len(archive))) / 2
	h := newHarness(t, map[string]string{"VEGA_MAX_STORED_BYTES_PER_USER": strconv.FormatInt(limit, 10)})
	root := h.debugToken()
	pid := h.project(root, "bytes")
	usage := func() map[string]any {
		return h.do("GET", "/v1/ops/limits", root, nil).JSON(t)["usage"].(map[string]any)
	}

	// 1. The upload fits what is left, the snapshot it makes does not: the
	// ingest fails with quota_exceeded and keeps nothing.
	r := h.upload(root, "/v1/projects/"+pid+"/repositories", "many", archive)
	if r.Status != 201 {
		t.Fatalf("upload within the quota: %d %s", r.Status, r.Body)
	}
	big := r.JSON(t)["id"].(string)
	done := h.waitIngest(root, big)
	if ie, _ := done["ingest_error"].(map[string]any); done["ingest_status"] != "failed" || ie["code"] != "quota_exceeded" {
		t.Fatalf("a snapshot over the quota was kept: %v", done)
	}
	if left, _ := h.env.Blobs.List(t.Context(), "snapshots/"+big+"/"); len(left) != 0 {
		t.Fatalf("the refused snapshot left blobs: %v", left)
	}
	if u := usage(); u["stored_bytes"] != float64(0) {
		t.Fatalf("usage after a refused snapshot: %v", u)
	}

	// 2. A small repository fits and counts.
	small := h.upload(root, "/v1/projects/"+pid+"/repositories", "small", zipOf(t, map[string]string{"a.txt": "a"})).JSON(t)["id"].(string)
	if done := h.waitIngest(root, small); done["ingest_status"] != "ready" {
		t.Fatalf("small repository: %v", done)
	}
	snaps := h.do("GET", "/v1/repositories/"+small+"/snapshots", root, nil).JSON(t)["items"].([]any)
	used := snaps[0].(map[string]any)["stored_bytes"].(float64)
	if used <= 0 || usage()["stored_bytes"] != used {
		t.Fatalf("stored bytes %v, usage %v", used, usage())
	}

	// 3. An upload larger than what is left is cut off while it streams.
	noise := make([]byte, limit)
	rand.Read(noise)
	quotaError(t, "upload over the room left", h.upload(root, "/v1/projects/"+pid+"/repositories", "noise", noise), float64(limit), used)
	if left := h.stagedFiles(); len(left) != 0 {
		t.Fatalf("the cut-off upload was kept: %v", left)
	}

	// 4. Once the quota is used up, every way to add source is refused up front.
	me := h.do("GET", "/v1/auth/me", root, nil).JSON(t)["id"].(string)
	filler := &store.Snapshot{ID: store.NewID(store.PrefixSnapshot), RepositoryID: small, OwnerUserID: me, StoredBytes: limit, CreatedAt: time.Now().UTC()}
	if err := h.env.Store.CreateSnapshot(t.Context(), filler); err != nil {
		t.Fatal(err)
	}
	full := used + float64(limit)
	quotaError(t, "git repository when full", h.do("POST", "/v1/projects/"+pid+"/repositories", root, map[string]string{"git_url": "http://127.0.0.1:9/x.git"}), float64(limit), full)
	quotaError(t, "upload when full", h.upload(root, "/v1/projects/"+pid+"/repositories", "late", zipOf(t, map[string]string{"a.txt": "a"})), float64(limit), full)
	quotaError(t, "re-ingest when full", h.upload(root, "/v1/repositories/"+small+"/ingest", "", zipOf(t, map[string]string{"a.txt": "b"})), float64(limit), full)
	quotaError(t, "push remote when full", h.do("POST", "/v1/git-uploads", root, map[string]string{"project_id": pid, "repository_name": "p"}), float64(limit), full)
	if left := h.stagedFiles(); len(left) != 0 {
		t.Fatalf("uploads refused for the quota were staged: %v", left)
	}
	if u := usage(); u["stored_bytes"] != full {
		t.Fatalf("usage when full: %v", u)
	}
}
