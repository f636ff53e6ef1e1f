package storetest

import (
	"sync"
	"testing"

	"github.com/vegasec/vega/store"
)

// Small checks the contract cases share, so each case states what it expects
// of a store instead of spelling out the same calls and comparisons again.

// Parallel runs fn(0) … fn(n-1) in n goroutines, waits for all of them and
// fails t with the errors they return: the fan-out of every concurrency case,
// here and in the store packages' own cross-process tests.
func Parallel(t testing.TB, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// wantNone fails unless a list call succeeded and returned no items.
func wantNone[T any](t testing.TB, xs []T, err error, what string) {
	t.Helper()
	must(t, err, what)
	if len(xs) != 0 {
		t.Fatalf("%s: got %d items, want none: %+v", what, len(xs), xs)
	}
}

// checkLookup reads want back by its secret key and checks an unknown key is
// ErrNotFound: the contract of every lookup by a token or key hash.
func checkLookup[T any](t testing.TB, what string, want *T, key, unknown string, get func(string) (*T, error)) {
	t.Helper()
	got, err := get(key)
	must(t, err, what)
	assertSame(t, want, got, what)
	_, err = get(unknown)
	wantErr(t, err, store.ErrNotFound, what+" missing")
}

// checkAbortedUpdate runs an update whose callback changes the object and
// then fails: the callback's error must come back as is, and the stored
// object must read back exactly as it was before.
func checkAbortedUpdate[T any](t testing.TB, what string, read func() (*T, error), update func(func(*T) error) (*T, error), change func(*T)) {
	t.Helper()
	before, err := read()
	must(t, err, "read before "+what)
	_, err = update(func(x *T) error {
		change(x)
		return errAbort
	})
	wantErr(t, err, errAbort, what+" callback error")
	after, err := read()
	must(t, err, "read back")
	assertSame(t, before, after, "aborted "+what+" was saved")
}

// checkStored reads want back with get, then checks that creating it again
// (same ID) is ErrConflict.
func checkStored[T any](t testing.TB, what string, want *T, get func() (*T, error), create func(*T) error) {
	t.Helper()
	got, err := get()
	must(t, err, what)
	assertSame(t, want, got, what)
	wantErr(t, create(want), store.ErrConflict, what+": create again with the same ID")
}

// filterCase is one row of a table-driven list test: a filter and the IDs it
// must list.
type filterCase[F any] struct {
	name string
	f    F
	want []string
}

// checkOnePage checks a list call returned exactly want, newest first, on a
// single page.
func checkOnePage(t testing.TB, what string, want, got []string, next string, err error) {
	t.Helper()
	must(t, err, what)
	sameOrder(t, newestFirst(want), got, what)
	if next != "" {
		t.Fatalf("%s: next %q on a single page", what, next)
	}
}
