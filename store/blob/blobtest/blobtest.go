// Package blobtest is the contract every blob.Store implementation meets. The
// local directory, S3 (against the in-process emulator) and the snapshot
// cache in front of either run the very same cases:
//
//	func TestContract(t *testing.T) { blobtest.Run(t, openEmptyStore) }
//
// open must return an empty store for each call and register its cleanup
// with t.Cleanup. The keys used are the product's own (snapshots/, uploads/,
// scans/), so a store that routes by prefix is exercised on every route.
//
// Conventions the suite pins down:
//   - Open of a missing key is blob.ErrNotFound; Delete and DeletePrefix of
//     missing keys succeed; invalid keys are refused by every method.
//   - Put streams: it returns the reader's own error (errors.Is holds) and
//     then stores nothing, keeping any previous value.
//   - An open object reads the whole value it was opened on, or fails; it
//     never returns a mix of two values.
//   - ReadAt follows io.ReaderAt (io.EOF with a short read at the end) and
//     may be called concurrently.
//   - List returns exactly the keys under the prefix, in any order.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/vegasec/vega/store/blob"
)

// LargeSize is the size of the streamed object: several S3 parts plus a tail.
const LargeSize = 3*8<<20 + 12345

// Run runs every contract case against stores returned by open.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"Ping", testPing},
		{"RoundTrip", testRoundTrip},
		{"Empty", testEmpty},
		{"Replace", testReplace},
		{"MissingKeys", testMissing},
		{"InvalidKeys", testInvalidKeys},
		{"LargeStreamed", testLarge},
		{"FailedPutStoresNothing", testFailedPut},
		{"CanceledPutStoresNothing", testCanceledPut},
		{"List", testList},
		{"DeletePrefix", testDeletePrefix},
		{"DeletePrefixManyKeys", testDeletePrefixMany},
		{"ConcurrentReadersAndWriters", testConcurrent},
		{"OpenObjectSurvivesReplace", testReplaceWhileOpen},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func put(t *testing.T, s blob.Store, key string, body []byte) {
	t.Helper()
	n, err := s.Put(ctx, key, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
	if n != int64(len(body)) {
		t.Fatalf("put %s: size %d, want %d", key, n, len(body))
	}
}

// ReadAll opens key and reads it whole, failing the test on any error or
// when the bytes read differ from the object's Size.
func ReadAll(t testing.TB, s blob.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatalf("open %s: %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if int64(len(b)) != o.Size() {
		t.Fatalf("%s: read %d bytes, Size says %d", key, len(b), o.Size())
	}
	return b
}

func keys(t *testing.T, s blob.Store, prefix string) []string {
	t.Helper()
	ks, err := s.List(ctx, prefix)
	if err != nil {
		t.Fatalf("list %q: %v", prefix, err)
	}
	slices.Sort(ks)
	return ks
}

func testPing(t *testing.T, s blob.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func testRoundTrip(t *testing.T, s blob.Store) {
	body := []byte("hello, snapshot\nsecond line\n")
	for _, key := range []string{blob.SnapshotKey("repo_1", "snap_1"), blob.UploadKey("repo_1"), blob.ArtifactKey("scan_1", "report.json")} {
		put(t, s, key, body)
		if got := ReadAll(t, s, key); !bytes.Equal(got, body) {
			t.Fatalf("%s: got %q", key, got)
		}
		o, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			off  int64
			n    int
			want string
			eof  bool
		}{
			{0, 5, "hello", false},
			{7, 8, "snapshot", false},
			{int64(len(body)) - 5, 5, "line\n", false},
			{int64(len(body)) - 3, 10, "ne\n", true},
			{int64(len(body)), 4, "", true},
		} {
			p := make([]byte, c.n)
			n, err := o.ReadAt(p, c.off)
			if string(p[:n]) != c.want || (c.eof && err != io.EOF) || (!c.eof && err != nil) {
				t.Fatalf("%s: ReadAt(%d, %d) = %q, %v; want %q (eof %v)", key, c.n, c.off, p[:n], err, c.want, c.eof)
			}
		}
		o.Close()
	}
}

func testEmpty(t *testing.T, s blob.Store) {
	key := blob.ArtifactKey("scan_1", "events.jsonl")
	put(t, s, key, nil)
	if got := ReadAll(t, s, key); len(got) != 0 {
		t.Fatalf("empty blob read back %d bytes", len(got))
	}
}

func testReplace(t *testing.T, s blob.Store) {
	key := blob.UploadKey("repo_2")
	put(t, s, key, []byte("first, longer value"))
	put(t, s, key, []byte("second"))
	if got := ReadAll(t, s, key); string(got) != "second" {
		t.Fatalf("got %q after replace", got)
	}
}

func testMissing(t *testing.T, s blob.Store) {
	for _, key := range []string{blob.SnapshotKey("nope", "nope"), blob.ArtifactKey("nope", "x"), blob.UploadKey("nope")} {
		if _, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("open missing %s: %v, want ErrNotFound", key, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("delete missing %s: %v", key, err)
		}
	}
	if err := s.DeletePrefix(ctx, blob.ScanPrefix("nope")); err != nil {
		t.Fatalf("delete missing prefix: %v", err)
	}
	if ks := keys(t, s, "scans/"); len(ks) != 0 {
		t.Fatalf("empty store lists %v", ks)
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	for _, key := range []string{"", "/etc/passwd", "../escape", "scans/../../escape", "a\\b", "a\x00b", "scans//x"} {
		if _, err := s.Put(ctx, key, bytes.NewReader([]byte("x"))); err == nil {
			t.Fatalf("put %q accepted", key)
		}
		if _, err := s.Open(ctx, key); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("open %q: %v, want an invalid-key error", key, err)
		}
		if err := s.Delete(ctx, key); err == nil {
			t.Fatalf("delete %q accepted", key)
		}
	}
	if err := s.DeletePrefix(ctx, "scans"); err == nil {
		t.Fatal("DeletePrefix without a trailing slash accepted")
	}
	if err := s.DeletePrefix(ctx, "../"); err == nil {
		t.Fatal("DeletePrefix(../) accepted")
	}
}

// stream yields n pseudo-random bytes without holding them (seeded, so a
// second stream with the same seed repeats them).
type stream struct {
	rng  *rand.ChaCha8
	left int64
}

func newStream(seed byte, n int64) *stream {
	var s [32]byte
	s[0] = seed
	return &stream{rng: rand.NewChaCha8(s), left: n}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.left)]
	_, _ = s.rng.Read(p)
	s.left -= int64(len(p))
	return len(p), nil
}

