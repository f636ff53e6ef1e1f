package bolt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "vega.db")
	ctx := context.Background()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := &store.User{ID: store.NewID(store.PrefixUser), Email: "a@example.com", PasswordHash: "h"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("database file mode %o, want 600", mode)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetUserByEmail(ctx, "A@example.com")
	if err != nil {
		t.Fatalf("user lost across reopen: %v", err)
	}
	if got.ID != u.ID || got.PasswordHash != "h" {
		t.Fatalf("user after reopen = %+v", got)
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vega.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	start := time.Now()
	_, err = Open(path, WithOpenTimeout(200*time.Millisecond))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: got %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

func TestClosedStoreFailsPing(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "vega.db"))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Fatal("Ping on a closed store succeeded")
	}
}

func TestCancelledContext(t *testing.T) {
	s := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.CreateUser(ctx, &store.User{Email: "x@example.com"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateUser with a cancelled context: %v", err)
	}
}

func openBench(tb testing.TB) store.Store { return openTemp(tb) }

func BenchmarkAppendEvents(b *testing.B) { storetest.BenchmarkAppendEvents(b, openBench) }

func BenchmarkListEventsAfterSeq(b *testing.B) { storetest.BenchmarkListEventsAfterSeq(b, openBench) }
