// Package blobcache keeps local copies of immutable blobs (snapshot zips and
// manifests) in front of a remote blob.Store, so browsing a snapshot reads one
// local file instead of fetching the snapshot per request.
//
// The cache is bounded in bytes and evicts the least recently used copies
// that no reader holds open. A copy is filled by streaming the remote object
// into a temporary file that is synced and then renamed into place, so a
// crash mid-fill never leaves a file a later process would serve; start-up
// removes such leftovers. Concurrent readers of one key share one fill. An
// object larger than the cache, or one that does not fit while every copy is
// in use, is served from the remote store directly (its ranged reads).
// docs/aws.md has the reasoning.
package blobcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vegasec/vega/store/blob"
)

// Options configure a Cache.
type Options struct {
	// Dir holds the cache. Each process takes its own slot under it (Dir/0,
	// Dir/1, …, locked while the process lives), so processes sharing a data
	// directory never evict each other's files, and a restarted process
	// finds its previous slot again.
	Dir string
	// MaxBytes bounds the bytes of all cached copies.
	MaxBytes int64
	// Cacheable selects the keys to cache; they must never change once
	// written. Default: blob.IsSnapshotKey.
	Cacheable func(key string) bool
	Log       *slog.Logger
}

// Cache is a blob.Store that caches reads of cacheable keys.
type Cache struct {
	inner   blob.Store
	disk    *blob.Local
	opt     Options
	dir     string
	release func()

	mu      sync.Mutex
	entries map[string]*entry
	used    int64 // bytes of entries plus reservations of fills in progress
	tick    uint64
	fills   map[string]*fill
	gen     map[string]uint64 // bumped by Put/Delete so a racing fill does not insert a stale copy
}

type entry struct {
	size    int64
	lastUse uint64
	refs    int  // open readers; an entry with readers is never evicted
	checked bool // size compared with the remote object since this process started
}

type fill struct {
	done chan struct{}
	err  error
}

// New opens (or creates) the cache in a free slot of opt.Dir, removes
// half-written files a crash left behind and indexes the complete ones.
func New(inner blob.Store, opt Options) (*Cache, error) {
	if opt.MaxBytes <= 0 {
		return nil, errors.New("blobcache: MaxBytes must be positive")
	}
	if opt.Cacheable == nil {
		opt.Cacheable = blob.IsSnapshotKey
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	dir, release, err := takeSlot(opt.Dir)
	if err != nil {
		return nil, err
	}
	disk, err := blob.NewLocal(filepath.Join(dir, "objects"))
	if err != nil {
		release()
		return nil, err
	}
	c := &Cache{inner: inner, disk: disk, opt: opt, dir: dir, release: release,
		entries: map[string]*entry{}, fills: map[string]*fill{}, gen: map[string]uint64{}}
	if err := c.load(); err != nil {
		release()
		return nil, err
	}
	return c, nil
}

// Dir is the slot this cache uses.
func (c *Cache) Dir() string { return c.dir }

// Close releases the slot. Open objects stay readable.
func (c *Cache) Close() error {
	c.release()
	return nil
}

// takeSlot locks the first free numbered directory under root.
func takeSlot(root string) (string, func(), error) {
	for i := 0; i < 64; i++ {
		dir := filepath.Join(root, strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", nil, fmt.Errorf("blobcache: %w", err)
		}
		release, ok, err := lockDir(dir)
		if err != nil {
			return "", nil, fmt.Errorf("blobcache: lock %s: %w", dir, err)
		}
		if ok {
			return dir, release, nil
		}
	}
	return "", nil, fmt.Errorf("blobcache: every slot under %s is in use", root)
}

// load indexes what a previous process left: complete files (renamed into
// place after fsync) are kept, temporary ones from an interrupted fill are
// deleted. Older files count as less recently used.
func (c *Cache) load() error {
	type found struct {
		key  string
		size int64
		mod  int64
	}
	var files []found
	root := filepath.Join(c.dir, "objects")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".tmp-") {
			c.opt.Log.Info("blob cache: removing a half-written copy", "file", p)
			return os.Remove(p)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, found{filepath.ToSlash(rel), info.Size(), info.ModTime().UnixNano()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("blobcache: scan %s: %w", root, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod < files[j].mod })
	for _, f := range files {
		if !c.opt.Cacheable(f.key) || blob.ValidKey(f.key) != nil {
			_ = os.Remove(filepath.Join(root, filepath.FromSlash(f.key)))
			continue
		}
		c.tick++
		c.entries[f.key] = &entry{size: f.size, lastUse: c.tick}
		c.used += f.size
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evictLocked(0) // MaxBytes may have shrunk since
	return nil
}

// Open serves a cacheable key from its local copy, filling it first if needed.
func (c *Cache) Open(ctx context.Context, key string) (blob.Object, error) {
	if !c.opt.Cacheable(key) {
		return c.inner.Open(ctx, key)
	}
	if err := blob.ValidKey(key); err != nil {
		return nil, err
	}
	for {
		c.mu.Lock()
		if e, ok := c.entries[key]; ok {
			if !e.checked {
				c.mu.Unlock()
				if err := c.check(ctx, key, e); err != nil {
					return nil, err
				}
				continue
			}
			e.refs++
			c.tick++
			e.lastUse = c.tick
			c.mu.Unlock()
			obj, err := c.disk.Open(ctx, key)
			if err != nil { // removed behind our back: forget it and fill again
				c.mu.Lock()
				e.refs--
				c.dropLocked(key, e)
				c.mu.Unlock()
				if errors.Is(err, blob.ErrNotFound) {
					continue
				}
				return nil, err
			}
			return &object{Object: obj, release: func() { c.releaseRef(e) }}, nil
		}
		if f, ok := c.fills[key]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			// Another reader's fill failed for its own reason (its request
			// ended): try ours. A real failure is returned as it is.
			if f.err != nil && !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded) {
				return nil, f.err
			}
			continue
		}
		f := &fill{done: make(chan struct{})}
		c.fills[key] = f
		gen := c.gen[key]
		c.mu.Unlock()

		direct, err := c.fill(ctx, key, gen)
		c.mu.Lock()
		delete(c.fills, key)
		c.mu.Unlock()
		f.err = err
		close(f.done)
		if err != nil || direct != nil {
			return direct, err
		}
	}
}

