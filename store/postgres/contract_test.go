package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/store/storetest"
)

// TestContract runs the shared store contract (the same cases as bbolt). The
// cases share one migrated database and each starts from emptied tables:
// creating a database costs ~1 s here and TRUNCATE (new files, one fsync per
// relation) most of that; DELETE on these tiny tables is one commit.
func TestContract(t *testing.T) {
	base := pgtest.OpenStore(t)
	dsn := base.Pool().Config().ConnString()
	storetest.Run(t, func(t *testing.T) store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pgtest.Empty(t, ctx, base.Pool())
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