func testLarge(t *testing.T, s blob.Store) {
	key := blob.SnapshotKey("repo_big", "snap_big")
	n, err := s.Put(ctx, key, newStream(7, LargeSize))
	if err != nil {
		t.Fatal(err)
	}
	if n != LargeSize {
		t.Fatalf("stored %d bytes, want %d", n, LargeSize)
	}
	want := sha256.New()
	io.Copy(want, newStream(7, LargeSize))
	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if o.Size() != LargeSize {
		t.Fatalf("Size %d", o.Size())
	}
	got := sha256.New()
	if _, err := io.Copy(got, o); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("streamed object read back differently")
	}
	// ReadAt across part boundaries (8 MiB on S3) and at the tail.
	ref := make([]byte, LargeSize)
	io.ReadFull(newStream(7, LargeSize), ref)
	for _, off := range []int64{0, 8<<20 - 3, 16<<20 - 1, LargeSize - 100, 5 << 20} {
		p := make([]byte, 64<<10)
		n, err := o.ReadAt(p, off)
		wantN := min(int64(len(p)), LargeSize-off)
		if int64(n) != wantN || (wantN == int64(len(p)) && err != nil) || !bytes.Equal(p[:n], ref[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d): %d bytes, %v", off, n, err)
		}
	}
}

// failingReader yields n bytes, then err.
type failingReader struct {
	n   int64
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	m := min(int64(len(p)), f.n)
	clear(p[:m])
	f.n -= m
	return int(m), nil
}

var errBoom = errors.New("the client went away")

func testFailedPut(t *testing.T, s blob.Store) {
	key := blob.UploadKey("repo_fail")
	for _, n := range []int64{10, 100 << 10, 10 << 20, 17 << 20} { // inside the first read, the first part, later parts
		_, err := s.Put(ctx, key, &failingReader{n: n, err: errBoom})
		if !errors.Is(err, errBoom) {
			t.Fatalf("failing after %d bytes: Put returned %v, want the reader's error", n, err)
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("failing after %d bytes left something: %v", n, err)
		}
	}
	put(t, s, key, []byte("kept"))
	if _, err := s.Put(ctx, key, &failingReader{n: 10 << 20, err: errBoom}); !errors.Is(err, errBoom) {
		t.Fatalf("Put returned %v", err)
	}
	if got := ReadAll(t, s, key); string(got) != "kept" {
		t.Fatalf("a failed replace changed the value to %d bytes", len(got))
	}
	if ks := keys(t, s, "uploads/"); !slices.Equal(ks, []string{key}) {
		t.Fatalf("failed puts left keys: %v", ks)
	}
}

// cancelAfter cancels its context once n bytes were read.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	m, err := c.r.Read(p)
	c.n -= int64(m)
	return m, err
}

func testCanceledPut(t *testing.T, s blob.Store) {
	key := blob.SnapshotKey("repo_c", "snap_c")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err := s.Put(cctx, key, &cancelAfter{r: newStream(1, 20<<20), n: 9 << 20, cancel: cancel})
	if err == nil {
		t.Fatal("Put succeeded after its context was canceled")
	}
	if _, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("canceled put left something: %v", err)
	}
}

var listed = []string{
	"snapshots/repo_1/snap_a.zip", "snapshots/repo_1/snap_a.manifest.json", "snapshots/repo_2/snap_b.zip",
	"uploads/repo_3.archive", "scans/scan_1/report.json", "scans/scan_1/events.jsonl", "scans/scan_10/summary.json",
}

func putAll(t *testing.T, s blob.Store, ks []string) {
	for _, k := range ks {
		put(t, s, k, []byte(k))
	}
}

