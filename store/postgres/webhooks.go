package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var webhooks = table[store.Webhook]{name: "webhooks", owner: "owner_user_id",
	cols: `id, project_id, owner_user_id, url, events, min_severity, format, description, secret_sealed, created_at`,
	dests: func(w *store.Webhook) []any {
		return []any{&w.ID, &w.ProjectID, &w.OwnerUserID, &w.URL, jsonCol{&w.Events}, &w.MinSeverity, &w.Format,
			&w.Description, &w.SecretSealed, &w.CreatedAt}
	}}

var deliveries = table[store.WebhookDelivery]{name: "webhook_deliveries", owner: "owner_user_id",
	cols: `id, webhook_id, project_id, owner_user_id, event, payload, status, next_attempt_at, lease_token, attempts, created_at, updated_at`,
	dests: func(d *store.WebhookDelivery) []any {
		return []any{&d.ID, &d.WebhookID, &d.ProjectID, &d.OwnerUserID, &d.Event, (*[]byte)(&d.Payload), &d.Status,
			&d.NextAttemptAt, &d.LeaseToken, jsonCol{&d.Attempts}, &d.CreatedAt, &d.UpdatedAt}
	}}

// CreateWebhook stores w; ErrNotFound when its project does not exist.
func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	store.Stamp(&w.ID, &w.CreatedAt, store.PrefixWebhook, s.nowUTC())
	w.CreatedAt = ts(w.CreatedAt)
	return webhooks.create(ctx, s, "create webhook",
		w.ID, w.ProjectID, w.OwnerUserID, w.URL, toJSON(w.Events), w.MinSeverity, w.Format, w.Description,
		w.SecretSealed, w.CreatedAt)
}

func (s *Store) GetWebhook(ctx context.Context, sc store.Scope, id string) (*store.Webhook, error) {
	return webhooks.get(ctx, s, "get webhook", sc, id)
}

// ListWebhooks lists a project's webhooks; ErrNotFound when sc may not see the project.
func (s *Store) ListWebhooks(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Webhook, string, error) {
	return webhooks.listUnder(ctx, s, "list webhooks", sc, projects.name, "project_id", projectID, p)
}

// DeleteWebhook deletes the webhook; its deliveries go with it (foreign key).
func (s *Store) DeleteWebhook(ctx context.Context, sc store.Scope, id string) error {
	return webhooks.delete(ctx, s, "delete webhook", sc, id)
}

func (s *Store) CreateWebhookDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	now := s.nowUTC()
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.inTx(ctx, "create webhook deliveries", func(tx pgx.Tx) error {
		for i := range ds {
			d := &ds[i]
			store.StampDelivery(d, now)
			d.CreatedAt, d.UpdatedAt, d.NextAttemptAt = ts(d.CreatedAt), ts(d.UpdatedAt), ts(d.NextAttemptAt)
			tsAttempts(d.Attempts)
			if err := deliveries.insert(ctx, tx, "create webhook delivery",
				d.ID, d.WebhookID, d.ProjectID, d.OwnerUserID, d.Event, []byte(d.Payload), d.Status, d.NextAttemptAt,
				d.LeaseToken, attemptsJSON(d.Attempts), d.CreatedAt, d.UpdatedAt); err != nil {
				return err
			}
		}
		return nil
	})
}

// tsAttempts normalises the attempts' times in place.
func tsAttempts(as []store.DeliveryAttempt) {
	for j := range as {
		as[j].At = ts(as[j].At)
	}
}

// attemptsJSON encodes attempts, an empty list for none (the column is NOT NULL).
func attemptsJSON(a []store.DeliveryAttempt) []byte {
	if a == nil {
		return []byte("[]")
	}
	return toJSON(a)
}

func (s *Store) GetWebhookDelivery(ctx context.Context, sc store.Scope, id string) (*store.WebhookDelivery, error) {
	return deliveries.get(ctx, s, "get webhook delivery", sc, id)
}

// ListWebhookDeliveries lists a webhook's deliveries; ErrNotFound when sc may not see the webhook.
func (s *Store) ListWebhookDeliveries(ctx context.Context, sc store.Scope, webhookID string, p store.Page) ([]store.WebhookDelivery, string, error) {
	return deliveries.listUnder(ctx, s, "list webhook deliveries", sc, webhooks.name, "webhook_id", webhookID, p)
}

// ClaimWebhookDeliveries leases due deliveries in one statement: SKIP LOCKED
// lets concurrent deliverers (api tasks) claim disjoint sets without waiting.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, leaseEnd time.Time, token string, limit int) ([]store.WebhookDelivery, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "claim webhook deliveries", `UPDATE webhook_deliveries SET next_attempt_at = $2, lease_token = $3
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveries.cols, []any{ts(now), ts(leaseEnd), token, limit}, deliveries.scan)
}

func (s *Store) UpdateWebhookDelivery(ctx context.Context, id string, fn func(*store.WebhookDelivery) error) (*store.WebhookDelivery, error) {
	return deliveries.update(ctx, s, "update webhook delivery", store.System(), id, fn,
		func(old, d *store.WebhookDelivery) {
			d.ID, d.WebhookID, d.ProjectID, d.OwnerUserID, d.CreatedAt = old.ID, old.WebhookID, old.ProjectID, old.OwnerUserID, old.CreatedAt
		},
		func(ctx context.Context, tx pgx.Tx, d *store.WebhookDelivery) error {
			d.NextAttemptAt, d.UpdatedAt = ts(d.NextAttemptAt), ts(d.UpdatedAt)
			tsAttempts(d.Attempts)
			_, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET event=$2, payload=$3, status=$4, next_attempt_at=$5,
				lease_token=$6, attempts=$7, updated_at=$8 WHERE id=$1`,
				d.ID, d.Event, []byte(d.Payload), d.Status, d.NextAttemptAt, d.LeaseToken, attemptsJSON(d.Attempts), d.UpdatedAt)
			return mapErr("update webhook delivery", err)
		})
}

func (s *Store) DeleteSettledWebhookDeliveries(ctx context.Context, before time.Time) (int, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1`, ts(before))
	if err != nil {
		return 0, mapErr("delete settled webhook deliveries", err)
	}
	return int(tag.RowsAffected()), nil
}
