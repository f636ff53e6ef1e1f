// Package gittree writes the tree of one git commit into a directory,
// treating the repository as hostile: only regular files and directories
// are written, every path component is validated, nothing can land outside
// the destination (writes go through os.Root), symlinks and submodules are
// counted but never materialised, and entry/size limits are enforced while
// writing. Both cloned repositories (gitsource) and pushed ones (gitpush)
// are checked out through here.
package gittree

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/vegasec/vega/app/textsafe"
)

// Limits bound what one checkout may write. Zero fields take the defaults
// below, which mirror the archive limits (VEGA_MAX_ARCHIVE_*).
type Limits struct {
	// MaxEntries caps files plus directories written.
	MaxEntries int
	// MaxFileBytes is the largest single file written; larger blobs are
	// skipped and counted in Stats.Oversized.
	MaxFileBytes int64
	// MaxTotalBytes caps the sum of written file sizes; exceeding it fails
	// the checkout.
	MaxTotalBytes int64
	// MaxDepth caps directory nesting.
	MaxDepth int
}

// Defaults applied to zero Limits fields.
const (
	DefaultMaxEntries    = 50000
	DefaultMaxFileBytes  = 256 << 20
	DefaultMaxTotalBytes = 5 << 30
	DefaultMaxDepth      = 256
)

func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Stats describes what a checkout wrote and what it left out.
type Stats struct {
	Files      int   `json:"files"`
	Dirs       int   `json:"dirs"`
	Bytes      int64 `json:"bytes"`
	Symlinks   int   `json:"symlinks"`
	Submodules int   `json:"submodules"`
	Oversized  int   `json:"oversized"`
}

// Reject reasons, aligned with the archive_rejected reasons of app/ingest (names.go)
// where one exists.
const (
	ReasonPathTraversal  = "path_traversal"
	ReasonDuplicateEntry = "duplicate_entry"
	ReasonTooManyEntries = "too_many_entries"
	ReasonTooLarge       = "uncompressed_too_large"
	ReasonCorrupt        = "corrupt"
)

// RejectError says why a tree was refused. Message is safe to show to the
// user: it names the offending repository path, never a local path.
type RejectError struct {
	Reason  string
	Message string
	Err     error
}

func (e *RejectError) Error() string { return e.Message }
func (e *RejectError) Unwrap() error { return e.Err }

// reject builds a RejectError; its string arguments are paths of a hostile
// tree, so they are cut and neutralised (textsafe.Sprintf).
func reject(reason, format string, args ...any) *RejectError {
	return &RejectError{Reason: reason, Message: textsafe.Sprintf(format, args...)}
}

// PeelToCommit returns the commit h names, following annotated tags (a
// bounded number of times, since tags can point at tags).
func PeelToCommit(s storer.EncodedObjectStorer, h plumbing.Hash) (*object.Commit, error) {
	for range 10 {
		obj, err := object.GetObject(s, h)
		if err != nil {
			return nil, err
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			h = o.Target
		default:
			return nil, fmt.Errorf("object %s is a %s, not a commit", h, obj.Type())
		}
	}
	return nil, fmt.Errorf("tag chain at %s is too long", h)
}

// Write writes the tree of commit into destDir, which must exist. On error
// destDir may hold a partial tree; the caller owns and removes it.
func Write(ctx context.Context, s storer.EncodedObjectStorer, commit *object.Commit, destDir string, lim Limits) (Stats, error) {
	root, err := os.OpenRoot(destDir)
	if err != nil {
		return Stats{}, fmt.Errorf("open destination: %w", err)
	}
	defer root.Close()
	tree, err := commit.Tree()
	if err != nil {
		return Stats{}, &RejectError{Reason: ReasonCorrupt, Message: "the commit's tree cannot be read", Err: err}
	}
	w := &writer{ctx: ctx, s: s, root: root, lim: lim.withDefaults()}
	err = w.writeTree(tree, "", 0)
	return w.stats, err
}

type writer struct {
	ctx     context.Context
	s       storer.EncodedObjectStorer
	root    *os.Root
	lim     Limits
	stats   Stats
	entries int
}