func testList(t *testing.T, s blob.Store) {
	putAll(t, s, listed)
	for prefix, want := range map[string][]string{
		"":                  listed,
		"snapshots/":        listed[:3],
		"snapshots/repo_1/": listed[:2],
		"uploads/":          listed[3:4],
		"scans/":            listed[4:],
		"scans/scan_1/":     listed[4:6],
		"scans/scan_1":      listed[4:],
		"s":                 append(slices.Clone(listed[:3]), listed[4:]...),
		"nothing/":          nil,
	} {
		want = slices.Sorted(slices.Values(want))
		if got := keys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %v, want %v", prefix, got, want)
		}
	}
}

func testDeletePrefix(t *testing.T, s blob.Store) {
	putAll(t, s, listed)
	if err := s.DeletePrefix(ctx, blob.ScanPrefix("scan_1")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePrefix(ctx, blob.RepositoryPrefix("repo_1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, blob.UploadKey("repo_3")); err != nil {
		t.Fatal(err)
	}
	want := []string{"scans/scan_10/summary.json", "snapshots/repo_2/snap_b.zip"}
	if got := keys(t, s, ""); !slices.Equal(got, want) {
		t.Fatalf("left %v, want %v", got, want)
	}
	if _, err := s.Open(ctx, "scans/scan_1/report.json"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("deleted key opens: %v", err)
	}
}

func testDeletePrefixMany(t *testing.T, s blob.Store) {
	const n = 1010 // more than one S3 DeleteObjects batch
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := s.Put(ctx, blob.ArtifactKey("scan_many", fmt.Sprintf("f%04d", i)), bytes.NewReader([]byte{byte(i)})); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	put(t, s, blob.ArtifactKey("scan_other", "keep"), []byte("k"))
	if got := len(keys(t, s, blob.ScanPrefix("scan_many"))); got != n {
		t.Fatalf("listed %d of %d keys", got, n)
	}
	if err := s.DeletePrefix(ctx, blob.ScanPrefix("scan_many")); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s, "scans/"); !slices.Equal(got, []string{"scans/scan_other/keep"}) {
		t.Fatalf("after DeletePrefix: %d keys left (%v…)", len(got), got[:min(len(got), 3)])
	}
}

func testConcurrent(t *testing.T, s blob.Store) {
	shared := blob.SnapshotKey("repo_shared", "snap_shared")
	body := make([]byte, 3<<20)
	io.ReadFull(newStream(3, int64(len(body))), body)
	put(t, s, shared, body)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(2)
		go func() { // writers and deleters of their own keys
			defer wg.Done()
			for i := range 5 {
				key := blob.ArtifactKey(fmt.Sprintf("scan_w%d", w), fmt.Sprintf("a%d", i))
				v := []byte(key)
				if _, err := s.Put(ctx, key, bytes.NewReader(v)); err != nil {
					t.Error(err)
					return
				}
				o, err := s.Open(ctx, key)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := io.ReadAll(o)
				o.Close()
				if err != nil || !bytes.Equal(got, v) {
					t.Errorf("%s read back %q, %v", key, got, err)
				}
				if err := s.Delete(ctx, key); err != nil {
					t.Error(err)
				}
			}
		}()
		go func() { // readers of the shared key, sharing one object across goroutines
			defer wg.Done()
			o, err := s.Open(ctx, shared)
			if err != nil {
				t.Error(err)
				return
			}
			defer o.Close()
			var inner sync.WaitGroup
			for r := range 4 {
				inner.Add(1)
				go func() {
					defer inner.Done()
					rng := rand.New(rand.NewPCG(uint64(w), uint64(r)))
					for range 10 {
						off := rng.Int64N(int64(len(body)))
						p := make([]byte, 1+rng.IntN(200<<10))
						n, err := o.ReadAt(p, off)
						if (err != nil && err != io.EOF) || !bytes.Equal(p[:n], body[off:off+int64(n)]) || (n < len(p) && off+int64(n) != int64(len(body))) {
							t.Errorf("concurrent ReadAt(%d, %d) = %d, %v", len(p), off, n, err)
							return
						}
					}
				}()
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	if ks := keys(t, s, "scans/"); len(ks) != 0 {
		t.Fatalf("left %v", ks)
	}
}

// testReplaceWhileOpen replaces a value under readers that opened the old one.
// Each reader gets the whole old value, the whole new one, or an error.
func testReplaceWhileOpen(t *testing.T, s blob.Store) {
	key := blob.UploadKey("repo_swap")
	a, b := bytes.Repeat([]byte("a"), 1<<20), bytes.Repeat([]byte("b"), 1<<20+1)
	put(t, s, key, a)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			v := a
			if i%2 == 0 {
				v = b
			}
			if _, err := s.Put(ctx, key, bytes.NewReader(v)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 20 {
		o, err := s.Open(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(o)
		o.Close()
		if err != nil {
			continue // the value changed under the reader and it said so
		}
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("a reader saw a mix of two values (%d bytes)", len(got))
		}
	}
	close(done)
	wg.Wait()
}
