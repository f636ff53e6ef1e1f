package webhooks

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres/pgtest"
)

// TestDeliverersNeverSendOneDeliveryTwice: three deliverers (as three api
// processes would) share one Postgres database; every delivery reaches the
// receiver exactly once.
func TestDeliverersNeverSendOneDeliveryTwice(t *testing.T) {
	st := pgtest.OpenStore(t)
	ctx := context.Background()
	svc, sealer, w, rcv := subscribedReceiver(t, st, http.StatusOK)
	const n = 60
	for i := 0; i < n; i++ {
		if _, err := svc.SendTest(ctx, store.OwnedBy("usr_1"), w.ID); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		d := NewDeliverer(st, sealer, DeliverOptions{AllowPrivateHosts: true, Timeout: 5 * time.Second, Concurrency: 2, Logger: quiet})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := d.DeliverDue(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if got == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for _, r := range rcv.requests() {
		if r.verified != nil {
			t.Fatalf("unverified request: %v", r.verified)
		}
		seen[r.delivery]++
	}
	if len(seen) != n {
		t.Fatalf("%d distinct deliveries received, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("delivery %s sent %d times", id, c)
		}
	}
}
