package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

func (f *fixture) webhook(p *store.Project) *store.Webhook {
	f.t.Helper()
	w := &store.Webhook{ID: store.NewID(store.PrefixWebhook), ProjectID: p.ID, OwnerUserID: p.OwnerUserID,
		URL: "https://hooks.example.com/vega", Events: []string{store.WebhookScanCompleted, store.WebhookFindingNew},
		MinSeverity: store.SeverityHigh, Format: store.WebhookFormatJSON, Description: "ci",
		SecretSealed: []byte{0, 1, 2, 250, 251}, CreatedAt: f.tick()}
	must(f.t, f.s.CreateWebhook(f.ctx, w), "CreateWebhook")
	return w
}

func (f *fixture) delivery(w *store.Webhook, due time.Time) store.WebhookDelivery {
	return store.WebhookDelivery{ID: store.NewID(store.PrefixDelivery), WebhookID: w.ID, ProjectID: w.ProjectID,
		OwnerUserID: w.OwnerUserID, Event: store.WebhookScanCompleted,
		Payload: json.RawMessage(`{"event":"scan.completed","data":{"b":1,"a":[1,2]}}`),
		Status:  store.DeliveryPending, NextAttemptAt: due, CreatedAt: f.tick(), UpdatedAt: f.clock}
}

