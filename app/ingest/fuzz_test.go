package ingest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/apperr"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzExtractArchive from hostileCases")

const corpusDir = "testdata/fuzz/FuzzExtractArchive"

// corpusFile renders one seed in the `go test fuzz v1` file format.
func corpusFile(b []byte) []byte {
	return []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n")
}

// corpusSeeds are the hostile cases small enough to commit (the 50,001-entry
// zip is exercised by the table test instead; the fuzz limits make the
// 101-entry one hit the same check).
func corpusSeeds(tb testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, tc := range hostileCases() {
		b := tc.archive(tb)
		if len(b) > 64<<10 {
			continue
		}
		seeds[tc.name] = b
	}
	return seeds
}

// TestFuzzCorpus keeps the committed seed corpus equal to what the generator
// produces, so the seeds cannot silently drift from the documented cases.
func TestFuzzCorpus(t *testing.T) {
	seeds := corpusSeeds(t)
	if len(seeds) < 30 {
		t.Fatalf("only %d seeds are small enough to commit", len(seeds))
	}
	if *updateCorpus {
		os.RemoveAll(corpusDir)
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			if err := os.WriteFile(filepath.Join(corpusDir, name), corpusFile(b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range seeds {
		got, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil || !bytes.Equal(got, corpusFile(b)) {
			t.Errorf("seed %s is missing or stale (run with -update-corpus): %v", name, err)
		}
	}
}

// FuzzExtractArchive feeds arbitrary bytes as an upload. Whatever the input:
// no panic, any error is archive_rejected (never a raw internal error), a
// rejection leaves the parent directory empty, and a success leaves only
// regular files and directories inside the destination, within the limits.
func FuzzExtractArchive(f *testing.F) {
	for _, b := range corpusSeeds(f) {
		f.Add(b)
	}
	lim := Limits{MaxSourceBytes: 1 << 20, MaxEntries: 100, MaxFileBytes: 1 << 20, MaxTotalBytes: 2 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		work := t.TempDir()
		src := filepath.Join(work, "upload")
		if err := os.WriteFile(src, data, 0o600); err != nil {
			t.Fatal(err)
		}
		parent := filepath.Join(work, "parent")
		if err := os.Mkdir(parent, 0o700); err != nil {
			t.Fatal(err)
		}
		ex, err := ExtractArchive(context.Background(), src, filepath.Join(parent, "out"), lim)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.ArchiveRejected {
				t.Fatalf("hostile input produced a non-archive error: %v", err)
			}
			if left := snapshotTree(t, parent); len(left) != 0 {
				t.Fatalf("rejected archive left %v", left)
			}
			return
		}
		var files int
		var total int64
		err = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case p == parent:
			case d.IsDir():
			case d.Type().IsRegular():
				info, _ := d.Info()
				if info.Size() > lim.MaxFileBytes {
					return fmt.Errorf("%s exceeds the per-file cap", p)
				}
				files++
				total += info.Size()
			default:
				return fmt.Errorf("%s is a %v, not a regular file", p, d.Type())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files != ex.Files || total != ex.TotalBytes || total > lim.MaxTotalBytes {
			t.Fatalf("disk has %d files/%d bytes, Extracted says %d/%d", files, total, ex.Files, ex.TotalBytes)
		}
	})
}

// FuzzCleanRequestPath checks that whatever a client sends as a tree or file
// path, an accepted result stays inside the snapshot.
func FuzzCleanRequestPath(f *testing.F) {
	for _, s := range []string{"", "/", "a/b", "../x", "a/../../b", "a\\..\\b", "./a/./b/", "%2e%2e/x", "a\x00b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CleanRequestPath(in)
		if err != nil {
			if !apperr.IsCode(err, apperr.BadRequest) {
				t.Fatalf("non-typed error %v", err)
			}
			return
		}
		if strings.HasPrefix(out, "/") || strings.HasSuffix(out, "/") || strings.ContainsAny(out, "\\\x00") {
			t.Fatalf("%q -> %q", in, out)
		}
		for _, part := range strings.Split(out, "/") {
			if out != "" && (part == ".." || part == "." || part == "") {
				t.Fatalf("%q -> %q has component %q", in, out, part)
			}
		}
	})
}
