package quota

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/testutil/tempbolt"
)

// Concurrent creates cannot both take the last place: the check and the
// write run under one lock.
func TestAddProjectIsSerialised(t *testing.T) {
	st := tempbolt.Open(t)
	q := New(st, Limits{Projects: 5})
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, refused := 0, 0
	for range 20 {
		wg.Go(func() {
			now := time.Now().UTC()
			p := &store.Project{ID: store.NewID(store.PrefixProject), OwnerUserID: "usr_a", Name: "p", CreatedAt: now, UpdatedAt: now}
			err := q.AddProject(ctx, "usr_a", func() error { return st.CreateProject(ctx, p) })
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case apperr.IsCode(err, apperr.QuotaExceeded):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if created != 5 || refused != 15 {
		t.Fatalf("created %d, refused %d; want 5 and 15", created, refused)
	}
}

func TestUnlimitedAndRoom(t *testing.T) {
	st := tempbolt.Open(t)
	ctx := context.Background()
	if room, err := New(st, Limits{}).RoomToStore(ctx, "usr_a"); err != nil || room <= 1<<62 {
		t.Fatalf("unlimited room = %d, %v", room, err)
	}
	q := New(st, Limits{StoredBytes: 1000})
	if room, err := q.RoomToStore(ctx, "usr_a"); err != nil || room != 1000 {
		t.Fatalf("room = %d, %v", room, err)
	}
	cut := apperr.New(apperr.PayloadTooLarge, "cut off")
	if err := q.Upload(cut, 400); !apperr.IsCode(err, apperr.QuotaExceeded) {
		t.Fatalf("an upload cut at the room left is %v", err)
	}
	if err := q.AddSnapshot(ctx, "usr_a", 1001, func() error { t.Fatal("added over the quota"); return nil }); !apperr.IsCode(err, apperr.QuotaExceeded) {
		t.Fatalf("snapshot over the quota: %v", err)
	}
}
