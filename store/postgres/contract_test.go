package postgres_test

import (
	"testing"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/storetest"
)

// TestContract runs the shared store contract (the same cases as bbolt).
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}
