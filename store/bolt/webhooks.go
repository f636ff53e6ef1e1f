package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/vegasec/vega/store"
)

func dueKey(at time.Time, id string) []byte {
	return append(uint64Key(uint64(at.UnixNano())), id...)
}

func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	store.Stamp(&w.ID, &w.CreatedAt, store.PrefixWebhook, s.nowUTC())
	return s.update(ctx, func(tx *bolt.Tx) error {
		if err := insertUnder(tx, projects, w.ProjectID, webhooks, w); err != nil {
			return err
		}
		return tx.Bucket(idxWebhookProject).Put(compositeKey(w.ProjectID, w.ID), nil)
	})
}

func (s *Store) GetWebhook(ctx context.Context, sc store.Scope, id string) (*store.Webhook, error) {
	return webhooks.read(ctx, s, sc, id)
}

// idsUnder returns the IDs after prefix in the keys of idx, sorted.
func idsUnder(idx *bolt.Bucket, prefix []byte) []string {
	var ids []string
	c := idx.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		ids = append(ids, string(k[len(prefix):]))
	}
	slices.Sort(ids)
	return ids
}

// pageIDs picks one page of ids (sorted ascending) newest first, below
// p.Cursor, and the next cursor ("" on the last page).
func pageIDs(ids []string, p store.Page) ([]string, string) {
	p = p.Normalize()
	var out []string
	for i := len(ids) - 1; i >= 0; i-- {
		if p.Cursor != "" && ids[i] >= p.Cursor {
			continue
		}
		if len(out) == p.Limit {
			return out, out[len(out)-1]
		}
		out = append(out, ids[i])
	}
	return out, ""
}

func (s *Store) ListWebhooks(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Webhook, string, error) {
	return webhooks.pageUnder(ctx, s, sc, projects.visibleIn, idxWebhookProject, projectID, p)
}

// pageUnder returns one page, newest first, of t's records that idx lists
// under parentID, once the parent, as sc sees it, proves to exist (another
// user's parent is ErrNotFound).
func (t table[R, T]) pageUnder(ctx context.Context, s *Store, sc store.Scope, parentIn func(*bolt.Tx, store.Scope, string) error,
	idx []byte, parentID string, p store.Page) ([]T, string, error) {
	out := []T{}
	var next string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if err := parentIn(tx, sc, parentID); err != nil {
			return err
		}
		var ids []string
		ids, next = pageIDs(idsUnder(tx.Bucket(idx), compositeKey(parentID, "")), p)
		for _, id := range ids {
			v, err := t.getIn(tx, sc, id)
			if err != nil {
				return err
			}
			out = append(out, *v)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

func (s *Store) DeleteWebhook(ctx context.Context, sc store.Scope, id string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		w, err := webhooks.getIn(tx, sc, id)
		if err != nil {
			return err
		}
		return deleteWebhook(tx, w)
	})
}

func deleteWebhook(tx *bolt.Tx, w *store.Webhook) error {
	prefix := compositeKey(w.ID, "")
	for _, did := range idsUnder(tx.Bucket(idxDeliveryHook), prefix) {
		d, err := deliveries.get(tx, did)
		if err != nil {
			return err
		}
		if err := tx.Bucket(idxDeliveryDue).Delete(dueKey(d.NextAttemptAt, did)); err != nil {
			return err
		}
		if err := deliveries.delete(tx, did); err != nil {
			return err
		}
	}
	if err := deletePrefix(tx.Bucket(idxDeliveryHook), prefix); err != nil {
		return err
	}
	if err := tx.Bucket(idxWebhookProject).Delete(compositeKey(w.ProjectID, w.ID)); err != nil {
		return err
	}
	return webhooks.delete(tx, w.ID)
}

func deleteWebhooksOfProject(tx *bolt.Tx, projectID string) error {
	for _, id := range idsUnder(tx.Bucket(idxWebhookProject), compositeKey(projectID, "")) {
		w, err := webhooks.get(tx, id)
		if err != nil {
			return err
		}
		if err := deleteWebhook(tx, w); err != nil {
			return err
		}
	}
	return nil
}

