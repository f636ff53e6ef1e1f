package ingest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/apperr"
)

// testLimits are small so bombs and caps are cheap to build.
var testLimits = Limits{MaxSourceBytes: 8 << 20, MaxEntries: 100, MaxFileBytes: 1 << 20, MaxTotalBytes: 4 << 20}

type hostileCase struct {
	name    string
	archive func(tb testing.TB) []byte
	lim     *Limits // nil: testLimits
	reason  string  // "" means extraction succeeds
	files   map[string]string
	skipped [3]int // symlinks, special, ignored
}

var zeros2MB = make([]byte, 2<<20)
var zeros600K = make([]byte, 600<<10)

func hostileCases() []hostileCase {
	z := func(es ...zipEntry) func(testing.TB) []byte {
		return func(tb testing.TB) []byte { return buildZip(tb, es...) }
	}
	t := func(es ...tarEntry) func(testing.TB) []byte {
		return func(tb testing.TB) []byte { return buildTar(tb, es...) }
	}
	tgz := func(es ...tarEntry) func(testing.TB) []byte {
		return func(tb testing.TB) []byte { return gz(tb, buildTar(tb, es...)) }
	}
	file := func(name, body string) zipEntry { return zipEntry{name: name, body: []byte(body), method: zip.Deflate} }
	tfile := func(name, body string) tarEntry { return tarEntry{name: name, body: []byte(body)} }
	defaults := DefaultLimits()
	bombTotal := make([]zipEntry, 8)
	for i := range bombTotal {
		bombTotal[i] = zipEntry{name: "bomb/part" + string(rune('a'+i)), body: zeros600K, method: zip.Deflate}
	}
	return []hostileCase{
		{name: "zip_ok_wrapper_stripped", archive: z(file("proj/", ""), file("proj/a.txt", "A"), file("proj/src/b.go", "package b")),
			files: map[string]string{"a.txt": "A", "src/b.go": "package b"}},
		{name: "tgz_ok_dot_slash", archive: tgz(tarEntry{name: "./", typeflag: tar.TypeDir}, tfile("./x.py", "x"), tfile("./y/z.js", "z")),
			files: map[string]string{"x.py": "x", "y/z.js": "z"}},
		{name: "tgz_git_archive_global_header", archive: tgz(tarEntry{name: "pax_global_header", typeflag: tar.TypeXGlobalHeader, linkname: "0123abcd"},
			tarEntry{name: "repo-0123abcd/", typeflag: tar.TypeDir}, tfile("repo-0123abcd/main.c", "int main;")),
			files: map[string]string{"main.c": "int main;"}},
		{name: "tar_zst_ok", archive: func(tb testing.TB) []byte { return zst(tb, buildTar(tb, tfile("r/m.rs", "fn main(){}"))) },
			files: map[string]string{"m.rs": "fn main(){}"}},
		{name: "zip_macosx_ignored", archive: z(file("p/a", "1"), file("__MACOSX/p/._a", "junk")),
			files: map[string]string{"a": "1"}, skipped: [3]int{0, 0, 1}},
		{name: "zip_dotdot", archive: z(file("../evil.txt", "x")), reason: ReasonPathTraversal},
		{name: "zip_dotdot_nested", archive: z(file("a/../../evil.txt", "x")), reason: ReasonPathTraversal},
		{name: "zip_absolute", archive: z(file("/etc/evil", "x")), reason: ReasonAbsolutePath},
		{name: "zip_drive_letter", archive: z(file("C:/evil", "x")), reason: ReasonAbsolutePath},
		{name: "zip_backslash", archive: z(file("a\\..\\..\\evil", "x")), reason: ReasonPathTraversal},
		{name: "zip_percent_encoded", archive: z(file("%2e%2e/evil", "x")), reason: ReasonPathTraversal},
		{name: "zip_percent_slash", archive: z(file("..%2Fevil", "x")), reason: ReasonPathTraversal},
		{name: "zip_nul_name", archive: z(file("safe.txt\x00../../evil", "x")), reason: ReasonPathTraversal},
		{name: "zip_invalid_utf8", archive: z(file("bad\xff\xfe.txt", "x")), reason: ReasonCorrupt},
		{name: "zip_control_char", archive: z(file("bad\nname", "x")), reason: ReasonCorrupt},
		{name: "tar_dotdot", archive: t(tfile("../../evil", "x")), reason: ReasonPathTraversal},
		{name: "tar_absolute", archive: t(tfile("/tmp/evil", "x")), reason: ReasonAbsolutePath},
		{name: "tar_invalid_utf8", archive: t(tfile("x/\xc3\x28", "x")), reason: ReasonCorrupt},
		{name: "zip_duplicate", archive: z(file("a.txt", "1"), file("a.txt", "2")), reason: ReasonDuplicateEntry},
		{name: "zip_duplicate_after_clean", archive: z(file("a/./b", "1"), file("a//b", "2")), reason: ReasonDuplicateEntry},
		{name: "zip_file_and_dir", archive: z(file("a", "1"), file("a/b", "2")), reason: ReasonDuplicateEntry},
		{name: "zip_dir_then_file", archive: z(file("a/b", "2"), file("a", "1")), reason: ReasonDuplicateEntry},
		{name: "zip_case_variants_kept", archive: z(file("README", "1"), file("readme", "2")),
			files: map[string]string{"README": "1", "readme": "2"}},
		{name: "tgz_duplicate", archive: tgz(tfile("a", "1"), tfile("a", "2")), reason: ReasonDuplicateEntry},
		{name: "zip_bomb_one_file", archive: z(zipEntry{name: "bomb", body: zeros2MB, method: zip.Deflate}), reason: ReasonFileTooLarge},
		{name: "zip_bomb_lying_header", archive: z(zipEntry{name: "bomb", body: zeros2MB, rawSize: 100}), reason: ReasonCorrupt},
		{name: "zip_bomb_total", archive: z(bombTotal...), reason: ReasonUncompressedTooLarge},
		{name: "tgz_bomb_one_file", archive: tgz(tarEntry{name: "bomb", body: zeros2MB}), reason: ReasonFileTooLarge},
		{name: "zip_50001_entries", lim: &defaults, archive: func(tb testing.TB) []byte { return manyZipEntries(tb, 50001) }, reason: ReasonTooManyEntries},
		{name: "zip_over_entry_cap", archive: func(tb testing.TB) []byte { return manyZipEntries(tb, 101) }, reason: ReasonTooManyEntries},
		{name: "zip_headers_past_declared_count", archive: func(tb testing.TB) []byte {
			// The end record claims 1 entry; the directory holds 150 headers.
			b := manyZipEntries(tb, 150)
			eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
			b[eocd+8], b[eocd+9], b[eocd+10], b[eocd+11] = 1, 0, 1, 0
			return b
		}, reason: ReasonTooManyEntries},
		{name: "tgz_over_entry_cap", archive: func(tb testing.TB) []byte {
			es := make([]tarEntry, 101)
			for i := range es {
				es[i] = tarEntry{name: fmt.Sprintf("p/f%d", i)}
			}
			return gz(tb, buildTar(tb, es...))
		}, reason: ReasonTooManyEntries},
		{name: "zip_file_over_cap", archive: z(zipEntry{name: "big.bin", body: bytes.Repeat([]byte("abcdefgh"), 140<<10), method: zip.Store}), reason: ReasonFileTooLarge},
		{name: "zip_source_too_large", lim: &Limits{MaxSourceBytes: 10}, archive: z(file("a", "1")), reason: ReasonTooLarge},
		{name: "zip_truncated", archive: func(tb testing.TB) []byte { b := buildZip(tb, file("a", "hello world")); return b[:len(b)/2] }, reason: ReasonCorrupt},
		{name: "zip_bad_crc", archive: func(tb testing.TB) []byte {
			b := buildZip(tb, zipEntry{name: "a", body: []byte("hello world"), method: zip.Store})
			i := bytes.Index(b, []byte("hello"))
			b[i] = 'j'
			return b
		}, reason: ReasonCorrupt},
		{name: "tgz_truncated", archive: func(tb testing.TB) []byte {
			b := gz(tb, buildTar(tb, tarEntry{name: "a", body: bytes.Repeat([]byte("xyz"), 10000)}))
			return b[:len(b)-40]
		}, reason: ReasonCorrupt},
		{name: "tar_truncated", archive: func(tb testing.TB) []byte {
			b := buildTar(tb, tarEntry{name: "a", body: bytes.Repeat([]byte("xyz"), 10000)})
			return b[:2048]
		}, reason: ReasonCorrupt},
		{name: "zip_symlink_out_of_tree", archive: z(zipEntry{name: "link", body: []byte("../../../etc/passwd"), mode: 0o120777}, file("ok.txt", "ok")),
			files: map[string]string{"ok.txt": "ok"}, skipped: [3]int{1, 0, 0}},
		{name: "tar_symlink_out_of_tree", archive: t(tarEntry{name: "link", typeflag: tar.TypeSymlink, linkname: "/etc"}, tfile("ok.txt", "ok")),
			files: map[string]string{"ok.txt": "ok"}, skipped: [3]int{1, 0, 0}},
		{name: "tar_write_through_symlink", archive: t(tarEntry{name: "link", typeflag: tar.TypeSymlink, linkname: "/etc"}, tfile("link/passwd", "x")),
			reason: ReasonDuplicateEntry},
		{name: "tar_hardlink", archive: t(tfile("a", "1"), tarEntry{name: "b", typeflag: tar.TypeLink, linkname: "/etc/shadow"}),
			files: map[string]string{"a": "1"}, skipped: [3]int{1, 0, 0}},
		{name: "tar_devices", archive: t(tarEntry{name: "null", typeflag: tar.TypeChar}, tarEntry{name: "sda", typeflag: tar.TypeBlock},
			tarEntry{name: "fifo", typeflag: tar.TypeFifo}, tfile("ok", "ok")),
			files: map[string]string{"ok": "ok"}, skipped: [3]int{0, 3, 0}},
		{name: "zip_device_mode", archive: z(zipEntry{name: "dev", mode: 0o020644}, file("ok", "ok")),
			files: map[string]string{"ok": "ok"}, skipped: [3]int{0, 1, 0}},
		{name: "not_an_archive", archive: func(testing.TB) []byte { return []byte("#!/bin/sh\nrm -rf /\n") }, reason: ReasonUnsupportedFormat},
		{name: "gzip_not_tar", archive: func(tb testing.TB) []byte { return gz(tb, bytes.Repeat([]byte("plain text "), 100)) }, reason: ReasonUnsupportedFormat},
		{name: "bzip2_magic", archive: func(testing.TB) []byte { return []byte("BZh91AY&SY" + strings.Repeat("\x00", 600)) }, reason: ReasonUnsupportedFormat},
		{name: "zip_encrypted", archive: func(tb testing.TB) []byte {
			b := buildZip(tb, zipEntry{name: "a", body: []byte("secret"), method: zip.Store})
			for _, sig := range [][]byte{[]byte("PK\x03\x04"), []byte("PK\x01\x02")} {
				i := bytes.Index(b, sig)
				off := 6
				if sig[2] == 1 {
					off = 8
				}
				b[i+off] |= 1
			}
			return b
		}, reason: ReasonUnsupportedFormat},
	}
}

