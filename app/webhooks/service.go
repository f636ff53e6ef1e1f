// Package webhooks lets a project tell other systems about its scans:
// webhook registration (this file), the events a finished scan enqueues
// (notify.go), and their signed, retried, logged delivery (deliver.go).
// docs/webhooks.md is the user-facing description.
package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/gitsource"
	"github.com/vegasec/vega/store"
)

// Options configure the service.
type Options struct {
	// AllowPrivateHosts is VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS: loopback and
	// private addresses (and plain http for them) are accepted.
	AllowPrivateHosts bool
	Sealer            *Sealer
	// Wake tells this process's deliverer a delivery is waiting (may be nil).
	Wake func()
	Now  func() time.Time
}

// MaxPerProject bounds a project's webhooks.
const MaxPerProject = 20

// Service registers webhooks and answers the webhook API.
type Service struct {
	st    store.Store
	opt   Options
	guard *gitsource.Guard
}

// New returns the service.
func New(st store.Store, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, opt: opt, guard: gitsource.NewGuard(opt.AllowPrivateHosts)}
}

// Input is a webhook to create.
type Input struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	// MinSeverity filters finding.new (default high).
	MinSeverity string `json:"min_severity,omitempty"`
	// Format is json (signed event, the default) or slack.
	Format      string `json:"format,omitempty"`
	Description string `json:"description,omitempty"`
}

// Created is a new webhook with its signing secret, shown this once.
type Created struct {
	store.Webhook
	Secret string `json:"secret"`
}

var knownEvents = []string{store.WebhookScanCompleted, store.WebhookScanFailed, store.WebhookFindingNew}

