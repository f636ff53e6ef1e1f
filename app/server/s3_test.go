package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/store/blob/blobcache"
	"github.com/vegasec/vega/testutil/awsemu"
	"github.com/vegasec/vega/testutil/srctree"
)

// s3Harness is the emulator and the two buckets a harness keeps files in.
type s3Harness struct {
	emu               *awsemu.Emulator
	source, artifacts string
}

func newS3Harness(t testing.TB, vars map[string]string) *s3Harness {
	t.Helper()
	h := &s3Harness{emu: awsemu.Start(t), source: awsemu.Unique("vega-source"), artifacts: awsemu.Unique("vega-artifacts")}
	h.emu.CreateBucket(t, h.source)
	h.emu.CreateBucket(t, h.artifacts)
	vars["VEGA_FILE_STORAGE_BACKEND"] = "s3"
	vars["VEGA_S3_SOURCE_BUCKET"] = h.source
	vars["VEGA_S3_ARTIFACTS_BUCKET"] = h.artifacts
	vars["VEGA_S3_FORCE_PATH_STYLE"] = "true"
	vars["VEGA_AWS_ENDPOINT_URL"] = h.emu.URL
	return h
}

// s3App is the api role with files in S3 and its background work running.
func s3App(t testing.TB, extra map[string]string) *harness {
	env := map[string]string{"VEGA_FILE_STORAGE_BACKEND": "s3", "VEGA_SCAN_ENGINES": "secrets"}
	for k, v := range extra {
		env[k] = v
	}
	h := newHarness(t, env)
	h.runBackground()
	return h
}

// scanned uploads a repository with a leaked key, ingests and scans it.
func (h *harness) scanned(tok, project string) (repoID, scanID string) {
	h.t.Helper()
	repoID = h.ingestedRepo(tok, project, "app", map[string]string{
		"config.py":   "DEBUG = False\n" + srctree.AWSKeyLine(1) + "\n",
		"src/main.py": "print('hello')\n",
	})
	scanID = h.completedScan(tok, repoID, map[string]any{"engines": []string{"secrets"}})
	// Artifacts are stored after the scan ends (summary.json records how).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		s := h.do("GET", "/v1/scans/"+scanID, tok, nil).JSON(h.t)
		if arts, _ := s["artifacts"].([]any); len(arts) >= 4 {
			break
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("artifacts of %s were not recorded: %v", scanID, s["artifacts"])
		}
	}
	return repoID, scanID
}

