package blobcache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vegasec/vega/store/blob"
	"github.com/vegasec/vega/store/blob/blobcache"
	"github.com/vegasec/vega/store/blob/blobtest"
	"github.com/vegasec/vega/store/blob/s3blob"
	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/awsemu"
)

var ctx = context.Background()

func newCache(t *testing.T, inner blob.Store, dir string, max int64) *blobcache.Cache {
	t.Helper()
	c, err := blobcache.New(inner, blobcache.Options{Dir: dir, MaxBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func local(t *testing.T) *blob.Local {
	t.Helper()
	l, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// The cache in front of S3 meets the same contract as S3 itself, with room to
// spare and with a cache so small that large snapshots bypass it and the rest
// is evicted constantly.
func TestContractOverS3(t *testing.T) {
	e := awsemu.Start(t)
	n := 0
	for _, max := range []int64{256 << 20, 1 << 20} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store {
				n++
				src, art := fmt.Sprintf("src-%d", n), fmt.Sprintf("art-%d", n)
				e.CreateBucket(t, src)
				e.CreateBucket(t, art)
				s, err := s3blob.New(e.S3(t), s3blob.Options{SourceBucket: src, ArtifactsBucket: art})
				if err != nil {
					t.Fatal(err)
				}
				return newCache(t, s, t.TempDir(), max)
			})
		})
	}
}

func TestContractOverLocal(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newCache(t, local(t), t.TempDir(), 64<<20) })
}

// counting records what reaches the remote store.
type counting struct {
	blob.Store
	opens, bytesRead atomic.Int64
	slow             chan struct{} // when set, reads block until it is closed
}

func (c *counting) Open(ctx context.Context, key string) (blob.Object, error) {
	c.opens.Add(1)
	o, err := c.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &countingObject{Object: o, c: c}, nil
}

type countingObject struct {
	blob.Object
	c *counting
}

func (o *countingObject) Read(p []byte) (int, error) {
	if o.c.slow != nil {
		<-o.c.slow
	}
	n, err := o.Object.Read(p)
	o.c.bytesRead.Add(int64(n))
	return n, err
}

func snapshot(i int) string { return blob.SnapshotKey("repo", fmt.Sprintf("snap_%d", i)) }

func body(i, size int) []byte { return bytes.Repeat([]byte{byte('a' + i%26)}, size) }

