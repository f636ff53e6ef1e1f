package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/vegasec/vega/app/apperr"
)

// copyBufferSize is large because per-call overhead (decompressor refills,
// write syscalls) dominates small buffers on big trees.
const copyBufferSize = 256 << 10

// treeWriter materialises planned entries under one destination directory.
// All file system access goes through an os.Root, so even a name that slipped
// past validation cannot leave the directory, and files are created with
// O_EXCL|O_NOFOLLOW so nothing that already exists is ever overwritten or followed.
type treeWriter struct {
	ctx     context.Context
	dest    string
	root    *os.Root
	created bool // dest did not exist before; remove it whole on failure
	dirs    map[string]struct{}
	buf     []byte
	lim     Limits
	total   int64
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
	w.buf = make([]byte, copyBufferSize)
	return w, nil
}

// mkdirAll creates rel and its parents, remembering what exists so deep trees
// cost one mkdir per directory.
func (w *treeWriter) mkdirAll(rel string) error {
	if _, ok := w.dirs[rel]; ok {
		return nil
	}
	if err := w.mkdirAll(parentOf(rel)); err != nil {
		return err
	}
	if err := w.root.Mkdir(rel, 0o700); err != nil {
		return fmt.Errorf("ingest: mkdir: %w", err)
	}
	w.dirs[rel] = struct{}{}
	return nil
}

// writeFile creates rel and copies r into it, counting real bytes against the
// per-file and total limits rather than trusting any header.
func (w *treeWriter) writeFile(rel string, r io.Reader) (int64, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if err := w.mkdirAll(parentOf(rel)); err != nil {
		return 0, err
	}
	f, err := w.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return 0, fmt.Errorf("ingest: create: %w", err)
	}
	n, err := w.copyCounted(rel, f, r)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("ingest: close: %w", cerr)
	}
	return n, err
}

func (w *treeWriter) copyCounted(rel string, dst io.Writer, src io.Reader) (int64, error) {
	fileCap := w.lim.MaxFileBytes
	if fileCap <= 0 {
		fileCap = 1<<63 - 1
	}
	totalLeft := int64(1<<63 - 1)
	if w.lim.MaxTotalBytes > 0 {
		totalLeft = w.lim.MaxTotalBytes - w.total
	}
	allowed := min(fileCap, totalLeft)
	limit := allowed
	if limit < 1<<63-1 {
		limit++ // read one byte past the cap to tell "exactly at" from "over"
	}
	n, err := io.CopyBuffer(writerOnly{dst}, &ctxReader{ctx: w.ctx, r: io.LimitReader(src, limit)}, w.buf)
	w.total += n
	if err != nil {
		return n, err
	}
	if n > allowed {
		if n > fileCap {
			return n, fileTooLarge(rel, w.lim)
		}
		return n, totalTooLarge(w.lim)
	}
	return n, nil
}

// abort removes everything this writer created.
func (w *treeWriter) abort() {
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

func (w *treeWriter) close() error { return w.root.Close() }

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