// validate normalises in and returns the field errors.
func (s *Service) validate(in *Input) map[string]string {
	bad := map[string]string{}
	in.URL = strings.TrimSpace(in.URL)
	if msg := s.checkURL(in.URL); msg != "" {
		bad["url"] = msg
	}
	var events []string
	for _, e := range in.Events {
		if !slices.Contains(knownEvents, e) {
			bad["events"] = "must be among " + strings.Join(knownEvents, ", ")
			break
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	if len(in.Events) == 0 {
		bad["events"] = "name at least one event: " + strings.Join(knownEvents, ", ")
	}
	in.Events = events
	if in.MinSeverity == "" {
		in.MinSeverity = store.SeverityHigh
	}
	if !slices.Contains(store.Severities, in.MinSeverity) {
		bad["min_severity"] = "must be one of " + strings.Join(store.Severities, ", ")
	}
	if in.Format == "" {
		in.Format = store.WebhookFormatJSON
	}
	if in.Format != store.WebhookFormatJSON && in.Format != store.WebhookFormatSlack {
		bad["format"] = "must be json or slack"
	}
	in.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(in.Description) > 200 || !utf8.ValidString(in.Description) {
		bad["description"] = "must be at most 200 characters of text"
	}
	return bad
}

// checkURL returns why u cannot be a webhook URL, or "".
func (s *Service) checkURL(u string) string {
	if u == "" {
		return "is required"
	}
	if len(u) > 2048 {
		return "must be at most 2048 characters"
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.Opaque != "" {
		return "must be an absolute https URL"
	}
	switch {
	case p.Scheme == "https":
	case p.Scheme == "http" && s.opt.AllowPrivateHosts:
		// Local receivers (tests, a relay next to Vega) rarely have TLS.
	default:
		return "must use https"
	}
	if p.User != nil {
		return "must not carry a user name or password"
	}
	if p.Fragment != "" {
		return "must not have a fragment"
	}
	return ""
}

// Create registers a webhook on a project sc may see and returns it with
// its secret. The host must resolve to addresses deliveries may reach.
func (s *Service) Create(ctx context.Context, sc store.Scope, projectID string, in Input) (*Created, error) {
	p, err := s.st.GetProject(ctx, sc, projectID)
	if err != nil {
		return nil, apperr.NotFoundAs("project", projectID, err)
	}
	if bad := s.validate(&in); len(bad) > 0 {
		return nil, apperr.Validation(bad)
	}
	existing, _, err := s.st.ListWebhooks(ctx, sc, projectID, store.Page{Limit: MaxPerProject + 1})
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxPerProject {
		return nil, apperr.Quota(MaxPerProject, len(existing), "a project has at most %d webhooks", MaxPerProject)
	}
	u, _ := url.Parse(in.URL)
	checkCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.guard.Check(checkCtx, u.Hostname()); err != nil {
		if apperr.IsCode(err, apperr.HostNotAllowed) {
			return nil, err
		}
		return nil, apperr.Text(apperr.HostNotAllowed, "the webhook host could not be checked; try again").Wrap(err)
	}
	secret := newSecret()
	w := &store.Webhook{ID: store.NewID(store.PrefixWebhook), ProjectID: p.ID, OwnerUserID: p.OwnerUserID,
		URL: in.URL, Events: in.Events, MinSeverity: in.MinSeverity, Format: in.Format,
		Description: in.Description, CreatedAt: s.opt.Now().UTC()}
	w.SecretSealed = s.opt.Sealer.Seal(w.ID, secret)
	if err := s.st.CreateWebhook(ctx, w); err != nil {
		return nil, apperr.NotFoundAs("project", projectID, err)
	}
	return &Created{Webhook: *w, Secret: secret}, nil
}

// List lists a project's webhooks (never their secrets).
func (s *Service) List(ctx context.Context, sc store.Scope, projectID string, p store.Page) ([]store.Webhook, string, error) {
	items, next, err := s.st.ListWebhooks(ctx, sc, projectID, p)
	return items, next, apperr.NotFoundAs("project", projectID, err)
}

// Get returns one webhook.
func (s *Service) Get(ctx context.Context, sc store.Scope, id string) (*store.Webhook, error) {
	w, err := s.st.GetWebhook(ctx, sc, id)
	return w, apperr.NotFoundAs("webhook", id, err)
}

// Delete removes a webhook and its delivery log; pending deliveries are dropped.
func (s *Service) Delete(ctx context.Context, sc store.Scope, id string) error {
	if err := s.st.DeleteWebhook(ctx, sc, id); err != nil {
		return apperr.NotFoundAs("webhook", id, err)
	}
	return nil
}

// Deliveries lists a webhook's delivery log, newest first.
func (s *Service) Deliveries(ctx context.Context, sc store.Scope, id string, p store.Page) ([]store.WebhookDelivery, string, error) {
	items, next, err := s.st.ListWebhookDeliveries(ctx, sc, id, p)
	return items, next, apperr.NotFoundAs("webhook", id, err)
}

// SendTest enqueues a webhook.test event, delivered like any other (signed,
// retried, logged), and returns the pending delivery.
func (s *Service) SendTest(ctx context.Context, sc store.Scope, id string) (*store.WebhookDelivery, error) {
	w, err := s.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	p, err := s.st.GetProject(ctx, store.System(), w.ProjectID)
	if err != nil {
		return nil, apperr.NotFoundAs("webhook", id, err)
	}
	now := s.opt.Now().UTC()
	ev := Event{SchemaVersion: PayloadSchemaVersion, ID: store.NewID(store.PrefixDelivery), Event: store.WebhookTest,
		CreatedAt: now, Project: EventProject{ID: p.ID, Name: p.Name}}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	d := store.WebhookDelivery{ID: ev.ID, WebhookID: w.ID, ProjectID: w.ProjectID, OwnerUserID: w.OwnerUserID,
		Event: ev.Event, Payload: body, Status: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateWebhookDeliveries(ctx, []store.WebhookDelivery{d}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, apperr.NotFoundAs("webhook", id, err)
		}
		return nil, err
	}
	if s.opt.Wake != nil {
		s.opt.Wake()
	}
	return &d, nil
}
