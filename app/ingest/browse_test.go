package ingest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"

	"github.com/vegasec/vega/testutil/srctree"
)

// countingBlobs counts opens and closes of the blobs it hands out.
type countingBlobs struct {
	blob.Store
	opens, closes atomic.Int64
}

func (c *countingBlobs) Open(ctx context.Context, key string) (blob.Object, error) {
	o, err := c.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	c.opens.Add(1)
	return &countingObject{Object: o, c: c}, nil
}

type countingObject struct {
	blob.Object
	c    *countingBlobs
	once sync.Once
}

func (o *countingObject) Close() error {
	o.once.Do(func() { o.c.closes.Add(1) })
	return o.Object.Close()
}

func browseSnapshots(t *testing.T, blobs blob.Store, n int) []*store.Snapshot {
	var snaps []*store.Snapshot
	for i := range n {
		src := t.TempDir()
		files := map[string]string{"README.md": fmt.Sprintf("# repo %d\n", i)}
		for j := range 50 {
			files[fmt.Sprintf("src/mod%02d.py", j)] = fmt.Sprintf("def f():\n    return %d\n", i*100+j)
		}
		srctree.WriteFiles(t, src, files)
		snap := &store.Snapshot{ID: fmt.Sprintf("snap_%d", i), RepositoryID: fmt.Sprintf("repo_%d", i)}
		if err := BuildSnapshot(context.Background(), src, blobs, snap); err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snap)
	}
	return snaps
}

// The browser answers exactly what ReadTree and ReadFile answer, parsing
// each snapshot once while it stays within its bound.
func TestBrowserKeepsParsedSnapshots(t *testing.T) {
	ctx := context.Background()
	blobs := &countingBlobs{Store: newBlobs(t)}
	snaps := browseSnapshots(t, blobs.Store, 3)
	b := NewBrowser(blobs, 120) // room for two snapshots of 51 entries
	defer b.Close()
	for _, snap := range snaps[:2] {
		for range 3 {
			got, err := b.Tree(ctx, snap, "src")
			want, _ := ReadTree(ctx, blobs.Store, snap, "src")
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("tree: %v %v", got, err)
			}
			f, err := b.File(ctx, snap, "src/mod07.py", 1<<20)
			wantF, _ := ReadFile(ctx, blobs.Store, snap, "src/mod07.py", 1<<20)
			if err != nil || !reflect.DeepEqual(f, wantF) {
				t.Fatalf("file: %+v %v", f, err)
			}
		}
	}
	if blobs.opens.Load() != 2 || blobs.closes.Load() != 0 {
		t.Fatalf("two snapshots browsed six times each: %d opens, %d closes", blobs.opens.Load(), blobs.closes.Load())
	}
	// A third snapshot evicts the least recently used one and closes its blob.
	b.File(ctx, snaps[1], "README.md", 100)
	b.File(ctx, snaps[2], "README.md", 100)
	if blobs.opens.Load() != 3 || blobs.closes.Load() != 1 {
		t.Fatalf("after the third: %d opens, %d closes", blobs.opens.Load(), blobs.closes.Load())
	}
	b.File(ctx, snaps[1], "README.md", 100)
	if blobs.opens.Load() != 3 {
		t.Fatal("the most recently used snapshot was evicted")
	}
	// Errors are those of ReadFile.
	if _, err := b.File(ctx, snaps[1], "../etc/passwd", 100); err == nil {
		t.Fatal("a path outside the snapshot was read")
	}
	if _, err := b.File(ctx, snaps[1], "nope.py", 100); !apperr.IsCode(err, apperr.NotFound) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := b.Tree(ctx, &store.Snapshot{ID: "snap_gone", StorageKey: "snapshots/x/gone.zip"}, ""); !apperr.IsCode(err, apperr.NotFound) {
		t.Fatalf("missing snapshot: %v", err)
	}
	b.Forget(snaps[1].RepositoryID)
	if blobs.closes.Load() != 2 {
		t.Fatalf("Forget did not close the repository's snapshot: %d closes", blobs.closes.Load())
	}
}

// A snapshot evicted while requests read it stays open until they finish.
func TestBrowserEvictionWaitsForReaders(t *testing.T) {
	ctx := context.Background()
	blobs := &countingBlobs{Store: newBlobs(t)}
	snaps := browseSnapshots(t, blobs.Store, 4)
	b := NewBrowser(blobs, 60) // one snapshot at a time
	defer b.Close()
	held, release, err := b.acquire(ctx, snaps[0])
	if err != nil {
		t.Fatal(err)
	}
	b.File(ctx, snaps[1], "README.md", 100) // evicts snaps[0] from the map
	if blobs.closes.Load() != 0 {
		t.Fatal("a snapshot in use was closed")
	}
	if f, err := fileOf(ctx, held.zr, "src/mod01.py", 100); err != nil || f.Content == "" {
		t.Fatalf("reading the held snapshot: %v", err)
	}
	release()
	if blobs.closes.Load() != 1 {
		t.Fatalf("released evicted snapshot: %d closes", blobs.closes.Load())
	}
	// Many readers over more snapshots than fit: every answer right.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				snap := snaps[(g+i)%len(snaps)]
				n := (g + i) % 50
				f, err := b.File(ctx, snap, fmt.Sprintf("src/mod%02d.py", n), 100)
				want := fmt.Sprintf("def f():\n    return %d\n", ((g+i)%len(snaps))*100+n)
				if err != nil || f.Content != want {
					t.Errorf("%s: %v %+v", snap.ID, err, f)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.Close()
	if blobs.opens.Load() != blobs.closes.Load() {
		t.Fatalf("%d opened, %d closed after Close", blobs.opens.Load(), blobs.closes.Load())
	}
}
