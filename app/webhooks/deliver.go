package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitsource"
	"github.com/vegasec/vega/store"
)

// DeliverOptions configure a Deliverer. Zero values take the defaults.
type DeliverOptions struct {
	// AllowPrivateHosts is VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS.
	AllowPrivateHosts bool
	RetryBase         time.Duration // first retry's wait (DefaultRetryBase)
	Poll              time.Duration // how often due deliveries are looked for (2s)
	Timeout           time.Duration // one attempt, connect to last byte (10s)
	Concurrency       int           // attempts at once (4)
	Now               func() time.Time
	Logger            *slog.Logger
}

// Deliverer sends due deliveries: it claims them with a lease (so only one
// process sends a delivery at a time), POSTs them signed, and records each
// attempt and the outcome. A delivery it claimed and did not settle —
// the process died — is due again when the lease ends.
type Deliverer struct {
	st     store.Store
	sealer *Sealer
	opt    DeliverOptions
	client *http.Client
	wake   chan struct{}
}

// NewDeliverer returns a deliverer; Run starts it.
func NewDeliverer(st store.Store, sealer *Sealer, opt DeliverOptions) *Deliverer {
	if opt.RetryBase <= 0 {
		opt.RetryBase = DefaultRetryBase
	}
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 4
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Deliverer{st: st, sealer: sealer, opt: opt, client: newClient(opt), wake: make(chan struct{}, 1)}
}

// newClient is the HTTP client of deliveries: every connection goes through
// the Git URL address policy at dial time, no proxy (the proxy would be
// the address checked), no redirects, bounded time.
func newClient(opt DeliverOptions) *http.Client {
	guard := gitsource.NewGuard(opt.AllowPrivateHosts)
	return &http.Client{
		Timeout: opt.Timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           guard.DialContext,
			TLSHandshakeTimeout:   opt.Timeout,
			ResponseHeaderTimeout: opt.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       30 * time.Second,
			ForceAttemptHTTP2:     true,
		},
		// A redirect is answered as it is (a failed attempt), never followed:
		// following it would send the signed body somewhere nobody checked.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Wake makes Run look for due deliveries now instead of at the next poll.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (d *Deliverer) Run(ctx context.Context) {
	t := time.NewTicker(d.opt.Poll)
	defer t.Stop()
	for {
		for {
			n, err := d.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				d.opt.Logger.Warn("webhook deliveries", "err", err)
			}
			if n == 0 || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// DeliverDue claims the deliveries due now and attempts each once; it
// returns how many it attempted.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	now := d.opt.Now()
	token := store.NewID("lease_")
	// The lease outlasts an attempt by a margin, so it never ends while
	// this process still holds the delivery.
	leaseEnd := now.Add(d.opt.Timeout + 30*time.Second)
	due, err := d.st.ClaimWebhookDeliveries(ctx, now, leaseEnd, token, d.opt.Concurrency*4)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, d.opt.Concurrency)
	var wg sync.WaitGroup
	for i := range due {
		wg.Add(1)
		sem <- struct{}{}
		go func(del *store.WebhookDelivery) {
			defer wg.Done()
			defer func() { <-sem }()
			d.attempt(ctx, del)
		}(&due[i])
	}
	wg.Wait()
	return len(due), nil
}

// errLostLease: the delivery was claimed again (our lease ran out).
var errLostLease = errors.New("webhooks: delivery lease lost")

