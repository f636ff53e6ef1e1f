package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/vegasec/vega/store/blob"
)

// ErrInvalid marks an archive that is not a complete, intact Vega backup:
// truncated, corrupted, altered, or naming a path outside its three folders.
var ErrInvalid = errors.New("backup archive refused")

// ErrInUse is returned when a running vega process holds the store.
var ErrInUse = errors.New("the store is in use")

// maxManifest bounds the manifest read into memory.
const maxManifest = 64 << 20

// Result says what Restore did.
type Result struct {
	Manifest *Manifest
	// PreviousDir holds the data directory's former vega.db, blobs and
	// secrets, or is empty when there were none.
	PreviousDir string
}

// Restore unpacks the archive r into dataDir. Everything is extracted into a
// staging folder inside dataDir and checked — names, checksums against the
// manifest, the store file's own consistency — before anything is moved; the
// current vega.db, blobs and secrets are then moved aside into
// dataDir/before-restore-<time>, never deleted. A server holding the store
// makes it refuse (ErrInUse).
func Restore(ctx context.Context, r io.Reader, dataDir string) (*Result, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	unlock, err := lockStore(filepath.Join(dataDir, DBName))
	if err != nil {
		return nil, err
	}
	defer unlock()
	staging, err := os.MkdirTemp(dataDir, ".restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	m, err := extract(ctx, r, staging)
	if err != nil {
		return nil, err
	}
	if err := checkStoreFile(filepath.Join(staging, DBName)); err != nil {
		return nil, err
	}
	return swapIn(dataDir, staging, m)
}

// lockStore takes the store file's lock, as a server does, so a running
// server makes the restore refuse and none can start until it is done.
func lockStore(p string) (func(), error) {
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return func() {}, nil
	}
	db, err := bbolt.Open(p, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: a vega process holds %s; stop `vega serve` first", ErrInUse, p)
	}
	if err != nil {
		// A damaged current store is no reason to refuse restoring over it;
		// no server can be holding it either, since bbolt cannot open it.
		return func() {}, nil
	}
	return func() { db.Close() }, nil
}

// Verify reads a whole archive and checks it as Restore would, writing
// nothing: `vega backup` runs it on the file it has just written.
func Verify(ctx context.Context, r io.Reader) (*Manifest, error) { return extract(ctx, r, "") }

// extract writes every entry of the archive under dir (nowhere when dir is
// "") after checking its name, and returns the manifest once every file
// matches it.
func extract(ctx context.Context, r io.Reader, dir string) (*Manifest, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: not a Vega backup (gzip: %v)", ErrInvalid, err)
	}
	tr := tar.NewReader(gz)
	got := map[string]File{}
	var m *Manifest
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: the archive is truncated or corrupted (%v)", ErrInvalid, err)
		}
		if m != nil {
			return nil, fmt.Errorf("%w: entry %q after the manifest", ErrInvalid, h.Name)
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("%w: entry %q is not a regular file", ErrInvalid, h.Name)
		}
		if h.Name == ManifestName {
			if m, err = readManifest(tr, h.Size); err != nil {
				return nil, err
			}
			continue
		}
		if err := checkName(h.Name); err != nil {
			return nil, err
		}
		if _, dup := got[h.Name]; dup {
			return nil, fmt.Errorf("%w: entry %q appears twice", ErrInvalid, h.Name)
		}
		dest := ""
		if dir != "" {
			dest = filepath.Join(dir, filepath.FromSlash(h.Name))
		}
		f, err := writeEntry(tr, dest, h.Size)
		if err != nil {
			return nil, err
		}
		got[h.Name] = f
	}
	// The gzip trailer (length and CRC) comes after the tar's end; reading
	// to it is what catches an archive cut in its last bytes.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return nil, fmt.Errorf("%w: the archive is truncated or corrupted (%v)", ErrInvalid, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: no manifest; the archive is incomplete (cut short?)", ErrInvalid)
	}
	if len(m.Files) != len(got) {
		return nil, fmt.Errorf("%w: the manifest lists %d files, the archive holds %d", ErrInvalid, len(m.Files), len(got))
	}
	for _, want := range m.Files {
		f, ok := got[want.Path]
		if !ok {
			return nil, fmt.Errorf("%w: %s is in the manifest but not in the archive", ErrInvalid, want.Path)
		}
		if f.Size != want.Size || f.SHA256 != want.SHA256 {
			return nil, fmt.Errorf("%w: %s does not match its checksum", ErrInvalid, want.Path)
		}
	}
	if _, ok := got[DBName]; !ok {
		return nil, fmt.Errorf("%w: no %s in the archive", ErrInvalid, DBName)
	}
	return m, nil
}