func testWebhooks(t *testing.T, f *fixture) {
	u, other := f.user(), f.user()
	p := f.project(u.ID)
	w1, w2 := f.webhook(p), f.webhook(p)
	if w1.ID > w2.ID { // created in one millisecond: order them as the lists do
		w1, w2 = w2, w1
	}
	got, err := f.s.GetWebhook(f.ctx, store.OwnedBy(u.ID), w1.ID)
	must(t, err, "GetWebhook")
	assertSame(t, w1, got, "GetWebhook") // the sealed secret included
	_, err = f.s.GetWebhook(f.ctx, store.OwnedBy(other.ID), w1.ID)
	wantErr(t, err, store.ErrNotFound, "GetWebhook of another user")

	list, next, err := f.s.ListWebhooks(f.ctx, store.OwnedBy(u.ID), p.ID, store.Page{Limit: 1})
	must(t, err, "ListWebhooks")
	if len(list) != 1 || list[0].ID != w2.ID || next != w2.ID {
		t.Fatalf("ListWebhooks page 1 = %v next %q, want [%s] next %s", list, next, w2.ID, w2.ID)
	}
	list, next, err = f.s.ListWebhooks(f.ctx, store.OwnedBy(u.ID), p.ID, store.Page{Limit: 1, Cursor: next})
	must(t, err, "ListWebhooks page 2")
	if len(list) != 1 || list[0].ID != w1.ID || next != "" {
		t.Fatalf("ListWebhooks page 2 = %v next %q, want [%s]", list, next, w1.ID)
	}
	_, _, err = f.s.ListWebhooks(f.ctx, store.OwnedBy(other.ID), p.ID, store.Page{})
	wantErr(t, err, store.ErrNotFound, "ListWebhooks of another user's project")
	err = f.s.CreateWebhook(f.ctx, &store.Webhook{ProjectID: store.NewID(store.PrefixProject), OwnerUserID: u.ID,
		URL: "https://x.example", Events: []string{store.WebhookScanFailed}, Format: store.WebhookFormatJSON, SecretSealed: []byte{1}})
	wantErr(t, err, store.ErrNotFound, "CreateWebhook under a missing project")

	// Deliveries: created, listed newest first, scoped.
	d1, d2 := f.delivery(w1, f.clock), f.delivery(w1, f.clock)
	ids := ascendingIDs(store.PrefixDelivery, 2)
	d1.ID, d2.ID = ids[0], ids[1]
	must(t, f.s.CreateWebhookDeliveries(f.ctx, []store.WebhookDelivery{d1, d2}), "CreateWebhookDeliveries")
	gd, err := f.s.GetWebhookDelivery(f.ctx, store.OwnedBy(u.ID), d1.ID)
	must(t, err, "GetWebhookDelivery")
	assertSame(t, &d1, gd, "GetWebhookDelivery")
	_, err = f.s.GetWebhookDelivery(f.ctx, store.OwnedBy(other.ID), d1.ID)
	wantErr(t, err, store.ErrNotFound, "GetWebhookDelivery of another user")
	ds, next, err := f.s.ListWebhookDeliveries(f.ctx, store.OwnedBy(u.ID), w1.ID, store.Page{})
	must(t, err, "ListWebhookDeliveries")
	if len(ds) != 2 || ds[0].ID != d2.ID || ds[1].ID != d1.ID || next != "" {
		t.Fatalf("ListWebhookDeliveries = %v, want [%s %s]", ds, d2.ID, d1.ID)
	}
	_, _, err = f.s.ListWebhookDeliveries(f.ctx, store.OwnedBy(other.ID), w1.ID, store.Page{})
	wantErr(t, err, store.ErrNotFound, "ListWebhookDeliveries of another user")
	err = f.s.CreateWebhookDeliveries(f.ctx, []store.WebhookDelivery{f.delivery(&store.Webhook{ID: store.NewID(store.PrefixWebhook),
		ProjectID: p.ID, OwnerUserID: u.ID}, f.clock)})
	wantErr(t, err, store.ErrNotFound, "delivery of a missing webhook")

	// Update: fields saved, identity fixed, an error aborts.
	at := f.tick()
	upd, err := f.s.UpdateWebhookDelivery(f.ctx, d1.ID, func(d *store.WebhookDelivery) error {
		d.Status, d.UpdatedAt, d.OwnerUserID = store.DeliverySucceeded, at, other.ID
		d.Attempts = append(d.Attempts, store.DeliveryAttempt{At: at, DurationMS: 12, ResponseCode: 204})
		return nil
	})
	must(t, err, "UpdateWebhookDelivery")
	if upd.OwnerUserID != u.ID {
		t.Fatalf("UpdateWebhookDelivery changed the owner")
	}
	gd, err = f.s.GetWebhookDelivery(f.ctx, store.System(), d1.ID)
	must(t, err, "read back")
	assertSame(t, upd, gd, "delivery after update")
	checkAbortedUpdate(t, "UpdateWebhookDelivery",
		func() (*store.WebhookDelivery, error) { return f.s.GetWebhookDelivery(f.ctx, store.System(), d1.ID) },
		func(fn func(*store.WebhookDelivery) error) (*store.WebhookDelivery, error) {
			return f.s.UpdateWebhookDelivery(f.ctx, d1.ID, fn)
		},
		func(d *store.WebhookDelivery) { d.Status = store.DeliveryFailed })
	_, err = f.s.UpdateWebhookDelivery(f.ctx, store.NewID(store.PrefixDelivery), func(*store.WebhookDelivery) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateWebhookDelivery missing")

	// Retention: settled deliveries older than the cut-off go, pending ones stay.
	n, err := f.s.DeleteSettledWebhookDeliveries(f.ctx, at)
	must(t, err, "DeleteSettledWebhookDeliveries before the update")
	if n != 0 {
		t.Fatalf("deleted %d deliveries updated at the cut-off", n)
	}
	n, err = f.s.DeleteSettledWebhookDeliveries(f.ctx, at.Add(time.Hour))
	must(t, err, "DeleteSettledWebhookDeliveries")
	if n != 1 {
		t.Fatalf("deleted %d settled deliveries, want 1", n)
	}
	_, err = f.s.GetWebhookDelivery(f.ctx, store.System(), d1.ID)
	wantErr(t, err, store.ErrNotFound, "settled delivery after retention")
	ds, _, err = f.s.ListWebhookDeliveries(f.ctx, store.System(), w1.ID, store.Page{})
	must(t, err, "list after retention")
	if len(ds) != 1 || ds[0].ID != d2.ID {
		t.Fatalf("after retention: %v, want only the pending %s", ds, d2.ID)
	}

	// Deleting a webhook deletes its deliveries; deleting the project its webhooks.
	must(t, f.s.DeleteWebhook(f.ctx, store.OwnedBy(u.ID), w1.ID), "DeleteWebhook")
	_, err = f.s.GetWebhookDelivery(f.ctx, store.System(), d2.ID)
	wantErr(t, err, store.ErrNotFound, "delivery of a deleted webhook")
	wantErr(t, f.s.DeleteWebhook(f.ctx, store.OwnedBy(other.ID), w2.ID), store.ErrNotFound, "DeleteWebhook of another user")
	d3 := f.delivery(w2, f.clock)
	must(t, f.s.CreateWebhookDeliveries(f.ctx, []store.WebhookDelivery{d3}), "delivery of w2")
	must(t, f.s.DeleteProject(f.ctx, store.OwnedBy(u.ID), p.ID), "DeleteProject")
	_, err = f.s.GetWebhook(f.ctx, store.System(), w2.ID)
	wantErr(t, err, store.ErrNotFound, "webhook of a deleted project")
	claimed, err := f.s.ClaimWebhookDeliveries(f.ctx, f.tick(), f.clock.Add(time.Minute), "t", 10)
	wantNone(t, claimed, err, "claim after project deletion")
}

func testClaimWebhookDeliveries(t *testing.T, f *fixture) {
	u := f.user()
	w := f.webhook(f.project(u.ID))
	base := f.tick()
	early, late, future := f.delivery(w, base.Add(-2*time.Second)), f.delivery(w, base.Add(-time.Second)), f.delivery(w, base.Add(time.Hour))
	done := f.delivery(w, base.Add(-time.Hour))
	done.Status = store.DeliverySucceeded
	must(t, f.s.CreateWebhookDeliveries(f.ctx, []store.WebhookDelivery{late, future, early, done}), "create")

	lease := base.Add(30 * time.Second)
	got, err := f.s.ClaimWebhookDeliveries(f.ctx, base, lease, "lease-1", 1)
	must(t, err, "claim 1")
	if len(got) != 1 || got[0].ID != early.ID || got[0].LeaseToken != "lease-1" || !got[0].NextAttemptAt.Equal(lease) {
		t.Fatalf("first claim = %+v, want the earliest due (%s) leased to lease-1 until %v", got, early.ID, lease)
	}
	got, err = f.s.ClaimWebhookDeliveries(f.ctx, base, lease, "lease-2", 10)
	must(t, err, "claim 2")
	if len(got) != 1 || got[0].ID != late.ID {
		t.Fatalf("second claim = %+v, want only %s (the others are leased, not due or done)", got, late.ID)
	}
	// A lease that ran out makes the delivery due again.
	got, err = f.s.ClaimWebhookDeliveries(f.ctx, lease, lease.Add(time.Minute), "lease-3", 10)
	must(t, err, "claim after the lease")
	if len(got) != 2 {
		t.Fatalf("claim after the lease got %d, want the 2 expired leases", len(got))
	}
	// Settled deliveries are never claimed again.
	for _, d := range got {
		_, err := f.s.UpdateWebhookDelivery(f.ctx, d.ID, func(x *store.WebhookDelivery) error {
			x.Status, x.LeaseToken = store.DeliveryFailed, ""
			return nil
		})
		must(t, err, "settle")
	}
	got, err = f.s.ClaimWebhookDeliveries(f.ctx, base.Add(2*time.Hour), base.Add(3*time.Hour), "lease-4", 10)
	must(t, err, "claim later")
	if len(got) != 1 || got[0].ID != future.ID {
		t.Fatalf("later claim = %+v, want only %s", got, future.ID)
	}

	// Concurrent claims never hand one delivery to two claimers.
	var batch []store.WebhookDelivery
	for i := 0; i < 40; i++ {
		batch = append(batch, f.delivery(w, base))
	}
	must(t, f.s.CreateWebhookDeliveries(f.ctx, batch), "create batch")
	now := base.Add(time.Second)
	var mu sync.Mutex
	seen := map[string]int{}
	Parallel(t, 4, func(int) error {
		for {
			got, err := f.s.ClaimWebhookDeliveries(f.ctx, now, now.Add(time.Hour), "c", 3)
			if err != nil {
				return fmt.Errorf("concurrent claim: %w", err)
			}
			if len(got) == 0 {
				return nil
			}
			mu.Lock()
			for _, d := range got {
				seen[d.ID]++
			}
			mu.Unlock()
		}
	})
	if len(seen) != len(batch) {
		t.Fatalf("concurrent claims got %d distinct deliveries, want %d", len(seen), len(batch))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("delivery %s claimed %d times", id, n)
		}
	}
}
