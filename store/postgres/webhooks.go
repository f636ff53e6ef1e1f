package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const webhookCols = `id, project_id, owner_user_id, url, events, min_severity, format, description, secret_sealed, created_at`

func scanWebhook(r pgx.Row) (store.Webhook, error) {
	var w store.Webhook
	var events []byte
	if err := r.Scan(&w.ID, &w.ProjectID, &w.OwnerUserID, &w.URL, &events, &w.MinSeverity, &w.Format,
		&w.Description, &w.SecretSealed, &w.CreatedAt); err != nil {
		return w, err
	}
	return w, fromJSON(events, &w.Events)
}

const deliveryCols = `id, webhook_id, project_id, owner_user_id, event, payload, status, next_attempt_at, lease_token, attempts, created_at, updated_at`

func scanDelivery(r pgx.Row) (store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	var payload, attempts []byte
	if err := r.Scan(&d.ID, &d.WebhookID, &d.ProjectID, &d.OwnerUserID, &d.Event, &payload, &d.Status,
		&d.NextAttemptAt, &d.LeaseToken, &attempts, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return d, err
	}
	d.Payload = payload
	return d, fromJSON(attempts, &d.Attempts)
}

// CreateWebhook stores w; ErrNotFound when its project does not exist.
func (s *Store) CreateWebhook(ctx context.Context, w *store.Webhook) error {
	store.Stamp(&w.ID, &w.CreatedAt, store.PrefixWebhook, s.nowUTC())
	w.CreatedAt = ts(w.CreatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		w.ID, w.ProjectID, w.OwnerUserID, w.URL, toJSON(w.Events), w.MinSeverity, w.Format, w.Description,
		w.SecretSealed, w.CreatedAt)
	return mapErr("create webhook", err)
}

func (s *Store) GetWebhook(ctx context.Context, sc store.Scope, id string) (*store.Webhook, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get webhook", "webhooks", webhookCols, "owner_user_id", sc, id, "", scanWebhook)
}

// ListWebhooks lists a project's webhooks; ErrNotFound when sc may not see the project.
func (s *Store) ListWebhooks(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Webhook, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := selectOne(ctx, s.pool, "list webhooks", "projects", projectCols, "owner_user_id", sc, projectID, "", scanProject); err != nil {
		return nil, "", err
	}
	var q query
	q.and("project_id = " + q.arg(projectID))
	q.scope(sc, "owner_user_id")
	return listPage(ctx, s.pool, "list webhooks", webhookCols, "webhooks", &q, p, scanWebhook, func(x *store.Webhook) string { return x.ID })
}

// DeleteWebhook deletes the webhook; its deliveries go with it (foreign key).
func (s *Store) DeleteWebhook(ctx context.Context, sc store.Scope, id string) error {
	return s.deleteOne(ctx, "delete webhook", "webhooks", "owner_user_id", sc, id)
}

func (s *Store) CreateWebhookDeliveries(ctx context.Context, ds []store.WebhookDelivery) error {
	now := s.nowUTC()
	ctx, cancel := s.op(ctx)
	defer cancel()
	return s.inTx(ctx, "create webhook deliveries", func(tx pgx.Tx) error {
		for i := range ds {
			d := &ds[i]
			store.Stamp(&d.ID, &d.CreatedAt, store.PrefixDelivery, now)
			if d.UpdatedAt.IsZero() {
				d.UpdatedAt = d.CreatedAt
			}
			if d.NextAttemptAt.IsZero() {
				d.NextAttemptAt = d.CreatedAt
			}
			d.CreatedAt, d.UpdatedAt, d.NextAttemptAt = ts(d.CreatedAt), ts(d.UpdatedAt), ts(d.NextAttemptAt)
			for j := range d.Attempts {
				d.Attempts[j].At = ts(d.Attempts[j].At)
			}
			_, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
				d.ID, d.WebhookID, d.ProjectID, d.OwnerUserID, d.Event, []byte(d.Payload), d.Status, d.NextAttemptAt,
				d.LeaseToken, attemptsJSON(d.Attempts), d.CreatedAt, d.UpdatedAt)
			if err != nil {
				return mapErr("create webhook delivery", err)
			}
		}
		return nil
	})
}

// attemptsJSON encodes attempts, an empty list for none (the column is NOT NULL).
func attemptsJSON(a []store.DeliveryAttempt) []byte {
	if a == nil {
		return []byte("[]")
	}
	return toJSON(a)
}

func (s *Store) GetWebhookDelivery(ctx context.Context, sc store.Scope, id string) (*store.WebhookDelivery, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get webhook delivery", "webhook_deliveries", deliveryCols, "owner_user_id", sc, id, "", scanDelivery)
}

// ListWebhookDeliveries lists a webhook's deliveries; ErrNotFound when sc may not see the webhook.
func (s *Store) ListWebhookDeliveries(ctx context.Context, sc store.Scope, webhookID string, p store.Page) ([]store.WebhookDelivery, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	if _, err := selectOne(ctx, s.pool, "list webhook deliveries", "webhooks", webhookCols, "owner_user_id", sc, webhookID, "", scanWebhook); err != nil {
		return nil, "", err
	}
	var q query
	q.and("webhook_id = " + q.arg(webhookID))
	q.scope(sc, "owner_user_id")
	return listPage(ctx, s.pool, "list webhook deliveries", deliveryCols, "webhook_deliveries", &q, p, scanDelivery, func(x *store.WebhookDelivery) string { return x.ID })
}

// ClaimWebhookDeliveries leases due deliveries in one statement: SKIP LOCKED
// lets concurrent deliverers (api tasks) claim disjoint sets without waiting.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, leaseEnd time.Time, token string, limit int) ([]store.WebhookDelivery, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "claim webhook deliveries", `UPDATE webhook_deliveries SET next_attempt_at = $2, lease_token = $3
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryCols, []any{ts(now), ts(leaseEnd), token, limit}, scanDelivery)
}

func (s *Store) UpdateWebhookDelivery(ctx context.Context, id string, fn func(*store.WebhookDelivery) error) (*store.WebhookDelivery, error) {
	return updateLocked(ctx, s, "update webhook delivery",
		func(ctx context.Context, tx pgx.Tx) (*store.WebhookDelivery, error) {
			return selectOne(ctx, tx, "update webhook delivery", "webhook_deliveries", deliveryCols, "", store.System(), id, " FOR UPDATE", scanDelivery)
		}, fn,
		func(old, d *store.WebhookDelivery) {
			d.ID, d.WebhookID, d.ProjectID, d.OwnerUserID, d.CreatedAt = old.ID, old.WebhookID, old.ProjectID, old.OwnerUserID, old.CreatedAt
		},
		func(ctx context.Context, tx pgx.Tx, d *store.WebhookDelivery) error {
			d.NextAttemptAt, d.UpdatedAt = ts(d.NextAttemptAt), ts(d.UpdatedAt)
			for j := range d.Attempts {
				d.Attempts[j].At = ts(d.Attempts[j].At)
			}
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
