// Package backup writes and restores one archive holding a local (bolt)
// deployment: the store file, the blobs (snapshots, uploads, artifacts) and
// the generated secrets, with a manifest of checksums (docs/backup.md).
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/bolt"
)

// Names inside the archive. The manifest is the last entry: it carries the
// checksums of everything before it, so an archive cut short has none.
const (
	DBName       = "vega.db"
	BlobsDir     = "blobs"
	SecretsDir   = "secrets"
	ManifestName = "manifest.json"
	Format       = "vega-backup"
	Version      = 1
)

// Manifest describes an archive.
type Manifest struct {
	Format       string    `json:"format"`
	Version      int       `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	VegaVersion  string    `json:"vega_version"`
	Files        []File    `json:"files"`
	Blobs        int       `json:"blobs"`
	StoreBytes   int64     `json:"store_bytes"`
	ContentBytes int64     `json:"content_bytes"`
}

// File is one archived file and its SHA-256.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is what a backup copies: the open bolt store, the local blob store
// and the data directory's generated secrets.
type Source struct {
	Store      *bolt.Store
	Blobs      *blob.Local
	SecretsDir string // may not exist (secrets given in the environment)
	Version    string
}

// Write streams a gzip'd tar of src to w. The store is copied from one read
// transaction; blob deletions wait until the blobs are copied, so every blob
// a row of that snapshot names is in the archive. Blobs written meanwhile may
// be included too; maintenance sweeps them after a restore if no row owns them.
func Write(ctx context.Context, w io.Writer, src Source) (*Manifest, error) {
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	aw := &archiveWriter{tw: tar.NewWriter(gz), now: time.Now().UTC()}
	m := &Manifest{Format: Format, Version: Version, CreatedAt: aw.now, VegaVersion: src.Version}
	release := src.Blobs.HoldDeletes()
	err = src.Store.Snapshot(func(tx bolt.Snapshotter) error {
		size := tx.Size()
		m.StoreBytes = size
		return aw.add(DBName, size, func(w io.Writer) error {
			_, err := tx.WriteTo(w)
			return err
		})
	})
	if err == nil {
		m.Blobs, err = aw.addTree(ctx, src.Blobs.Root(), BlobsDir, func(name string) bool { return strings.HasPrefix(name, ".tmp-") })
	}
	release()
	if err != nil {
		return nil, err
	}
	if _, err := aw.addTree(ctx, src.SecretsDir, SecretsDir, nil); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	m.Files = aw.files
	for _, f := range m.Files {
		m.ContentBytes += f.Size
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := aw.add(ManifestName, int64(len(raw)), func(w io.Writer) error { _, err := w.Write(raw); return err }); err != nil {
		return nil, err
	}
	if err := aw.tw.Close(); err != nil {
		return nil, err
	}
	return m, gz.Close()
}

type archiveWriter struct {
	tw    *tar.Writer
	now   time.Time
	files []File
}

// add writes one regular file of exactly size bytes produced by fill.
func (a *archiveWriter) add(name string, size int64, fill func(io.Writer) error) error {
	if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: a.now, Format: tar.FormatPAX}); err != nil {
		return err
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(a.tw, h)}
	if err := fill(cw); err != nil {
		return fmt.Errorf("archive %s: %w", name, err)
	}
	if cw.n != size {
		return fmt.Errorf("archive %s: wrote %d bytes, expected %d", name, cw.n, size)
	}
	if name != ManifestName {
		a.files = append(a.files, File{Path: name, Size: size, SHA256: hexSum(h)})
	}
	return nil
}

// addTree archives every regular file under dir as prefix/<relative path>,
// skipping names skip says are partial writes. It returns how many it added.
func (a *archiveWriter) addTree(ctx context.Context, dir, prefix string, skip func(name string) bool) (int, error) {
	if dir == "" {
		return 0, fs.ErrNotExist
	}
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || (skip != nil && skip(d.Name())) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) { // a partial renamed meanwhile
			return nil
		}
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		n++
		return a.add(prefix+"/"+filepath.ToSlash(rel), st.Size(), func(w io.Writer) error {
			_, err := io.Copy(w, io.LimitReader(f, st.Size()))
			return err
		})
	})
	return n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// WriteFile writes the archive to path atomically: into a temporary file
// beside it, synced, then linked to path, which fails if path exists, so an
// existing file is never overwritten and a failed backup leaves nothing.
func WriteFile(path string, write func(f *os.File) (*Manifest, error)) (*Manifest, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s already exists; choose another name or remove it first", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	m, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s already exists; choose another name or remove it first", path)
		}
		return nil, err
	}
	return m, nil
}
