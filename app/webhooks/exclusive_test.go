package webhooks

import (
	"context"
	"net/http"
	"strings"
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
	sealer, _ := NewSealer(strings.Repeat("s", 40))
	p := &store.Project{OwnerUserID: "usr_1", Name: "P"}
	if err := st.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t, func(int) int { return http.StatusOK })
	svc := New(st, Options{AllowPrivateHosts: true, Sealer: sealer})
	w, err := svc.Create(ctx, store.OwnedBy("usr_1"), p.ID, Input{URL: rcv.URL, Events: []string{store.WebhookScanCompleted}})
	if err != nil {
		t.Fatal(err)
	}
	rcv.secret = w.Secret
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
