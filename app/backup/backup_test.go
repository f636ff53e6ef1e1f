package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/bolt"
)

type fixture struct {
	dir   string
	store *bolt.Store
	blobs *blob.Local
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blob.NewLocal(filepath.Join(dir, BlobsDir))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.CreateUser(ctx, &store.User{ID: "usr_1", Email: "a@example.com", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	for key, body := range map[string]string{"snapshots/rep_1/snp_1.zip": "zip bytes", "scans/scn_1/report.json": `{"ok":true}`} {
		if _, err := blobs.Put(ctx, key, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	// A partial write of a Put that never finished is not part of a backup.
	os.WriteFile(filepath.Join(dir, BlobsDir, "scans", "scn_1", ".tmp-123"), []byte("partial"), 0o600)
	os.MkdirAll(filepath.Join(dir, SecretsDir), 0o700)
	os.WriteFile(filepath.Join(dir, SecretsDir, "auth_secret"), []byte(strings.Repeat("s", 40)), 0o600)
	return &fixture{dir: dir, store: st, blobs: blobs}
}

func (f *fixture) archive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Write(context.Background(), &buf, Source{Store: f.store, Blobs: f.blobs, SecretsDir: filepath.Join(f.dir, SecretsDir), Version: "test"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTripRestoresStoreBlobsAndSecrets(t *testing.T) {
	f := newFixture(t)
	raw := f.archive(t)
	dest := t.TempDir()
	os.WriteFile(filepath.Join(dest, DBName), []byte("old store"), 0o600) // not a bolt file: set aside, not refused
	res, err := Restore(context.Background(), bytes.NewReader(raw), dest)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.Blobs != 2 || len(res.Manifest.Files) != 4 {
		t.Fatalf("manifest: %+v", res.Manifest)
	}
	if b, _ := os.ReadFile(filepath.Join(res.PreviousDir, DBName)); string(b) != "old store" {
		t.Fatalf("previous store not kept aside in %q: %q", res.PreviousDir, b)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, BlobsDir, "scans", "scn_1", "report.json")); string(b) != `{"ok":true}` {
		t.Fatalf("artifact: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dest, BlobsDir, "scans", "scn_1", ".tmp-123")); !os.IsNotExist(err) {
		t.Fatalf("a partial write was backed up: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, SecretsDir, "auth_secret")); len(b) != 40 {
		t.Fatalf("secret: %q", b)
	}
	st, err := bolt.Open(filepath.Join(dest, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u, err := st.GetUser(context.Background(), "usr_1"); err != nil || u.Email != "a@example.com" {
		t.Fatalf("restored user: %+v %v", u, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dest, ".restore-*")); len(left) != 0 {
		t.Fatalf("staging left behind: %v", left)
	}
}

func TestRestoreRefusesWhileTheStoreIsHeld(t *testing.T) {
	f := newFixture(t)
	raw := f.archive(t)
	_, err := Restore(context.Background(), bytes.NewReader(raw), f.dir) // f.store holds f.dir/vega.db
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "stop `vega serve` first") {
		t.Fatalf("got %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(f.dir, BlobsDir, "snapshots", "rep_1", "snp_1.zip")); string(b) != "zip bytes" {
		t.Fatal("the held data directory was changed")
	}
}

// Broken archives are refused before anything in the data directory moves.
func TestRestoreRefusesDamagedArchives(t *testing.T) {
	f := newFixture(t)
	raw := f.archive(t)
	plain := gunzip(t, raw)
	flipped := append([]byte(nil), plain...)
	flipped[bytes.Index(flipped, []byte("zip bytes"))] ^= 0xff // a snapshot's content
	cases := map[string]struct {
		archive []byte
		want    string
	}{
		"truncated":       {raw[:len(raw)/2], "truncated or corrupted"},
		"cut before EOF":  {raw[:len(raw)-12], "truncated or corrupted"},
		"not gzip":        {[]byte("hello"), "not a Vega backup"},
		"flipped byte":    {gzipBytes(t, flipped), "does not match its checksum"},
		"no manifest":     {rewrite(t, raw, func(h *tar.Header) bool { return h.Name != ManifestName }), "no manifest"},
		"missing blob":    {rewrite(t, raw, func(h *tar.Header) bool { return !strings.HasPrefix(h.Name, "blobs/scans") }), "manifest lists 4 files, the archive holds 3"},
		"empty":           {gzipBytes(t, nil), "no manifest"},
		"parent path":     {hostile(t, "blobs/../../../etc/evil", tar.TypeReg), "outside the backup's folders"},
		"dotdot entry":    {hostile(t, "../evil", tar.TypeReg), "outside the backup's folders"},
		"absolute path":   {hostile(t, "/tmp/evil", tar.TypeReg), "outside the backup's folders"},
		"secrets subdir":  {hostile(t, "secrets/a/b", tar.TypeReg), "outside the backup's folders"},
		"other folder":    {hostile(t, "bin/vega", tar.TypeReg), "outside the backup's folders"},
		"symlink":         {hostile(t, "blobs/snapshots/x", tar.TypeSymlink), "not a regular file"},
		"backslash":       {hostile(t, `blobs\..\..\evil`, tar.TypeReg), "outside the backup's folders"},
		"after manifest":  {appendEntry(t, raw, "blobs/scans/scn_9/x"), "after the manifest"},
		"store not bbolt": {replaceDB(t, raw, []byte("not a database")), "not a usable store"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dest := t.TempDir()
			os.WriteFile(filepath.Join(dest, "marker"), []byte("x"), 0o600)
			_, err := Restore(context.Background(), bytes.NewReader(c.archive), dest)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want ErrInvalid %q, got %v", c.want, err)
			}
			entries, _ := os.ReadDir(dest)
			if len(entries) != 1 || entries[0].Name() != "marker" {
				t.Fatalf("the data directory changed: %v", entries)
			}
			if _, err := os.Stat("/tmp/evil"); err == nil {
				t.Fatal("wrote outside the data directory")
			}
		})
	}
}

func TestWriteFileNeverOverwritesAndLeavesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "b.tgz")
	os.WriteFile(p, []byte("keep"), 0o600)
	if _, err := WriteFile(p, func(w *os.File) (*Manifest, error) { return &Manifest{}, nil }); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("overwrite: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "keep" {
		t.Fatal("existing file changed")
	}
	q := filepath.Join(dir, "c.tgz")
	if _, err := WriteFile(q, func(w *os.File) (*Manifest, error) { w.Write([]byte("half")); return nil, errors.New("boom") }); err == nil {
		t.Fatal("want error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("a failed backup left files: %v", entries)
	}
}

// A blob deletion that starts during a backup waits for it, so the archive
// holds every blob the store snapshot names.
func TestBackupHoldsBlobDeletions(t *testing.T) {
	f := newFixture(t)
	release := f.blobs.HoldDeletes()
	done := make(chan struct{})
	go func() {
		f.blobs.DeletePrefix(context.Background(), "scans/scn_1/")
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("a delete ran while deletions were held")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	<-done
	if _, err := f.blobs.Open(context.Background(), "scans/scn_1/report.json"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("delete did not run after release: %v", err)
	}
}

func gunzip(t *testing.T, raw []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gzipBytes(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

type entry struct {
	h    *tar.Header
	body []byte
}

func entries(t *testing.T, raw []byte) []entry {
	tr := tar.NewReader(bytes.NewReader(gunzip(t, raw)))
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out = append(out, entry{h, b})
	}
}

func pack(t *testing.T, es []entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range es {
		e.h.Size = int64(len(e.body))
		if err := tw.WriteHeader(e.h); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.body)
	}
	tw.Close()
	return gzipBytes(t, buf.Bytes())
}

func rewrite(t *testing.T, raw []byte, keep func(*tar.Header) bool) []byte {
	var out []entry
	for _, e := range entries(t, raw) {
		if keep(e.h) {
			out = append(out, e)
		}
	}
	return pack(t, out)
}

func hostile(t *testing.T, name string, typ byte) []byte {
	h := &tar.Header{Name: name, Typeflag: typ, Mode: 0o600}
	if typ == tar.TypeSymlink {
		h.Linkname = "/etc/passwd"
	}
	return pack(t, []entry{{h, nil}})
}

func appendEntry(t *testing.T, raw []byte, name string) []byte {
	return pack(t, append(entries(t, raw), entry{&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o600}, []byte("x")}))
}

// replaceDB swaps vega.db for other bytes and fixes the manifest to match,
// as a deliberately crafted archive would.
func replaceDB(t *testing.T, raw []byte, db []byte) []byte {
	var buf bytes.Buffer
	es := entries(t, raw)
	for i, e := range es {
		if e.h.Name == DBName {
			es[i].body = db
		}
	}
	w := &archiveWriter{tw: tar.NewWriter(&buf), now: time.Now()}
	m := &Manifest{Format: Format, Version: Version}
	for _, e := range es {
		if e.h.Name == ManifestName {
			continue
		}
		body := e.body
		w.add(e.h.Name, int64(len(body)), func(w io.Writer) error { _, err := w.Write(body); return err })
	}
	m.Files = w.files
	mb := mustJSON(t, m)
	w.add(ManifestName, int64(len(mb)), func(w io.Writer) error { _, err := w.Write(mb); return err })
	w.tw.Close()
	return gzipBytes(t, buf.Bytes())
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