func readManifest(r io.Reader, size int64) (*Manifest, error) {
	if size > maxManifest {
		return nil, fmt.Errorf("%w: manifest of %d bytes", ErrInvalid, size)
	}
	raw, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return nil, fmt.Errorf("%w: the archive is truncated or corrupted (%v)", ErrInvalid, err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: unreadable manifest (%v)", ErrInvalid, err)
	}
	if m.Format != Format || m.Version != Version {
		return nil, fmt.Errorf("%w: manifest format %q version %d, want %q version %d", ErrInvalid, m.Format, m.Version, Format, Version)
	}
	return &m, nil
}

// checkName accepts only vega.db, blobs/<valid blob key> and
// secrets/<file>: nothing absolute, nothing with "..", nothing else.
func checkName(name string) error {
	bad := func() error { return fmt.Errorf("%w: entry %q is outside the backup's folders", ErrInvalid, name) }
	if name == DBName {
		return nil
	}
	if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean(name) != name {
		return bad()
	}
	dir, rest, ok := strings.Cut(name, "/")
	switch {
	case !ok:
		return bad()
	case dir == BlobsDir:
		if blob.ValidKey(rest) != nil || strings.HasSuffix(rest, "/") {
			return bad()
		}
	case dir == SecretsDir:
		if rest == "" || rest == "." || rest == ".." || strings.Contains(rest, "/") || strings.HasPrefix(rest, ".") {
			return bad()
		}
	default:
		return bad()
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." || part == "." || part == "" {
			return bad()
		}
	}
	return nil
}

// writeEntry copies one entry to a new file p (or only hashes it when p is
// ""), and returns its size and checksum.
func writeEntry(r io.Reader, p string, size int64) (File, error) {
	var f interface {
		io.Writer
		Sync() error
		Close() error
	} = discard{}
	if p != "" {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return File{}, err
		}
		file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return File{}, err
		}
		f = file
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
			return File{}, fmt.Errorf("%w: the archive is truncated or corrupted (%v)", ErrInvalid, err)
		}
		return File{}, err
	}
	if n != size {
		return File{}, fmt.Errorf("%w: the archive is truncated", ErrInvalid)
	}
	return File{Size: n, SHA256: hexSum(h)}, nil
}

// checkStoreFile opens the restored store and runs bbolt's consistency check.
func checkStoreFile(p string) error {
	db, err := bbolt.Open(p, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("%w: %s is not a usable store (%v)", ErrInvalid, DBName, err)
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("%w: %s fails its consistency check (%v)", ErrInvalid, DBName, err)
		}
		return nil
	})
}

// swapIn moves the current store, blobs and secrets aside and the staged
// ones in. Renames within one directory tree: nothing is copied twice.
func swapIn(dataDir, staging string, m *Manifest) (*Result, error) {
	res := &Result{Manifest: m}
	aside := filepath.Join(dataDir, "before-restore-"+time.Now().UTC().Format("20060102T150405.000Z"))
	for _, name := range []string{DBName, BlobsDir, SecretsDir} {
		cur := filepath.Join(dataDir, name)
		if _, err := os.Lstat(cur); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.MkdirAll(aside, 0o700); err != nil {
			return nil, err
		}
		if err := os.Rename(cur, filepath.Join(aside, name)); err != nil {
			return nil, fmt.Errorf("move the current %s aside: %w (the previous files are in %s)", name, err, aside)
		}
		res.PreviousDir = aside
	}
	for _, name := range []string{DBName, BlobsDir, SecretsDir} {
		staged := filepath.Join(staging, name)
		if _, err := os.Lstat(staged); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.Rename(staged, filepath.Join(dataDir, name)); err != nil {
			return nil, fmt.Errorf("move the restored %s in: %w (the previous files are in %s)", name, err, aside)
		}
	}
	return res, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Sync() error                 { return nil }
func (discard) Close() error                { return nil }
