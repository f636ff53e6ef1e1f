package webhooks

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/tempbolt"
)

// benchDelivery measures the whole path of one delivery to a local
// receiver: stored, claimed, signed, POSTed, outcome recorded.
func benchDelivery(b *testing.B, st store.Store) {
	svc, d, w, rcv := benchSetup(b, st)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.SendTest(ctx, store.OwnedBy("usr_1"), w.ID); err != nil {
			b.Fatal(err)
		}
		if n, err := d.DeliverDue(ctx); n != 1 || err != nil {
			b.Fatalf("DeliverDue = %d, %v", n, err)
		}
	}
	b.StopTimer()
	if got := len(rcv.requests()); got != b.N {
		b.Fatalf("receiver got %d, want %d", got, b.N)
	}
}

// benchBacklog measures draining a backlog (b.N deliveries queued at once,
// as after an outage): attempts run Concurrency at a time.
func benchBacklog(b *testing.B, st store.Store) {
	_, d, w, rcv := benchSetup(b, st)
	ctx := context.Background()
	n := &Notifier{st: st, now: time.Now}
	ev := Event{SchemaVersion: 1, Event: store.WebhookScanCompleted}
	var ds []store.WebhookDelivery
	for i := 0; i < b.N; i++ {
		del, _ := n.delivery(&w.Webhook, &ev)
		ds = append(ds, del)
	}
	if err := st.CreateWebhookDeliveries(ctx, ds); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for {
		got, err := d.DeliverDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if got == 0 {
			break
		}
	}
	b.StopTimer()
	if got := len(rcv.requests()); got != b.N {
		b.Fatalf("receiver got %d, want %d", got, b.N)
	}
}

func benchSetup(b *testing.B, st store.Store) (*Service, *Deliverer, *Created, *receiver) {
	svc, sealer, w, rcv := subscribedReceiver(b, st, http.StatusNoContent)
	d := NewDeliverer(st, sealer, DeliverOptions{AllowPrivateHosts: true, Timeout: 5 * time.Second, Logger: quiet})
	return svc, d, w, rcv
}

// subscribedReceiver gives usr_1 a project on st whose webhook (scan
// completed) points at a new receiver answering status: the setup the
// delivery benchmarks and the cross-process test share.
func subscribedReceiver(tb testing.TB, st store.Store, status int) (*Service, *Sealer, *Created, *receiver) {
	tb.Helper()
	ctx := context.Background()
	sealer, _ := NewSealer(strings.Repeat("s", 40))
	p := &store.Project{OwnerUserID: "usr_1", Name: "P"}
	if err := st.CreateProject(ctx, p); err != nil {
		tb.Fatal(err)
	}
	rcv := newReceiver(tb, func(int) int { return status })
	svc := New(st, Options{AllowPrivateHosts: true, Sealer: sealer})
	w, err := svc.Create(ctx, store.OwnedBy("usr_1"), p.ID, Input{URL: rcv.URL, Events: []string{store.WebhookScanCompleted}})
	if err != nil {
		tb.Fatal(err)
	}
	rcv.secret = w.Secret
	return svc, sealer, w, rcv
}

func BenchmarkDeliveryBolt(b *testing.B) {
	benchDelivery(b, tempbolt.Open(b))
}

func BenchmarkDeliveryPostgres(b *testing.B) { benchDelivery(b, pgtest.OpenStore(b)) }

func BenchmarkBacklogBolt(b *testing.B) {
	benchBacklog(b, tempbolt.Open(b))
}

func BenchmarkBacklogPostgres(b *testing.B) { benchBacklog(b, pgtest.OpenStore(b)) }
