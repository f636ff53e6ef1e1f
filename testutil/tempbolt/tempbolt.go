// Package tempbolt opens throwaway bolt stores for tests and benchmarks.
package tempbolt

import (
	"path/filepath"
	"testing"

	"github.com/vegasec/vega/store/bolt"
)

// Open returns a fresh bolt store in tb's temp directory, closed when tb
// ends: the one-line fixture that service tests used to write out each time.
func Open(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "vega.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
