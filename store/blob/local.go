package blob

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Local keeps blobs as files under a root directory.
type Local struct {
	root string
	// deletes is held shared by every removal and exclusively by a backup
	// (HoldDeletes), so a blob that a row of the backup's store snapshot
	// names cannot vanish before the backup has copied it.
	deletes sync.RWMutex
}

// NewLocal creates the root directory if needed.
func NewLocal(root string) (*Local, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	return &Local{root: abs}, nil
}

func (l *Local) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

func (l *Local) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := l.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	n, err := io.Copy(tmp, contextReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), p)
}

type localObject struct {
	*os.File
	size int64
}

func (o localObject) Size() int64 { return o.size }

func (l *Local) Open(ctx context.Context, key string) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return localObject{f, st.Size()}, nil
}

func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	l.deletes.RLock()
	defer l.deletes.RUnlock()
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (l *Local) DeletePrefix(ctx context.Context, prefix string) error {
	if !strings.HasSuffix(prefix, "/") {
		return errors.New("blob: prefix must end in /")
	}
	p, err := l.path(prefix)
	if err != nil {
		return err
	}
	l.deletes.RLock()
	defer l.deletes.RUnlock()
	return os.RemoveAll(p)
}

func (l *Local) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	return keys, err
}

// RemoveStalePartials deletes the temporary files of writes that never
// finished (Put's process was killed mid-stream) and were last written
// before the given time. A write that is still streaming keeps touching its
// file, so it is never that old. It returns how many it removed.
func (l *Local) RemoveStalePartials(ctx context.Context, before time.Time) (int, error) {
	l.deletes.RLock()
	defer l.deletes.RUnlock()
	removed := 0
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) { // finished (renamed) meanwhile
			return nil
		}
		if err != nil {
			return err
		}
		if info.ModTime().Before(before) {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			removed++
		}
		return nil
	})
	return removed, err
}

func (l *Local) Ping(ctx context.Context) error {
	_, err := os.Stat(l.root)
	return err
}

// ContextReader stops a long copy from r when ctx ends.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return contextReader{ctx, r} }

type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// LocalPath is the file holding key, so local callers can read it in place.
func (l *Local) LocalPath(key string) (string, error) { return l.path(key) }

// Root is the directory holding the blobs (a backup copies it).
func (l *Local) Root() string { return l.root }

// HoldDeletes blocks Delete, DeletePrefix and RemoveStalePartials until
// release is called; Put and Open go on. A backup holds it from the moment
// it snapshots the store until it has copied the blobs (docs/backup.md).
func (l *Local) HoldDeletes() (release func()) {
	l.deletes.Lock()
	return l.deletes.Unlock
}