// fill copies key into the cache. It returns the remote object itself when
// the copy cannot be cached (too large, or no room while every copy is in use).
func (c *Cache) fill(ctx context.Context, key string, gen uint64) (blob.Object, error) {
	src, err := c.inner.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	size := src.Size()
	if !c.reserve(size) {
		c.opt.Log.Debug("blob cache: serving uncached", "key", key, "size", size, "max_bytes", c.opt.MaxBytes)
		return src, nil
	}
	n, err := c.disk.Put(ctx, key, src)
	src.Close()
	if err == nil && n != size {
		err = fmt.Errorf("blobcache: %s: copied %d of %d bytes", key, n, size)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.gen[key] != gen {
		c.used -= size
		_ = c.disk.Delete(context.WithoutCancel(ctx), key)
		return nil, err
	}
	c.tick++
	c.entries[key] = &entry{size: size, lastUse: c.tick, checked: true}
	return nil, nil
}

// check compares a copy found at start-up with the remote object once: a
// copy of a deleted object is dropped, one of the wrong size refilled.
func (c *Cache) check(ctx context.Context, key string, e *entry) error {
	src, err := c.inner.Open(ctx, key)
	var size int64 = -1
	if err == nil {
		size = src.Size()
		src.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[key] != e {
		return nil // replaced or dropped meanwhile; the caller looks again
	}
	switch {
	case errors.Is(err, blob.ErrNotFound):
		c.dropLocked(key, e)
		return blob.ErrNotFound
	case err != nil:
		return err
	case size != e.size:
		c.opt.Log.Warn("blob cache: dropping a copy whose size differs from the stored object", "key", key, "cached", e.size, "stored", size)
		c.dropLocked(key, e)
	default:
		e.checked = true
	}
	return nil
}

// reserve makes room for size bytes, evicting unused copies, least recently
// used first. It fails when the object cannot fit.
func (c *Cache) reserve(size int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if size > c.opt.MaxBytes {
		return false
	}
	c.evictLocked(size)
	if c.used+size > c.opt.MaxBytes {
		return false
	}
	c.used += size
	return true
}

// evictLocked removes unused copies until want more bytes fit.
func (c *Cache) evictLocked(want int64) {
	if c.used+want <= c.opt.MaxBytes {
		return
	}
	type cand struct {
		key string
		e   *entry
	}
	var idle []cand
	for k, e := range c.entries {
		if e.refs == 0 {
			idle = append(idle, cand{k, e})
		}
	}
	sort.Slice(idle, func(i, j int) bool { return idle[i].e.lastUse < idle[j].e.lastUse })
	for _, x := range idle {
		if c.used+want <= c.opt.MaxBytes {
			return
		}
		c.dropLocked(x.key, x.e)
	}
}

// dropLocked forgets a copy and deletes its file. A reader that still holds
// it open keeps reading: the file lives until its last descriptor closes.
func (c *Cache) dropLocked(key string, e *entry) {
	if c.entries[key] != e {
		return
	}
	delete(c.entries, key)
	c.used -= e.size
	if err := c.disk.Delete(context.Background(), key); err != nil {
		c.opt.Log.Warn("blob cache: delete copy", "key", key, "err", err)
	}
}

func (c *Cache) releaseRef(e *entry) {
	c.mu.Lock()
	e.refs--
	c.mu.Unlock()
}

// forget drops the copies of keys under prefix (or the one key) before the
// remote store changes them.
func (c *Cache) forget(match func(key string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if match(k) {
			c.dropLocked(k, e)
		}
	}
	for k := range c.fills {
		if match(k) {
			c.gen[k]++
		}
	}
}

func (c *Cache) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if c.opt.Cacheable(key) {
		c.forget(func(k string) bool { return k == key })
	}
	return c.inner.Put(ctx, key, r)
}

func (c *Cache) Delete(ctx context.Context, key string) error {
	if err := c.inner.Delete(ctx, key); err != nil {
		return err
	}
	c.forget(func(k string) bool { return k == key })
	return nil
}

func (c *Cache) DeletePrefix(ctx context.Context, prefix string) error {
	if err := c.inner.DeletePrefix(ctx, prefix); err != nil {
		return err
	}
	c.forget(func(k string) bool { return strings.HasPrefix(k, prefix) })
	return nil
}

// List and Ping ask the remote store: the cache holds copies, not the truth.
func (c *Cache) List(ctx context.Context, prefix string) ([]string, error) {
	return c.inner.List(ctx, prefix)
}

func (c *Cache) Ping(ctx context.Context) error { return c.inner.Ping(ctx) }

// Stats describe the cache (tests, benchmarks).
type Stats struct {
	Entries int
	Bytes   int64
}

func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b int64
	for _, e := range c.entries {
		b += e.size
	}
	return Stats{Entries: len(c.entries), Bytes: b}
}

// object is a local copy held open; Close lets it be evicted again.
type object struct {
	blob.Object
	once    sync.Once
	release func()
}

func (o *object) Close() error {
	err := o.Object.Close()
	o.once.Do(o.release)
	return err
}
