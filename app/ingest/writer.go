package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/vegasec/vega/app/apperr"
)

// copyBufferSize is large because per-call overhead (decompressor refills,
// write syscalls) dominates small buffers on big trees.
const copyBufferSize = 256 << 10

// treeWriter materialises planned entries under one destination directory.
// All file system access goes through an os.Root, so even a name that slipped
// past validation cannot leave the directory, and files are created with
// O_EXCL|O_NOFOLLOW so nothing that already exists is ever overwritten or
// followed. The destination itself is 0700, which keeps the tree private;
// inside it files are 0644 and directories 0755 so a scan sandbox running
// under another uid can read a tree it was given access to. Directories are created by one goroutine (mkdirAll); files may be
// written by several fileWriters at once.
type treeWriter struct {
	ctx     context.Context
	dest    string
	root    *os.Root
	created bool // dest did not exist before; remove it whole on failure
	lim     Limits
	dirs    map[string]struct{} // directories created so far (mkdirAll only)
	main    *fileWriter         // the fileWriter of the goroutine that owns mkdirAll
	total   atomic.Int64        // file bytes written, across all fileWriters
}

// newTreeWriter opens dest, which must be missing or an empty directory.
func newTreeWriter(ctx context.Context, dest string, lim Limits) (*treeWriter, error) {
	w := &treeWriter{ctx: ctx, dest: dest, dirs: map[string]struct{}{"": {}}, lim: lim}
	switch err := os.Mkdir(dest, 0o700); {
	case err == nil:
		w.created = true
	case errors.Is(err, fs.ErrExist):
		entries, rerr := os.ReadDir(dest)
		if rerr != nil {
			return nil, fmt.Errorf("ingest: destination: %w", rerr)
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("ingest: destination directory is not empty")
		}
	default:
		return nil, fmt.Errorf("ingest: destination: %w", err)
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		if w.created {
			os.Remove(dest)
		}
		return nil, fmt.Errorf("ingest: destination: %w", err)
	}
	w.root = root
	w.main = w.newFileWriter()
	return w, nil
}

// mkdirAll creates rel and its parents, remembering what exists so deep trees
// cost one mkdir per directory.
func (w *treeWriter) mkdirAll(rel string) error {
	if _, ok := w.dirs[rel]; ok {
		return nil
	}
	parent := parentOf(rel)
	if err := w.mkdirAll(parent); err != nil {
		return err
	}
	pr, err := w.main.dirRoot(parent)
	if err != nil {
		return err
	}
	if err := pr.Mkdir(baseOf(rel), 0o755); err != nil {
		return fmt.Errorf("ingest: mkdir: %w", err)
	}
	w.dirs[rel] = struct{}{}
	return nil
}

// abort removes everything this writer created. Every fileWriter must be
// closed first.
func (w *treeWriter) abort() {
	w.main.close()
	w.root.Close()
	if w.created {
		os.RemoveAll(w.dest)
		return
	}
	entries, _ := os.ReadDir(w.dest)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(w.dest, e.Name()))
	}
}

func (w *treeWriter) close() error {
	w.main.close()
	return w.root.Close()
}

// fileWriter writes files for one goroutine.
type fileWriter struct {
	w   *treeWriter
	buf []byte
	// roots caches handles on recently used directories so creating a file
	// costs one openat instead of one per path component (archives list
	// files grouped by directory, so a small cache hits almost always).
	roots map[string]*os.Root
}

const maxCachedDirs = 64

func (w *treeWriter) newFileWriter() *fileWriter {
	return &fileWriter{w: w, buf: make([]byte, copyBufferSize), roots: map[string]*os.Root{}}
}

// dirRoot returns a handle on the existing directory rel, opened beneath the
// destination root (so it cannot resolve outside it).
func (f *fileWriter) dirRoot(rel string) (*os.Root, error) {
	if rel == "" {
		return f.w.root, nil
	}
	if r, ok := f.roots[rel]; ok {
		return r, nil
	}
	parent, err := f.dirRoot(parentOf(rel))
	if err != nil {
		return nil, err
	}
	r, err := parent.OpenRoot(baseOf(rel))
	if err != nil {
		return nil, fmt.Errorf("ingest: open directory: %w", err)
	}
	if len(f.roots) >= maxCachedDirs {
		f.close()
	}
	f.roots[rel] = r
	return r, nil
}

// close releases the cached directory handles; the writer stays usable.
func (f *fileWriter) close() {
	for k, r := range f.roots {
		r.Close()
		delete(f.roots, k)
	}
}

// writeFile creates rel (whose parent directory must exist) and copies r
// into it, counting real bytes against the per-file and total limits rather
// than trusting any header.
func (f *fileWriter) writeFile(rel string, r io.Reader) (int64, error) {
	if err := f.w.ctx.Err(); err != nil {
		return 0, err
	}
	dir, err := f.dirRoot(parentOf(rel))
	if err != nil {
		return 0, err
	}
	out, err := dir.OpenFile(baseOf(rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return 0, fmt.Errorf("ingest: create: %w", err)
	}
	n, err := f.copyCounted(rel, out, r)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("ingest: close: %w", cerr)
	}
	return n, err
}

func (f *fileWriter) copyCounted(rel string, dst io.Writer, src io.Reader) (int64, error) {
	lim := f.w.lim
	var written int64
	for {
		n, rerr := src.Read(f.buf)
		if n > 0 {
			written += int64(n)
			if lim.MaxFileBytes > 0 && written > lim.MaxFileBytes {
				return written, fileTooLarge(rel, lim)
			}
			if total := f.w.total.Add(int64(n)); lim.MaxTotalBytes > 0 && total > lim.MaxTotalBytes {
				return written, totalTooLarge(lim)
			}
			if _, err := dst.Write(f.buf[:n]); err != nil {
				return written, fmt.Errorf("ingest: write: %w", err)
			}
		}
		if rerr == io.EOF {
			return written, nil
		}
		if rerr != nil {
			return written, sourceError{rerr}
		}
		if err := f.w.ctx.Err(); err != nil {
			return written, err
		}
	}
}

func baseOf(name string) string { return name[strings.LastIndexByte(name, '/')+1:] }

// writerOnly hides ReadFrom so io.CopyBuffer uses our large buffer.
type writerOnly struct{ io.Writer }

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = sourceError{err}
	}
	return n, err
}

// sourceError marks a failure to read the archive (damaged data, checksum
// mismatch, truncation) as opposed to a failure to write the destination.
type sourceError struct{ err error }

func (e sourceError) Error() string { return "reading archive: " + e.err.Error() }
func (e sourceError) Unwrap() error { return e.err }

// classify turns a low-level failure into the error the caller sees: damaged
// input is archive_rejected/corrupt, typed errors and cancellation pass through,
// anything else (disk full, permissions) stays an internal error.
func classify(err error) error {
	var se sourceError
	if errors.As(err, &se) {
		var ae *apperr.Error
		if errors.As(se.err, &ae) {
			return ae
		}
		if errors.Is(se.err, context.Canceled) || errors.Is(se.err, context.DeadlineExceeded) {
			return se.err
		}
		return corrupt(se.err)
	}
	return err
}
