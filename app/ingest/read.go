package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// maxManifestBytes bounds what ReadManifest loads into memory (50,000 files
// at ~300 bytes each fit comfortably).
const maxManifestBytes = 64 << 20

// TreeEntry is one child of a directory in a snapshot.
type TreeEntry struct {
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"` // "file" or "dir"
	Size int64  `json:"size"` // bytes for files, 0 for directories
}

// File is the content of one snapshot file, possibly cut at a size cap.
type File struct {
	Path      string `json:"path"`
	Size      int64  `json:"size"`
	Content   string `json:"content"`
	Truncated bool   `json:"truncated"`
	Language  string `json:"language"`
	Binary    bool   `json:"binary"`
}

// ReadManifest loads the snapshot's manifest.
func ReadManifest(ctx context.Context, blobs blob.Store, snap *store.Snapshot) (*Manifest, error) {
	obj, err := blobs.Open(ctx, snap.ManifestKey)
	if err != nil {
		return nil, openError(err)
	}
	defer obj.Close()
	if obj.Size() > maxManifestBytes {
		return nil, fmt.Errorf("ingest: manifest of %s is too large", snap.ID)
	}
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(obj, maxManifestBytes)).Decode(&m); err != nil {
		return nil, fmt.Errorf("ingest: decode manifest: %w", err)
	}
	return &m, nil
}

func openError(err error) error {
	if errors.Is(err, blob.ErrNotFound) {
		return apperr.NotFoundf("The snapshot's files are not available").Wrap(err)
	}
	return fmt.Errorf("ingest: open snapshot: %w", err)
}

// openSnapshot reads the zip central directory from random-access storage.
func openSnapshot(ctx context.Context, blobs blob.Store, snap *store.Snapshot) (*zip.Reader, blob.Object, error) {
	obj, err := blobs.Open(ctx, snap.StorageKey)
	if err != nil {
		return nil, nil, openError(err)
	}
	zr, err := newZipReader(obj, obj.Size())
	if err != nil {
		obj.Close()
		return nil, nil, fmt.Errorf("ingest: snapshot %s: %w", snap.ID, err)
	}
	return zr, obj, nil
}

// ReadTree lists the direct children of dir ("" or "/" for the root),
// directories first, then by name. An unknown directory is not_found.
func ReadTree(ctx context.Context, blobs blob.Store, snap *store.Snapshot, dir string) ([]TreeEntry, error) {
	dir, err := CleanRequestPath(dir)
	if err != nil {
		return nil, err
	}
	zr, closer, err := openSnapshot(ctx, blobs, snap)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return treeOf(zr, dir)
}

// treeOf lists the children of dir (already cleaned) in an open snapshot.
func treeOf(zr *zip.Reader, dir string) ([]TreeEntry, error) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	children := map[string]TreeEntry{}
	found := dir == ""
	for _, f := range zr.File {
		if !strings.HasPrefix(f.Name, prefix) {
			continue
		}
		rest := f.Name[len(prefix):]
		if rest == "" {
			continue // the directory itself (snapshots do not store any)
		}
		found = true
		name, _, nested := strings.Cut(rest, "/")
		if name == "" {
			continue
		}
		if nested {
			children[name] = TreeEntry{Name: name, Path: prefix + name, Type: "dir"}
		} else if f.Mode().IsRegular() {
			children[name] = TreeEntry{Name: name, Path: prefix + name, Type: "file", Size: int64(f.UncompressedSize64)}
		}
	}
	if !found {
		return nil, apperr.NotFoundf("Directory %q not found in the snapshot", dir)
	}
	out := make([]TreeEntry, 0, len(children))
	for _, e := range children {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type == "dir"
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// binarySniffBytes is how much of a file decides whether it is text.
const binarySniffBytes = 8 << 10

// ReadFile returns one file of the snapshot, reading only that entry. Content
// holds at most maxBytes (cut on a UTF-8 boundary, Truncated set); binary
// files (a NUL byte or invalid UTF-8 in the first 8 KiB) have no Content.
func ReadFile(ctx context.Context, blobs blob.Store, snap *store.Snapshot, path string, maxBytes int64) (*File, error) {
	p, err := CleanRequestPath(path)
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, apperr.BadRequestf("A file path is required")
	}
	zr, closer, err := openSnapshot(ctx, blobs, snap)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return fileOf(ctx, zr, p, maxBytes)
}

// fileOf reads the file p (already cleaned, not empty) of an open snapshot.
func fileOf(ctx context.Context, zr *zip.Reader, p string, maxBytes int64) (*File, error) {
	var entry *zip.File
	for _, f := range zr.File {
		if f.Name == p && f.Mode().IsRegular() {
			entry = f
			break
		}
	}
	if entry == nil {
		return nil, apperr.NotFoundf("File %q not found in the snapshot", p)
	}
	out := &File{Path: p, Size: int64(entry.UncompressedSize64), Language: LanguageOf(p)}
	rc, err := entry.Open()
	if err != nil {
		return nil, fmt.Errorf("ingest: open %q: %w", p, err)
	}
	defer rc.Close()
	if maxBytes < 0 {
		maxBytes = 0
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, &ctxReader{ctx: ctx, r: io.LimitReader(rc, maxBytes)})
	if err != nil {
		return nil, fmt.Errorf("ingest: read %q: %w", p, classify(err))
	}
	data := buf.Bytes()
	out.Truncated = n < out.Size
	if isBinary(data, out.Truncated) {
		out.Binary = true
		return out, nil
	}
	if out.Truncated {
		data = trimPartialRune(data)
	}
	out.Content = string(data)
	return out, nil
}

func isBinary(data []byte, truncated bool) bool {
	sniff := data
	cut := truncated
	if len(sniff) > binarySniffBytes {
		sniff, cut = sniff[:binarySniffBytes], true
	}
	if bytes.IndexByte(sniff, 0) >= 0 {
		return true
	}
	if cut {
		sniff = trimPartialRune(sniff)
	}
	return !utf8.Valid(sniff)
}

// trimPartialRune drops an incomplete UTF-8 sequence left by a cut.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			return b
		}
	}
	return b
}

// Unpack extracts a snapshot into destDir (missing or empty) for a scan, with
// the same checks as an upload: snapshots are trusted more than uploads, but a
// tampered blob must still not write outside destDir.
func Unpack(ctx context.Context, blobs blob.Store, snap *store.Snapshot, destDir string, lim Limits) error {
	obj, err := blobs.Open(ctx, snap.StorageKey)
	if err != nil {
		return openError(err)
	}
	defer obj.Close()
	_, err = extractZip(ctx, obj, obj.Size(), destDir, lim, false)
	return err
}
