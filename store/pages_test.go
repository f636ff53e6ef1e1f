package store_test

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/vegasec/vega/store"
)

// pagedInts serves 0..n-1 in pages, the cursor being the next index.
func pagedInts(n int, seen *[]store.Page) func(context.Context, store.Page) ([]int, string, error) {
	return func(_ context.Context, p store.Page) ([]int, string, error) {
		*seen = append(*seen, p)
		start := 0
		if p.Cursor != "" {
			start, _ = strconv.Atoi(p.Cursor)
		}
		end := min(start+p.Limit, n)
		var out []int
		for i := start; i < end; i++ {
			out = append(out, i)
		}
		if end == n {
			return out, "", nil
		}
		return out, strconv.Itoa(end), nil
	}
}

func TestAllDrainsEveryPage(t *testing.T) {
	var seen []store.Page
	got, err := store.All(context.Background(), pagedInts(store.MaxLimit*2+3, &seen))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != store.MaxLimit*2+3 || got[0] != 0 || got[len(got)-1] != store.MaxLimit*2+2 {
		t.Fatalf("got %d items, first %d, last %d", len(got), got[0], got[len(got)-1])
	}
	want := []store.Page{{Limit: store.MaxLimit}, {Limit: store.MaxLimit, Cursor: "500"}, {Limit: store.MaxLimit, Cursor: "1000"}}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("pages asked = %+v, want %+v", seen, want)
	}
}

func TestAllEmptyAndError(t *testing.T) {
	var seen []store.Page
	got, err := store.All(context.Background(), pagedInts(0, &seen))
	if err != nil || got == nil || len(got) != 0 || len(seen) != 1 {
		t.Fatalf("empty list: got %v, %v after %d pages", got, err, len(seen))
	}
	boom := errors.New("boom")
	calls := 0
	_, err = store.All(context.Background(), func(context.Context, store.Page) ([]int, string, error) {
		calls++
		if calls == 2 {
			return nil, "", boom
		}
		return []int{calls}, "more", nil
	})
	if !errors.Is(err, boom) || calls != 2 {
		t.Fatalf("err = %v after %d calls, want boom after 2", err, calls)
	}
}