func (w *writer) writeTree(t *object.Tree, dir string, depth int) error {
	if depth > w.lim.MaxDepth {
		return reject(ReasonTooManyEntries, "directory %q is nested deeper than %d levels", dir, w.lim.MaxDepth)
	}
	for _, e := range t.Entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if err := checkName(e.Name); err != nil {
			return reject(ReasonPathTraversal, "unsafe path %q in repository: %v", path.Join(dir, safeQuote(e.Name)), err)
		}
		p := path.Join(dir, e.Name)
		switch e.Mode {
		case filemode.Dir:
			if err := w.count(); err != nil {
				return err
			}
			sub, err := object.GetTree(w.s, e.Hash)
			if err != nil {
				return &RejectError{Reason: ReasonCorrupt, Message: textsafe.Sprintf("tree %q cannot be read", p), Err: err}
			}
			if err := w.root.Mkdir(p, 0o755); err != nil {
				return existsOr(p, err)
			}
			w.stats.Dirs++
			if err := w.writeTree(sub, p, depth+1); err != nil {
				return err
			}
		case filemode.Regular, filemode.Deprecated, filemode.Executable:
			if err := w.writeBlob(p, e); err != nil {
				return err
			}
		case filemode.Symlink:
			w.stats.Symlinks++
		case filemode.Submodule:
			w.stats.Submodules++
		default:
			return reject(ReasonCorrupt, "entry %q has an unknown mode %o", p, uint32(e.Mode))
		}
	}
	return nil
}

func (w *writer) count() error {
	w.entries++
	if w.entries > w.lim.MaxEntries {
		return reject(ReasonTooManyEntries, "repository has more than %d files and directories", w.lim.MaxEntries)
	}
	return nil
}

func (w *writer) writeBlob(p string, e object.TreeEntry) error {
	blob, err := object.GetBlob(w.s, e.Hash)
	if err != nil {
		return &RejectError{Reason: ReasonCorrupt, Message: textsafe.Sprintf("file %q cannot be read", p), Err: err}
	}
	if blob.Size > w.lim.MaxFileBytes {
		w.stats.Oversized++
		return nil
	}
	if err := w.count(); err != nil {
		return err
	}
	if w.stats.Bytes+blob.Size > w.lim.MaxTotalBytes {
		return reject(ReasonTooLarge, "repository working tree is larger than %d bytes", w.lim.MaxTotalBytes)
	}
	perm := fs.FileMode(0o644)
	if e.Mode == filemode.Executable {
		perm = 0o755
	}
	// O_EXCL: a path written twice (a hostile tree with duplicate names)
	// fails instead of overwriting, and an existing symlink is never
	// followed.
	f, err := w.root.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return existsOr(p, err)
	}
	r, err := blob.Reader()
	if err != nil {
		f.Close()
		return &RejectError{Reason: ReasonCorrupt, Message: textsafe.Sprintf("file %q cannot be read", p), Err: err}
	}
	n, err := io.Copy(f, io.LimitReader(r, blob.Size+1))
	r.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q: %w", p, err)
	}
	if n != blob.Size {
		return reject(ReasonCorrupt, "file %q does not match its recorded size", p)
	}
	w.stats.Files++
	w.stats.Bytes += n
	return nil
}

func existsOr(p string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return reject(ReasonDuplicateEntry, "path %q appears more than once in the repository", p)
	}
	return fmt.Errorf("create %q: %w", p, err)
}

// checkName validates one tree entry name the way git's verify_path does
// for checkouts, plus the spellings that alias ".git" on case-insensitive
// or NTFS file systems.
func checkName(name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return errors.New("empty or dot component")
	case strings.ContainsAny(name, "/\\\x00"):
		return errors.New("separator or NUL in a name")
	}
	trimmed := strings.TrimRight(name, ". ")
	if strings.EqualFold(trimmed, ".git") || strings.EqualFold(trimmed, "git~1") {
		return errors.New("a .git entry inside the tree")
	}
	return nil
}

// safeQuote keeps control characters from a hostile name out of messages.
func safeQuote(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, name)
}