// snapshotTree returns every path under dir (relative, slash) with "/" after
// directories, so a test can compare a parent directory before and after.
func snapshotTree(tb testing.TB, dir string) []string {
	tb.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out
}

func archiveReason(err error) string {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.ArchiveRejected {
		return ""
	}
	r, _ := ae.Details["reason"].(string)
	return r
}

func TestExtractArchiveHostile(t *testing.T) {
	for _, tc := range hostileCases() {
		t.Run(tc.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "upload.bin")
			if err := os.WriteFile(src, tc.archive(t), 0o600); err != nil {
				t.Fatal(err)
			}
			parent := t.TempDir()
			dest := filepath.Join(parent, "out")
			lim := testLimits
			if tc.lim != nil {
				lim = *tc.lim
			}
			ex, err := ExtractArchive(context.Background(), src, dest, lim)
			after := snapshotTree(t, parent)
			if tc.reason != "" {
				if got := archiveReason(err); got != tc.reason {
					t.Fatalf("want archive_rejected/%s, got %v", tc.reason, err)
				}
				if len(after) != 0 {
					t.Fatalf("rejected archive left files behind: %v", after)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var want []string
			for name := range tc.files {
				want = append(want, "out/"+name)
				for d := parentOf(name); d != ""; d = parentOf(d) {
					want = append(want, "out/"+d+"/")
				}
			}
			want = append(want, "out/")
			want = dedupSorted(want)
			if strings.Join(after, "\n") != strings.Join(want, "\n") {
				t.Fatalf("tree:\n got %v\nwant %v", after, want)
			}
			for name, body := range tc.files {
				got, err := os.ReadFile(filepath.Join(dest, name))
				if err != nil || string(got) != body {
					t.Fatalf("%s: got %q, %v; want %q", name, got, err, body)
				}
			}
			if ex.Files != len(tc.files) {
				t.Errorf("Files = %d, want %d", ex.Files, len(tc.files))
			}
			if got := [3]int{ex.Skipped.Symlinks, ex.Skipped.Special, ex.Skipped.Ignored}; got != tc.skipped {
				t.Errorf("skipped (symlinks, special, ignored) = %v, want %v", got, tc.skipped)
			}
		})
	}
}

