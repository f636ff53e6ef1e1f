package store

import (
	"context"
	"encoding/json"
	"time"
)

// Webhook events (docs/webhooks.md).
const (
	WebhookScanCompleted = "scan.completed"
	WebhookScanFailed    = "scan.failed"
	WebhookFindingNew    = "finding.new"
	// WebhookTest is what "Send test" delivers; never subscribed to.
	WebhookTest = "webhook.test"
)

// Webhook body formats.
const (
	WebhookFormatJSON  = "json"  // the signed JSON event (docs/webhooks.md)
	WebhookFormatSlack = "slack" // {"text": …} for a Slack incoming webhook
)

// Webhook is one HTTPS endpoint of a project that hears about some events.
// Its signing secret is stored encrypted (SecretSealed) and shown once, in
// the response that creates it.
type Webhook struct {
	ID          string   `json:"id"`
	ProjectID   string   `json:"project_id"`
	OwnerUserID string   `json:"owner_user_id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	// MinSeverity filters finding.new: only findings at or above it.
	MinSeverity  string    `json:"min_severity"`
	Format       string    `json:"format"`
	Description  string    `json:"description"`
	SecretSealed []byte    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// Subscribes reports whether the webhook wants event.
func (w *Webhook) Subscribes(event string) bool {
	for _, e := range w.Events {
		if e == event {
			return true
		}
	}
	return false
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"   // due at NextAttemptAt (or leased until then)
	DeliverySucceeded = "succeeded" // the endpoint answered 2xx
	DeliveryFailed    = "failed"    // gave up: retries exhausted or refused for good
)

// WebhookDelivery is one event on its way to one webhook: persisted before
// the first attempt, so a restart resumes it, and kept as the delivery log.
type WebhookDelivery struct {
	ID          string `json:"id"`
	WebhookID   string `json:"webhook_id"`
	ProjectID   string `json:"project_id"`
	OwnerUserID string `json:"owner_user_id"`
	Event       string `json:"event"`
	// Payload is the event's JSON document (docs/webhooks.md), the body of
	// a json webhook and the source of a slack one.
	Payload json.RawMessage `json:"payload"`
	Status  string          `json:"status"`
	// NextAttemptAt is when a pending delivery is due. A claim moves it to
	// the end of the claim's lease, so a deliverer that dies mid-attempt
	// leaves the delivery due again once the lease is over.
	NextAttemptAt time.Time `json:"next_attempt_at"`
	// LeaseToken names the claim that holds the delivery; an outcome is
	// saved only by the holder of the current lease.
	LeaseToken string            `json:"-"`
	Attempts   []DeliveryAttempt `json:"attempts"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// StampDelivery fills the defaults every store gives a new delivery: Stamp's
// ID and creation time, and updated and first due at its creation.
func StampDelivery(d *WebhookDelivery, now time.Time) {
	StampUpdated(&d.ID, &d.CreatedAt, &d.UpdatedAt, PrefixDelivery, now)
	if d.NextAttemptAt.IsZero() {
		d.NextAttemptAt = d.CreatedAt
	}
}

// DeliveryAttempt is one POST of a delivery: when, how long, what came back.
type DeliveryAttempt struct {
	At           time.Time `json:"at"`
	DurationMS   int64     `json:"duration_ms"`
	ResponseCode int       `json:"response_code"` // 0: no HTTP answer (refused, timeout)
	Error        string    `json:"error,omitempty"`
}

// MaxDeliveryAttempts bounds the attempts a delivery keeps (and makes).
const MaxDeliveryAttempts = 32

type WebhookStore interface {
	// CreateWebhook stores w; ErrNotFound when its project does not exist.
	CreateWebhook(ctx context.Context, w *Webhook) error
	GetWebhook(ctx context.Context, sc Scope, id string) (*Webhook, error)
	ListWebhooks(ctx context.Context, sc Scope, projectID string, p Page) ([]Webhook, string, error)
	// DeleteWebhook removes the webhook and its deliveries.
	DeleteWebhook(ctx context.Context, sc Scope, id string) error
	// CreateWebhookDeliveries stores ds in one step (one event, many hooks).
	CreateWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) error
	GetWebhookDelivery(ctx context.Context, sc Scope, id string) (*WebhookDelivery, error)
	// ListWebhookDeliveries lists a webhook's deliveries, newest first.
	ListWebhookDeliveries(ctx context.Context, sc Scope, webhookID string, p Page) ([]WebhookDelivery, string, error)
	// ClaimWebhookDeliveries leases up to limit pending deliveries due at
	// now, oldest due first: each gets token as LeaseToken and leaseEnd as
	// NextAttemptAt, atomically, so two concurrent claims never return the
	// same delivery while its lease lasts.
	ClaimWebhookDeliveries(ctx context.Context, now, leaseEnd time.Time, token string, limit int) ([]WebhookDelivery, error)
	// UpdateWebhookDelivery runs fn on the current row and saves the result
	// atomically; an error from fn aborts and is returned as is.
	UpdateWebhookDelivery(ctx context.Context, id string, fn func(*WebhookDelivery) error) (*WebhookDelivery, error)
	// DeleteSettledWebhookDeliveries deletes the succeeded and failed
	// deliveries last updated before before (the log's retention) and says
	// how many; pending ones stay whatever their age.
	DeleteSettledWebhookDeliveries(ctx context.Context, before time.Time) (int, error)
}