// The whole path of a repository with its files in S3: upload, ingest,
// browse, scan, download an artifact, delete. Source code lands in the source
// bucket, artifacts in the artifacts bucket, everything encrypted, nothing on
// local disk but the snapshot cache; deleting the repository empties both.
func TestS3Runtime(t *testing.T) {
	h := s3App(t, nil)
	tok := h.debugToken()
	repoID, scanID := h.scanned(tok, "s3")

	if r := h.do("GET", "/v1/repositories/"+repoID+"/tree", tok, nil); r.Status != 200 || !strings.Contains(string(r.Body), "config.py") {
		t.Fatalf("tree: %d %s", r.Status, r.Body)
	}
	f := h.do("GET", "/v1/repositories/"+repoID+"/file?path=src/main.py", tok, nil)
	if f.Status != 200 || f.JSON(t)["content"] != "print('hello')\n" {
		t.Fatalf("file: %d %s", f.Status, f.Body)
	}
	if st := h.env.Blobs.(*blobcache.Cache).Stats(); st.Entries == 0 {
		t.Fatal("browsing did not go through the snapshot cache")
	}
	findings := h.do("GET", "/v1/scans/"+scanID+"/findings", tok, nil).JSON(t)["items"].([]any)
	if len(findings) != 1 {
		t.Fatalf("findings: %v", findings)
	}
	a := h.do("GET", "/v1/scans/"+scanID+"/artifacts/report.json", tok, nil)
	if a.Status != 200 || !strings.Contains(string(a.Body), "aws") || a.Header.Get("Content-Disposition") == "" {
		t.Fatalf("artifact download: %d %s", a.Status, a.Body)
	}

	src, art := h.aws.emu.Keys(t, h.aws.source), h.aws.emu.Keys(t, h.aws.artifacts)
	if len(src) != 2 || !strings.HasPrefix(src[0], "snapshots/"+repoID+"/") || !strings.HasPrefix(src[1], "snapshots/"+repoID+"/") {
		t.Fatalf("source bucket: %v (want the snapshot and its manifest; the staged upload is gone)", src)
	}
	if len(art) < 4 {
		t.Fatalf("artifacts bucket: %v", art)
	}
	client := h.aws.emu.S3(t)
	for bucket, keys := range map[string][]string{h.aws.source: src, h.aws.artifacts: art} {
		for _, k := range keys {
			if !strings.HasPrefix(k, "scans/"+scanID+"/") && bucket == h.aws.artifacts {
				t.Fatalf("unexpected artifact key %s", k)
			}
			head, err := client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
			if err != nil || head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
				t.Fatalf("%s/%s: %v encryption %q", bucket, k, err, head.ServerSideEncryption)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(h.env.Config.DataDir, "blobs")); err == nil {
		t.Fatal("files were written to the local blob directory")
	}

	if r := h.do("DELETE", "/v1/repositories/"+repoID, tok, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if src, art := h.aws.emu.Keys(t, h.aws.source), h.aws.emu.Keys(t, h.aws.artifacts); len(src)+len(art) != 0 {
		t.Fatalf("left after deleting the repository: %v %v", src, art)
	}
	// And a whole project.
	_, scan2 := h.scanned(tok, "s3-project")
	var pid string
	for _, p := range h.do("GET", "/v1/projects", tok, nil).JSON(t)["items"].([]any) {
		if p.(map[string]any)["name"] == "s3-project" {
			pid = p.(map[string]any)["id"].(string)
		}
	}
	if r := h.do("DELETE", "/v1/projects/"+pid, tok, nil); r.Status != 204 {
		t.Fatalf("delete project: %d %s", r.Status, r.Body)
	}
	if src, art := h.aws.emu.Keys(t, h.aws.source), h.aws.emu.Keys(t, h.aws.artifacts); len(src)+len(art) != 0 {
		t.Fatalf("left after deleting the project (scan %s): %v %v", scan2, src, art)
	}
}

// When S3 fails the API answers 503 `unavailable` (retryable) and says
// nothing about buckets, ARNs, credentials or the SDK; the log has them.
func TestS3FailuresAreUnavailableAndSayNothing(t *testing.T) {
	h := s3App(t, nil)
	tok := h.debugToken()
	_, scanID := h.scanned(tok, "s3-fail")
	emu := h.aws.emu
	leaks := []string{h.aws.source, h.aws.artifacts, "arn:", awsemu.AccessKey, awsemu.SecretKey, "AccessDenied", "s3://", "not authorized", "operation error"}
	check := func(what string, r response) {
		t.Helper()
		if r.Status != http.StatusServiceUnavailable || r.ErrCode(t) != "unavailable" || r.JSON(t)["error"].(map[string]any)["retryable"] != true {
			t.Fatalf("%s: %d %s", what, r.Status, r.Body)
		}
		for _, l := range leaks {
			if strings.Contains(string(r.Body), l) {
				t.Fatalf("%s: the answer shows %q: %s", what, l, r.Body)
			}
		}
	}

	remove := emu.Inject(t, awsemu.AccessDenied(awsemu.S3Object("", h.aws.artifacts, "")))
	check("artifact download", h.do("GET", "/v1/scans/"+scanID+"/artifacts/report.json", tok, nil))
	check("readyz", h.do("GET", "/v1/readyz", "", nil))
	remove()
	if r := h.do("GET", "/v1/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz after recovery: %d %s", r.Status, r.Body)
	}

	emu.Inject(t, awsemu.AccessDenied(awsemu.S3Object("", h.aws.source, "")))
	pid := h.project(tok, "denied")
	check("upload", h.upload(tok, "/v1/projects/"+pid+"/repositories", "x", zipOf(t, map[string]string{"a.txt": "a"})))
}

// Cleanup finds orphans by listing the buckets: objects whose rows are gone
// (left by a crash, or by another process) are deleted, live ones kept.
func TestS3CleanupListsTheBuckets(t *testing.T) {
	h := s3App(t, nil)
	tok := h.debugToken()
	repoID, scanID := h.scanned(tok, "keep")
	client := h.aws.emu.S3(t)
	orphans := map[string]string{
		"snapshots/repo_01J0000000000000000000000X/snap_01J0000000000000000000000X.zip": h.aws.source,
		"uploads/repo_01J0000000000000000000000Y.archive":                               h.aws.source,
		"scans/scan_01J0000000000000000000000X/report.json":                             h.aws.artifacts,
	}
	for k, b := range orphans {
		if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	res := h.do("POST", "/v1/ops/cleanup", tok, nil)
	if got := res.JSON(t); res.Status != 200 || got["orphaned_blobs"] != float64(2) || got["stale_uploads"] != float64(1) {
		t.Fatalf("cleanup: %d %s", res.Status, res.Body)
	}
	for _, k := range h.aws.emu.Keys(t, h.aws.source) {
		if !strings.HasPrefix(k, "snapshots/"+repoID+"/") {
			t.Fatalf("source bucket still holds %s", k)
		}
	}
	art := h.aws.emu.Keys(t, h.aws.artifacts)
	if len(art) == 0 {
		t.Fatal("cleanup removed the live scan's artifacts")
	}
	for _, k := range art {
		if !strings.HasPrefix(k, "scans/"+scanID+"/") {
			t.Fatalf("artifacts bucket still holds %s", k)
		}
	}
}

// A bucket that does not exist stops start-up with the variable naming it.
func TestS3MissingBucketStopsStartUp(t *testing.T) {
	vars := map[string]string{"VEGA_DATA_DIR": t.TempDir()}
	a := newS3Harness(t, vars)
	vars["VEGA_S3_ARTIFACTS_BUCKET"] = "vega-no-such-bucket"
	cfg := loadConfig(t, vars)
	_, err := Open(t.Context(), cfg, discardLog(), "test", WithAWS(a.emu.Options()))
	if err == nil || !strings.Contains(err.Error(), "VEGA_S3_ARTIFACTS_BUCKET: bucket vega-no-such-bucket does not exist") {
		t.Fatalf("got %v", err)
	}
}

// Start-up checks the buckets as far as the role may: a runner with least
// privilege (no s3:ListBucket) starts, an api that may not list refuses.
func TestS3StartUpCheckFollowsTheRole(t *testing.T) {
	vars := map[string]string{"VEGA_DATA_DIR": t.TempDir(), "VEGA_PERSISTENCE_BACKEND": "postgres",
		"VEGA_DATABASE_URL": "postgres://unused", "VEGA_AUTH_SECRET": strings.Repeat("a", 40)}
	a := newS3Harness(t, vars)
	a.emu.Inject(t, awsemu.AccessDenied(func(r *http.Request) bool {
		return awsemu.SigningName(r) == "s3" && r.Method == http.MethodHead && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0
	}))
	for _, role := range []string{config.RoleRunner, config.RoleAPI} {
		blobs, err := openBlobs(t.Context(), loadConfigAs(t, role, vars), discardLog(), a.emu.Options())
		if role == config.RoleRunner {
			if err != nil {
				t.Fatalf("runner: %v", err)
			}
			blobs.(io.Closer).Close()
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "VEGA_S3_SOURCE_BUCKET: this process may not use bucket "+a.source) {
			t.Fatalf("api: %v", err)
		}
	}
}
