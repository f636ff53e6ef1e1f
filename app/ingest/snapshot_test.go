package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"

	"github.com/vegasec/vega/testutil/srctree"
)

func newBlobs(tb testing.TB) *blob.Local {
	b, err := blob.NewLocal(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestBuildSnapshotAndRead(t *testing.T) {
	src := t.TempDir()
	big := strings.Repeat("line of go code\n", (inMemoryMax/16)+100) // streamed path
	srctree.WriteFiles(t, src, map[string]string{
		"main.go":               "package main\n",
		"web/app.ts":            "export const x = 1\n",
		"web/logo.png":          "\x89PNG\r\n\x1a\n\x00\x00binary",
		"docs/big.go":           big,
		"Dockerfile":            "FROM scratch\n",
		".vegaignore":           "node_modules/\n*.log\n!keep.log\n",
		"node_modules/x/i.js":   "ignored",
		"debug.log":             "ignored",
		"keep.log":              "kept",
		".git/config":           "[core]",
		"sub/.git/HEAD":         "ref",
		"utf8/ü.txt":            "héllo wörld",
		"weird/%2e%2e/name.txt": "odd name on disk",
	})
	os.Symlink("/etc/passwd", filepath.Join(src, "link"))
	syscall.Mkfifo(filepath.Join(src, "fifo"), 0o600)

	blobs := newBlobs(t)
	snap := &store.Snapshot{ID: "snap_1", RepositoryID: "repo_1", Skipped: store.SkippedCounts{Symlinks: 2}}
	if err := BuildSnapshot(context.Background(), src, blobs, snap); err != nil {
		t.Fatal(err)
	}
	if snap.StorageKey != blob.SnapshotKey("repo_1", "snap_1") || snap.ManifestKey != blob.ManifestKey("repo_1", "snap_1") {
		t.Fatalf("keys: %q %q", snap.StorageKey, snap.ManifestKey)
	}
	wantPaths := []string{".vegaignore", "Dockerfile", "docs/big.go", "keep.log", "main.go", "utf8/ü.txt", "web/app.ts", "web/logo.png"}
	if snap.FileCount != len(wantPaths) {
		t.Errorf("FileCount = %d, want %d", snap.FileCount, len(wantPaths))
	}
	// 2 from the caller + 1 link; 2 ignored (node_modules dir, debug.log); fifo and the encoded name are special.
	if want := (store.SkippedCounts{Symlinks: 3, Ignored: 2, Special: 2}); snap.Skipped != want {
		t.Errorf("Skipped = %+v, want %+v", snap.Skipped, want)
	}
	if snap.Languages["Go"] != int64(len(big))+int64(len("package main\n")) || snap.Languages["Dockerfile"] == 0 || snap.Languages["TypeScript"] == 0 {
		t.Errorf("Languages = %v", snap.Languages)
	}

	m, err := ReadManifest(context.Background(), blobs, snap)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var total int64
	for _, f := range m.Files {
		got = append(got, f.Path)
		total += f.Size
		if len(f.SHA256) != 64 {
			t.Errorf("%s: sha256 %q", f.Path, f.SHA256)
		}
	}
	if strings.Join(got, ",") != strings.Join(wantPaths, ",") {
		t.Fatalf("manifest paths %v, want %v", got, wantPaths)
	}
	if total != snap.TotalBytes || snap.ContentSHA256 != ContentSHA256(m.Files) {
		t.Errorf("totals disagree with manifest")
	}
	var stored int64
	for _, k := range []string{snap.StorageKey, snap.ManifestKey} {
		obj, err := blobs.Open(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		stored += obj.Size()
		obj.Close()
	}
	if snap.StoredBytes != stored || stored == 0 {
		t.Errorf("StoredBytes = %d, the blobs take %d", snap.StoredBytes, stored)
	}

	// The same content built again gives the same content hash.
	snap2 := &store.Snapshot{ID: "snap_2", RepositoryID: "repo_1"}
	if err := BuildSnapshot(context.Background(), src, blobs, snap2); err != nil {
		t.Fatal(err)
	}
	if snap2.ContentSHA256 != snap.ContentSHA256 {
		t.Error("content hash is not deterministic")
	}
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main // changed\n"), 0o644)
	snap3 := &store.Snapshot{ID: "snap_3", RepositoryID: "repo_1"}
	if err := BuildSnapshot(context.Background(), src, blobs, snap3); err != nil {
		t.Fatal(err)
	}
	if snap3.ContentSHA256 == snap.ContentSHA256 {
		t.Error("content hash ignores a content change")
	}

	ctx := context.Background()
	tree, err := ReadTree(ctx, blobs, snap, "/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range tree {
		names = append(names, e.Type+":"+e.Name)
	}
	if strings.Join(names, ",") != "dir:docs,dir:utf8,dir:web,file:.vegaignore,file:Dockerfile,file:keep.log,file:main.go" {
		t.Errorf("root tree = %v", names)
	}
	web, err := ReadTree(ctx, blobs, snap, "web/")
	if err != nil || len(web) != 2 || web[0].Path != "web/app.ts" || web[0].Size != int64(len("export const x = 1\n")) {
		t.Errorf("web tree = %+v, %v", web, err)
	}
	if _, err := ReadTree(ctx, blobs, snap, "nope"); !apperr.IsCode(err, apperr.NotFound) {
		t.Errorf("unknown dir: %v", err)
	}
	if _, err := ReadTree(ctx, blobs, snap, "web/../.."); !apperr.IsCode(err, apperr.BadRequest) {
		t.Errorf("traversal dir: %v", err)
	}

	f, err := ReadFile(ctx, blobs, snap, "/main.go", 1<<20)
	if err != nil || f.Content != "package main\n" || f.Truncated || f.Binary || f.Language != "Go" {
		t.Errorf("main.go = %+v, %v", f, err)
	}
	f, err = ReadFile(ctx, blobs, snap, "docs/big.go", 100)
	if err != nil || len(f.Content) != 100 || !f.Truncated || f.Size != int64(len(big)) {
		t.Errorf("big.go = size %d truncated %v len %d, %v", f.Size, f.Truncated, len(f.Content), err)
	}
	f, err = ReadFile(ctx, blobs, snap, "utf8/ü.txt", 2) // "hé" cut inside é
	if err != nil || f.Content != "h" || !f.Truncated || f.Binary {
		t.Errorf("utf8 cut = %+v, %v", f, err)
	}
	f, err = ReadFile(ctx, blobs, snap, "web/logo.png", 1<<20)
	if err != nil || !f.Binary || f.Content != "" {
		t.Errorf("png = %+v, %v", f, err)
	}
	for _, p := range []string{"../etc/passwd", "a\\b", "x\x00y", "web/../../x"} {
		if _, err := ReadFile(ctx, blobs, snap, p, 10); !apperr.IsCode(err, apperr.BadRequest) {
			t.Errorf("ReadFile(%q) = %v, want bad_request", p, err)
		}
	}
	for _, p := range []string{"missing.go", "web", "node_modules/x/i.js", "link"} {
		if _, err := ReadFile(ctx, blobs, snap, p, 10); !apperr.IsCode(err, apperr.NotFound) {
			t.Errorf("ReadFile(%q) = %v, want not_found", p, err)
		}
	}

	// Unpack round-trips every file byte for byte.
	parent := t.TempDir()
	dest := filepath.Join(parent, "work")
	if err := Unpack(ctx, blobs, snap, dest, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	for _, p := range wantPaths {
		want, _ := os.ReadFile(filepath.Join(src, filepath.FromSlash(p)))
		if p == "main.go" {
			want = []byte("package main\n")
		}
		got, err := os.ReadFile(filepath.Join(dest, filepath.FromSlash(p)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("unpacked %s differs: %v", p, err)
		}
	}
}

func TestUnpackKeepsSingleTopFolder(t *testing.T) {
	src := t.TempDir()
	srctree.WriteFiles(t, src, map[string]string{"src/only.go": "package only"})
	blobs := newBlobs(t)
	snap := &store.Snapshot{ID: "snap_1", RepositoryID: "repo_1"}
	if err := BuildSnapshot(context.Background(), src, blobs, snap); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "w")
	if err := Unpack(context.Background(), blobs, snap, dest, DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dest, "src", "only.go")); err != nil {
		t.Fatalf("snapshot paths must not be stripped on unpack: %v", err)
	}
}

func TestUnpackRejectsTamperedSnapshot(t *testing.T) {
	blobs := newBlobs(t)
	snap := &store.Snapshot{ID: "snap_1", RepositoryID: "repo_1", StorageKey: blob.SnapshotKey("repo_1", "snap_1")}
	blobs.Put(context.Background(), snap.StorageKey, bytes.NewReader(buildZip(t, zipEntry{name: "../../escape", body: []byte("x")})))
	parent := t.TempDir()
	err := Unpack(context.Background(), blobs, snap, filepath.Join(parent, "w"), DefaultLimits())
	if archiveReason(err) != ReasonPathTraversal {
		t.Fatalf("got %v", err)
	}
	if left := snapshotTree(t, parent); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
}

// failingManifest wraps the real local store and fails manifest writes, to
// check that a failed snapshot leaves nothing behind.
type failingManifest struct{ *blob.Local }

func (f failingManifest) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if strings.HasSuffix(key, ".manifest.json") {
		return 0, errors.New("disk full")
	}
	return f.Local.Put(ctx, key, r)
}

func TestBuildSnapshotFailureLeavesNothing(t *testing.T) {
	src := t.TempDir()
	srctree.WriteFiles(t, src, map[string]string{"a.go": "package a", "b/c.go": "package c"})
	local := newBlobs(t)
	snap := &store.Snapshot{ID: "snap_1", RepositoryID: "repo_1"}
	if err := BuildSnapshot(context.Background(), src, failingManifest{local}, snap); err == nil {
		t.Fatal("expected the manifest failure to surface")
	}
	if keys, _ := local.List(context.Background(), ""); len(keys) != 0 {
		t.Fatalf("blobs left behind: %v", keys)
	}
	if snap.StorageKey != "" || snap.FileCount != 0 {
		t.Fatalf("snapshot was filled on failure: %+v", snap)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := BuildSnapshot(ctx, src, local, snap); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if keys, _ := local.List(context.Background(), ""); len(keys) != 0 {
		t.Fatalf("blobs left behind after cancel: %v", keys)
	}
}

func TestExtractThenSnapshot(t *testing.T) {
	archive := filepath.Join(t.TempDir(), "up")
	os.WriteFile(archive, gz(t, buildTar(t,
		tarEntry{name: "repo-main/app.py", body: []byte("print(1)\n")},
		tarEntry{name: "repo-main/lib/util.py", body: []byte("x = 2\n")},
		tarEntry{name: "repo-main/evil", typeflag: '2', linkname: "/etc/passwd"},
	)), 0o600)
	dir := filepath.Join(t.TempDir(), "x")
	ex, err := ExtractArchive(context.Background(), archive, dir, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	snap := &store.Snapshot{ID: "snap_9", RepositoryID: "repo_9", Skipped: ex.Skipped}
	if err := BuildSnapshot(context.Background(), dir, newBlobs(t), snap); err != nil {
		t.Fatal(err)
	}
	if snap.FileCount != 2 || snap.Skipped.Symlinks != 1 || snap.Languages["Python"] != 15 {
		t.Fatalf("snapshot = %+v", snap)
	}
	var langs []string
	for l := range snap.Languages {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	if strings.Join(langs, ",") != "Python" {
		t.Fatalf("languages %v", langs)
	}
}

func TestBuildSnapshotOversizedAndMissing(t *testing.T) {
	src := t.TempDir()
	srctree.WriteFiles(t, src, map[string]string{"small.txt": "12345", "big.txt": "1234567890"})
	blobs := newBlobs(t)
	snap := &store.Snapshot{ID: "snap_1", RepositoryID: "repo_1"}
	if err := BuildSnapshotWithOptions(context.Background(), src, blobs, snap, SnapshotOptions{MaxFileBytes: 5}); err != nil {
		t.Fatal(err)
	}
	if snap.FileCount != 1 || snap.Skipped.Oversized != 1 || snap.TotalBytes != 5 {
		t.Fatalf("snapshot = %+v", snap)
	}
	gone := &store.Snapshot{ID: "snap_x", RepositoryID: "repo_1", StorageKey: blob.SnapshotKey("repo_1", "snap_x"), ManifestKey: blob.ManifestKey("repo_1", "snap_x")}
	if _, err := ReadManifest(context.Background(), blobs, gone); !apperr.IsCode(err, apperr.NotFound) {
		t.Errorf("ReadManifest of a missing blob: %v", err)
	}
	if _, err := ReadFile(context.Background(), blobs, gone, "a", 1); !apperr.IsCode(err, apperr.NotFound) {
		t.Errorf("ReadFile of a missing blob: %v", err)
	}
}