// putDelivery saves d and keeps the due index in step with its status
// and due time (old is the stored version, nil for a new one).
func putDelivery(tx *bolt.Tx, old, d *store.WebhookDelivery) error {
	due := tx.Bucket(idxDeliveryDue)
	if old != nil && old.Status == store.DeliveryPending {
		if err := due.Delete(dueKey(old.NextAttemptAt, old.ID)); err != nil {
			return err
		}
	}
	if d.Status == store.DeliveryPending {
		if err := due.Put(dueKey(d.NextAttemptAt, d.ID), nil); err != nil {
			return err
		}
	}
	return deliveries.put(tx, d)
}

func (s *Store) CreateWebhookDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	now := s.nowUTC()
	return s.update(ctx, func(tx *bolt.Tx) error {
		for i := range ds {
			d := &ds[i]
			stampCreated(&d.ID, &d.CreatedAt, &d.UpdatedAt, store.PrefixDelivery, now)
			if d.NextAttemptAt.IsZero() {
				d.NextAttemptAt = d.CreatedAt
			}
			if _, err := webhooks.get(tx, d.WebhookID); err != nil {
				return err
			}
			if deliveries.has(tx, d.ID) {
				return store.ErrConflict
			}
			if err := tx.Bucket(idxDeliveryHook).Put(compositeKey(d.WebhookID, d.ID), nil); err != nil {
				return err
			}
			if err := putDelivery(tx, nil, d); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) GetWebhookDelivery(ctx context.Context, sc store.Scope, id string) (*store.WebhookDelivery, error) {
	return deliveries.read(ctx, s, sc, id)
}

func (s *Store) ListWebhookDeliveries(ctx context.Context, sc store.Scope, webhookID string, p store.Page) ([]store.WebhookDelivery, string, error) {
	return deliveries.pageUnder(ctx, s, sc, webhooks.visibleIn, idxDeliveryHook, webhookID, p)
}

// ClaimWebhookDeliveries walks the due index from the earliest; bbolt's
// single writer makes the claim atomic.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, leaseEnd time.Time, token string, limit int) ([]store.WebhookDelivery, error) {
	var out []store.WebhookDelivery
	err := s.update(ctx, func(tx *bolt.Tx) error {
		out = nil
		var ids []string
		c := tx.Bucket(idxDeliveryDue).Cursor()
		for k, _ := c.First(); k != nil && len(ids) < limit; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[:8])) > now.UnixNano() {
				break
			}
			ids = append(ids, string(k[8:]))
		}
		for _, id := range ids {
			d, err := deliveries.get(tx, id)
			if err != nil {
				return err
			}
			old := *d
			d.NextAttemptAt, d.LeaseToken = leaseEnd.UTC(), token
			if err := putDelivery(tx, &old, d); err != nil {
				return err
			}
			out = append(out, *d)
		}
		return nil
	})
	return out, err
}

func (s *Store) UpdateWebhookDelivery(ctx context.Context, id string, fn func(*store.WebhookDelivery) error) (*store.WebhookDelivery, error) {
	return deliveries.update(ctx, s, store.System(), id, fn, putDelivery)
}

// DeleteSettledWebhookDeliveries walks every delivery: it runs in daily
// maintenance, and a settled delivery has no index of its own to seek by.
func (s *Store) DeleteSettledWebhookDeliveries(ctx context.Context, before time.Time) (int, error) {
	return valueIn(ctx, s.update, func(tx *bolt.Tx) (int, error) {
		return deliveries.applyWhere(tx, func(d *store.WebhookDelivery) bool {
			return d.Status != store.DeliveryPending && d.UpdatedAt.Before(before)
		}, func(d *store.WebhookDelivery) error {
			if err := tx.Bucket(idxDeliveryHook).Delete(compositeKey(d.WebhookID, d.ID)); err != nil {
				return err
			}
			return deliveries.delete(tx, d.ID)
		})
	})
}