func dedupSorted(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func TestExtractArchiveExistingDestLeftEmptyOnFailure(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a.zip")
	os.WriteFile(src, buildZip(t, zipEntry{name: "ok/a", body: []byte("x")}, zipEntry{name: "ok/b", body: zeros2MB, method: zip.Deflate}), 0o600)
	dest := t.TempDir()
	_, err := ExtractArchive(context.Background(), src, dest, testLimits)
	if archiveReason(err) != ReasonFileTooLarge {
		t.Fatalf("got %v", err)
	}
	if left := snapshotTree(t, dest); len(left) != 0 {
		t.Fatalf("destination not emptied: %v", left)
	}
}

func TestExtractArchiveRefusesNonEmptyDest(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a.zip")
	os.WriteFile(src, buildZip(t, zipEntry{name: "a", body: []byte("x")}), 0o600)
	dest := t.TempDir()
	os.WriteFile(filepath.Join(dest, "keep"), []byte("mine"), 0o600)
	if _, err := ExtractArchive(context.Background(), src, dest, testLimits); err == nil {
		t.Fatal("extracting into a non-empty directory must fail")
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "keep")); string(got) != "mine" {
		t.Fatal("existing content was touched")
	}
}

func TestExtractArchiveCancelled(t *testing.T) {
	src := filepath.Join(t.TempDir(), "a.zip")
	os.WriteFile(src, buildZip(t, zipEntry{name: "a", body: []byte("x")}), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	parent := t.TempDir()
	_, err := ExtractArchive(ctx, src, filepath.Join(parent, "out"), testLimits)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if left := snapshotTree(t, parent); len(left) != 0 {
		t.Fatalf("cancelled extraction left %v", left)
	}
}

func TestCleanEntryName(t *testing.T) {
	ok := map[string]string{"a/b": "a/b", "./a//b/": "a/b", "a/./b": "a/b", "50%off.txt": "50%off.txt", "./": "", "ünï/cødé.go": "ünï/cødé.go"}
	for in, want := range ok {
		if got, err := cleanEntryName(in); err != nil || got != want {
			t.Errorf("cleanEntryName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{"..": ReasonPathTraversal, "a/..": ReasonPathTraversal, "//server/share": ReasonAbsolutePath,
		"c:\\x": ReasonPathTraversal, "d:x": ReasonAbsolutePath, "%5c": ReasonPathTraversal, "x%00": ReasonPathTraversal,
		"": ReasonCorrupt, strings.Repeat("a", 256): ReasonCorrupt, "a\x7f": ReasonCorrupt}
	for in, want := range bad {
		if _, err := cleanEntryName(in); archiveReason(err) != want {
			t.Errorf("cleanEntryName(%q) = %v; want %s", in, err, want)
		}
	}
}

func TestCopyLimited(t *testing.T) {
	var dst bytes.Buffer
	if n, err := CopyLimited(&dst, strings.NewReader("12345"), 5); err != nil || n != 5 || dst.String() != "12345" {
		t.Fatalf("at the cap: %d %v %q", n, err, dst.String())
	}
	dst.Reset()
	_, err := CopyLimited(&dst, strings.NewReader("123456"), 5)
	if !apperr.IsCode(err, apperr.PayloadTooLarge) {
		t.Fatalf("past the cap: %v", err)
	}
	if int64(dst.Len()) > 6 {
		t.Fatalf("copied %d bytes past a 5 byte cap", dst.Len())
	}
}
