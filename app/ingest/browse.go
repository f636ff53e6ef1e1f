package ingest

import (
	"archive/zip"
	"context"
	"sync"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// DefaultBrowseEntries bounds the zip entries a Browser keeps parsed: about
// ten snapshots of 20,000 files, some 60 MB of directory structures.
const DefaultBrowseEntries = 200_000

// Browser serves the tree and file views. It keeps the parsed zip directory
// of recently browsed snapshots (and their blob open), so a view costs the
// read of one entry instead of parsing every entry of the snapshot again: on
// a 20,000-file snapshot that parse is ~80,000 allocations and 5.6 MB per
// request (docs/benchmarks.md). Snapshots never change, so nothing parsed
// goes stale; Forget drops a deleted repository's snapshots.
type Browser struct {
	blobs      blob.Store
	maxEntries int

	mu      sync.Mutex
	open    map[string]*parsed // by snapshot ID
	entries int
	tick    uint64
}

type parsed struct {
	zr      *zip.Reader
	obj     blob.Object
	repoID  string
	refs    int
	lastUse uint64
	dropped bool // out of the map; closed when the last reader is done
}

// NewBrowser keeps at most maxEntries parsed zip entries (at least one
// snapshot, whatever its size).
func NewBrowser(blobs blob.Store, maxEntries int) *Browser {
	return &Browser{blobs: blobs, maxEntries: maxEntries, open: map[string]*parsed{}}
}

// Tree is ReadTree through the kept directories.
func (b *Browser) Tree(ctx context.Context, snap *store.Snapshot, dir string) ([]TreeEntry, error) {
	dir, err := CleanRequestPath(dir)
	if err != nil {
		return nil, err
	}
	p, release, err := b.acquire(ctx, snap)
	if err != nil {
		return nil, err
	}
	defer release()
	return treeOf(p.zr, dir)
}

// File is ReadFile through the kept directories.
func (b *Browser) File(ctx context.Context, snap *store.Snapshot, path string, maxBytes int64) (*File, error) {
	clean, err := CleanRequestPath(path)
	if err != nil {
		return nil, err
	}
	if clean == "" {
		return nil, apperr.BadRequestf("A file path is required")
	}
	p, release, err := b.acquire(ctx, snap)
	if err != nil {
		return nil, err
	}
	defer release()
	return fileOf(ctx, p.zr, clean, maxBytes)
}

// acquire returns the parsed snapshot, parsing it on a miss.
func (b *Browser) acquire(ctx context.Context, snap *store.Snapshot) (*parsed, func(), error) {
	b.mu.Lock()
	p, ok := b.open[snap.ID]
	if ok {
		b.useLocked(p)
		b.mu.Unlock()
		return p, func() { b.release(p) }, nil
	}
	b.mu.Unlock()

	// The blob stays open after this request (S3 objects keep the context
	// they were opened with for their reads), so it must not end with it.
	zr, obj, err := openSnapshot(context.WithoutCancel(ctx), b.blobs, snap)
	if err != nil {
		return nil, nil, err
	}
	fresh := &parsed{zr: zr, obj: obj, repoID: snap.RepositoryID}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.open[snap.ID]; ok { // parsed meanwhile by another request
		fresh.obj.Close()
		b.useLocked(p)
		return p, func() { b.release(p) }, nil
	}
	b.open[snap.ID] = fresh
	b.entries += len(zr.File)
	b.useLocked(fresh)
	b.evictLocked()
	return fresh, func() { b.release(fresh) }, nil
}

func (b *Browser) useLocked(p *parsed) {
	p.refs++
	b.tick++
	p.lastUse = b.tick
}

func (b *Browser) release(p *parsed) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p.refs--
	if p.dropped && p.refs == 0 {
		p.obj.Close()
	}
}

// evictLocked drops the least recently used snapshots until the bound holds,
// keeping the most recent one.
func (b *Browser) evictLocked() {
	for b.entries > b.maxEntries && len(b.open) > 1 {
		var oldID string
		var old *parsed
		for id, p := range b.open {
			if old == nil || p.lastUse < old.lastUse {
				oldID, old = id, p
			}
		}
		b.dropLocked(oldID, old)
	}
}

func (b *Browser) dropLocked(id string, p *parsed) {
	delete(b.open, id)
	b.entries -= len(p.zr.File)
	p.dropped = true
	if p.refs == 0 {
		p.obj.Close()
	}
}

// Forget drops the snapshots of a deleted repository, closing their blobs.
func (b *Browser) Forget(repositoryID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, p := range b.open {
		if p.repoID == repositoryID {
			b.dropLocked(id, p)
		}
	}
}

// Close drops everything.
func (b *Browser) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, p := range b.open {
		b.dropLocked(id, p)
	}
}