// attempt sends one delivery once and records what happened.
func (d *Deliverer) attempt(ctx context.Context, del *store.WebhookDelivery) {
	log := d.opt.Logger.With("delivery_id", del.ID, "webhook_id", del.WebhookID, "event", del.Event)
	w, err := d.st.GetWebhook(ctx, store.System(), del.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return // deleted with its deliveries meanwhile
	}
	var res attemptResult
	if err == nil {
		res = d.send(ctx, w, del)
	} else {
		res = attemptResult{err: "internal error reading the webhook"}
		log.Error("read webhook", "err", err)
	}
	now := d.opt.Now().UTC()
	saved, err := d.st.UpdateWebhookDelivery(context.WithoutCancel(ctx), del.ID, func(x *store.WebhookDelivery) error {
		if x.LeaseToken != del.LeaseToken || x.Status != store.DeliveryPending {
			return errLostLease
		}
		x.Attempts = append(x.Attempts, store.DeliveryAttempt{At: res.at.UTC(), DurationMS: res.duration.Milliseconds(),
			ResponseCode: res.code, Error: res.err})
		x.LeaseToken, x.UpdatedAt = "", now
		switch next, ok := nextAttempt(d.opt.RetryBase, x.CreatedAt, now, len(x.Attempts), res.retryAfter); {
		case res.ok():
			x.Status = store.DeliverySucceeded
		case ok:
			x.NextAttemptAt = next
		default:
			x.Status = store.DeliveryFailed
		}
		return nil
	})
	switch {
	case errors.Is(err, errLostLease), errors.Is(err, store.ErrNotFound):
		log.Warn("webhook delivery settled elsewhere; attempt not recorded")
	case err != nil:
		log.Error("record webhook delivery attempt", "err", err)
	default:
		// Never the URL (a Slack URL is a credential) nor the body.
		log.Info("webhook delivery attempt", "status", saved.Status, "response_code", res.code,
			"duration_ms", res.duration.Milliseconds(), "attempt", len(saved.Attempts), "error", res.err)
	}
}

type attemptResult struct {
	at         time.Time
	duration   time.Duration
	code       int
	err        string
	retryAfter time.Duration
}

func (r attemptResult) ok() bool { return r.err == "" && r.code >= 200 && r.code < 300 }

// send POSTs the delivery signed with the webhook's secret.
func (d *Deliverer) send(ctx context.Context, w *store.Webhook, del *store.WebhookDelivery) attemptResult {
	res := attemptResult{at: d.opt.Now()}
	secret, err := d.sealer.Open(w.ID, w.SecretSealed)
	if err != nil {
		res.err = err.Error()
		return res
	}
	body, err := renderBody(w.Format, del.Payload)
	if err != nil {
		res.err = "cannot render the event: " + err.Error()
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		res.err = "the webhook URL is not valid"
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Vega-Webhooks/1")
	req.Header.Set("Vega-Event", del.Event)
	req.Header.Set("Vega-Delivery", del.ID)
	req.Header.Set(SignatureHeader, Sign(secret, d.opt.Now(), body))
	start := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		res.duration, res.err = time.Since(start), describeSendError(err, d.opt.Timeout)
		return res
	}
	// Read (a bounded part of) the answer so the connection can be reused;
	// it is not stored: it is the receiver's and may say anything.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.duration, res.code = time.Since(start), resp.StatusCode
	if res.code < 200 || res.code >= 300 {
		res.err = fmt.Sprintf("the endpoint answered %d", res.code)
		if res.code >= 300 && res.code < 400 {
			res.err += " (redirects are not followed)"
		}
		res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	}
	return res
}

// renderBody is what is POSTed: the event itself, or a Slack message.
func renderBody(format string, payload json.RawMessage) ([]byte, error) {
	if format != store.WebhookFormatSlack {
		return payload, nil
	}
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	return slackBody(&ev)
}

// describeSendError says why no answer came, without the URL (which
// net/http puts in its errors and which may be a credential).
func describeSendError(err error, timeout time.Duration) string {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Message // host_not_allowed, with its client-safe text
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "no answer within " + timeout.String()
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return "could not connect: " + op.Err.Error()
	}
	return "the request failed"
}

// parseRetryAfter reads a Retry-After of delay-seconds (an HTTP date is
// ignored: the backoff applies).
func parseRetryAfter(v string) time.Duration {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