func TestHitsMissesAndSharedFills(t *testing.T) {
	inner := &counting{Store: local(t)}
	c := newCache(t, inner, t.TempDir(), 10<<20)
	if _, err := inner.Store.Put(ctx, snapshot(1), bytes.NewReader(body(1, 300<<10))); err != nil {
		t.Fatal(err)
	}
	// Sixteen readers of a cold snapshot share one fill.
	inner.slow = make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := blobtest.ReadAll(t, c, snapshot(1)); !bytes.Equal(got, body(1, 300<<10)) {
				t.Error("wrong content")
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(inner.slow)
	wg.Wait()
	inner.slow = nil
	if inner.opens.Load() != 1 || inner.bytesRead.Load() != 300<<10 {
		t.Fatalf("16 cold readers: %d remote opens, %d bytes read; want one fill", inner.opens.Load(), inner.bytesRead.Load())
	}
	blobtest.ReadAll(t, c, snapshot(1))
	if inner.opens.Load() != 1 {
		t.Fatal("a warm read went to the remote store")
	}
	// Non-snapshot keys are never cached.
	inner.Store.Put(ctx, blob.ArtifactKey("s", "report.json"), strings.NewReader("{}"))
	blobtest.ReadAll(t, c, blob.ArtifactKey("s", "report.json"))
	blobtest.ReadAll(t, c, blob.ArtifactKey("s", "report.json"))
	if inner.opens.Load() != 3 {
		t.Fatalf("artifacts: %d remote opens, want 3", inner.opens.Load())
	}
	// A Put through the cache replaces the copy.
	if _, err := c.Put(ctx, snapshot(1), strings.NewReader("new")); err != nil {
		t.Fatal(err)
	}
	if got := blobtest.ReadAll(t, c, snapshot(1)); string(got) != "new" {
		t.Fatalf("after Put: %q", got)
	}
}

func TestBoundedLRUAndOpenCopiesStay(t *testing.T) {
	inner := &counting{Store: local(t)}
	const size, max = 400 << 10, 1 << 20 // room for two
	c := newCache(t, inner, t.TempDir(), max)
	for i := range 5 {
		inner.Store.Put(ctx, snapshot(i), bytes.NewReader(body(i, size)))
	}
	held, err := c.Open(ctx, snapshot(0))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 5; i++ {
		blobtest.ReadAll(t, c, snapshot(i))
		if st := c.Stats(); st.Bytes > max {
			t.Fatalf("cache holds %d bytes, bound %d", st.Bytes, max)
		}
	}
	// snapshot 0 is held open, so it stayed; 4 is the most recent.
	p := make([]byte, size)
	if n, err := held.ReadAt(p, 0); n != size || !bytes.Equal(p, body(0, size)) {
		t.Fatalf("held copy: %d, %v", n, err)
	}
	held.Close()
	before := inner.opens.Load()
	blobtest.ReadAll(t, c, snapshot(0))
	blobtest.ReadAll(t, c, snapshot(4))
	if inner.opens.Load() != before {
		t.Fatal("the held and the most recent copy were evicted")
	}
	blobtest.ReadAll(t, c, snapshot(1))
	if inner.opens.Load() != before+1 {
		t.Fatal("the least recently used copy was not the one evicted")
	}
	// Bigger than the whole cache: served from the remote store, not cached.
	inner.Store.Put(ctx, snapshot(9), bytes.NewReader(body(9, 2<<20)))
	if got := blobtest.ReadAll(t, c, snapshot(9)); !bytes.Equal(got, body(9, 2<<20)) {
		t.Fatal("uncached read differs")
	}
	if st := c.Stats(); st.Bytes > max {
		t.Fatalf("an oversized object entered the cache: %+v", st)
	}
}

func TestRestartKeepsCopiesAndChecksThemOnce(t *testing.T) {
	inner := &counting{Store: local(t)}
	dir := t.TempDir()
	c, err := blobcache.New(inner, blobcache.Options{Dir: dir, MaxBytes: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		inner.Store.Put(ctx, snapshot(i), bytes.NewReader(body(i, 100<<10)))
		blobtest.ReadAll(t, c, snapshot(i))
	}
	slot := c.Dir()
	c.Close()

	// Corrupt one copy (truncate it) and delete another at the source while "down".
	if err := os.Truncate(filepath.Join(slot, "objects", filepath.FromSlash(snapshot(1))), 10); err != nil {
		t.Fatal(err)
	}
	inner.Store.Delete(ctx, snapshot(2))

	inner.opens.Store(0)
	inner.bytesRead.Store(0)
	c = newCache(t, inner, dir, 10<<20)
	if c.Dir() != slot {
		t.Fatalf("restart took slot %s, not %s", c.Dir(), slot)
	}
	if st := c.Stats(); st.Entries != 3 {
		t.Fatalf("restart indexed %+v", st)
	}
	if got := blobtest.ReadAll(t, c, snapshot(0)); !bytes.Equal(got, body(0, 100<<10)) {
		t.Fatal("copy 0 differs after restart")
	}
	if inner.opens.Load() != 1 || inner.bytesRead.Load() != 0 {
		t.Fatalf("first read after restart: %d opens, %d bytes; want one size check and no download", inner.opens.Load(), inner.bytesRead.Load())
	}
	blobtest.ReadAll(t, c, snapshot(0))
	if inner.opens.Load() != 1 {
		t.Fatal("a checked copy was checked again")
	}
	if got := blobtest.ReadAll(t, c, snapshot(1)); !bytes.Equal(got, body(1, 100<<10)) {
		t.Fatalf("a truncated copy was served (%d bytes)", len(got))
	}
	if _, err := c.Open(ctx, snapshot(2)); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("copy of a deleted object: %v", err)
	}
}

func TestProcessesTakeSeparateSlots(t *testing.T) {
	dir := t.TempDir()
	a := newCache(t, local(t), dir, 1<<20)
	b := newCache(t, local(t), dir, 1<<20)
	if a.Dir() == b.Dir() {
		t.Fatal("two live caches share a slot")
	}
	a.Close()
	if c := newCache(t, local(t), dir, 1<<20); c.Dir() != a.Dir() {
		t.Fatalf("a freed slot was not reused: %s", c.Dir())
	}
}

const crashChildEnv = "VEGA_BLOBCACHE_CRASH_CHILD"

// TestKilledFillIsNeverServed kills a process in the middle of a fill and
// checks the next process finds the half-written file, removes it, and serves
// the full object.
func TestKilledFillIsNeverServed(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	src, dir := t.TempDir(), t.TempDir()
	inner, err := blob.NewLocal(src)
	if err != nil {
		t.Fatal(err)
	}
	const size = 8 << 20
	if _, err := inner.Put(ctx, snapshot(1), bytes.NewReader(body(1, size))); err != nil {
		t.Fatal(err)
	}
	cmd, lines := apitest.StartTestChild(t, "TestKilledFillIsNeverServed", crashChildEnv+"=1", "VEGA_CRASH_SRC="+src, "VEGA_CRASH_DIR="+dir)
	for lines.Scan() && lines.Text() != "filling" {
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	var partial []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			partial = append(partial, p)
		}
		return nil
	})
	if len(partial) != 1 {
		t.Fatalf("the killed fill left %v; the test needs exactly one half-written file", partial)
	}
	c := newCache(t, inner, dir, 64<<20)
	if _, err := os.Stat(partial[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the half-written file survived the restart")
	}
	if st := c.Stats(); st.Entries != 0 {
		t.Fatalf("a half-written file was indexed: %+v", st)
	}
	if got := blobtest.ReadAll(t, c, snapshot(1)); !bytes.Equal(got, body(1, size)) {
		t.Fatalf("served %d bytes after the crash", len(got))
	}
}

// crashChild fills a cache from a source that stalls after 1 MiB, says
// "filling", and waits to be killed.
func crashChild() {
	inner, err := blob.NewLocal(os.Getenv("VEGA_CRASH_SRC"))
	if err != nil {
		panic(err)
	}
	c, err := blobcache.New(&stalling{Store: inner}, blobcache.Options{Dir: os.Getenv("VEGA_CRASH_DIR"), MaxBytes: 64 << 20})
	if err != nil {
		panic(err)
	}
	_, _ = c.Open(ctx, snapshot(1))
	panic("the fill finished; it should have stalled")
}

type stalling struct{ blob.Store }

func (s *stalling) Open(ctx context.Context, key string) (blob.Object, error) {
	o, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &stallingObject{Object: o}, nil
}

type stallingObject struct {
	blob.Object
	n int
}

func (o *stallingObject) Read(p []byte) (int, error) {
	if o.n >= 1<<20 {
		fmt.Println("filling")
		time.Sleep(time.Hour) // wait for SIGKILL
	}
	n, err := o.Object.Read(p)
	o.n += n
	return n, err
}
