package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/vegasec/vega/store"
)

// Notifier turns the end of a scan into persisted deliveries, one per
// subscribed webhook: it is the scan service's hook (scans.Options.Ended)
// in every role that finishes scans, and it makes no HTTP request itself.
// What it stores, a deliverer (deliver.go) sends, here or in another process.
type Notifier struct {
	st   store.Store
	log  *slog.Logger
	now  func() time.Time
	wake func() // nil: the deliverer finds the delivery on its next poll
}

// NewNotifier returns a notifier; wake, when set, is called after deliveries
// were stored (the deliverer of this process, so it does not wait for a poll).
func NewNotifier(st store.Store, log *slog.Logger, wake func()) *Notifier {
	if log == nil {
		log = slog.Default()
	}
	return &Notifier{st: st, log: log, now: time.Now, wake: wake}
}

// ScanEnded enqueues scan.completed, scan.failed and finding.new for the
// scan's project. It never fails the lifecycle step that called it: an
// error is logged, and the scan stays right whether or not anyone hears.
func (n *Notifier) ScanEnded(ctx context.Context, scan *store.Scan) {
	if scan.Status != store.ScanCompleted && scan.Status != store.ScanFailed {
		return
	}
	if err := n.scanEnded(context.WithoutCancel(ctx), scan); err != nil {
		n.log.Error("enqueue webhook deliveries", "scan_id", scan.ID, "err", err)
	}
}

func (n *Notifier) scanEnded(ctx context.Context, scan *store.Scan) error {
	hooks, err := projectWebhooks(ctx, n.st, scan.ProjectID)
	if err != nil || len(hooks) == 0 {
		return err
	}
	base, err := n.envelope(ctx, scan)
	if err != nil {
		return err
	}
	event := store.WebhookScanCompleted
	if scan.Status == store.ScanFailed {
		event = store.WebhookScanFailed
	}
	var ds []store.WebhookDelivery
	newByMin := map[string][]store.Finding{}
	for i := range hooks {
		w := &hooks[i]
		if w.Subscribes(event) {
			ev := base
			ev.Event = event
			d, err := n.delivery(w, &ev)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		if event != store.WebhookScanCompleted || !w.Subscribes(store.WebhookFindingNew) {
			continue
		}
		found, ok := newByMin[w.MinSeverity]
		if !ok {
			if found, err = newFindings(ctx, n.st, scan, w.MinSeverity); err != nil {
				return err
			}
			newByMin[w.MinSeverity] = found
		}
		if len(found) == 0 {
			continue
		}
		ev := base
		ev.Event, ev.FindingsTotal = store.WebhookFindingNew, len(found)
		for _, f := range found[:min(len(found), MaxEventFindings)] {
			ev.Findings = append(ev.Findings, eventFinding(&f))
		}
		d, err := n.delivery(w, &ev)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return nil
	}
	if err := n.st.CreateWebhookDeliveries(ctx, ds); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil // a webhook was deleted meanwhile
		}
		return err
	}
	if n.wake != nil {
		n.wake()
	}
	return nil
}

// envelope is the part of every event about the scan and where it ran.
func (n *Notifier) envelope(ctx context.Context, scan *store.Scan) (Event, error) {
	ev := Event{SchemaVersion: PayloadSchemaVersion, CreatedAt: n.now().UTC(), Scan: eventScan(scan)}
	p, err := n.st.GetProject(ctx, store.System(), scan.ProjectID)
	if err != nil {
		return ev, err
	}
	ev.Project = EventProject{ID: p.ID, Name: p.Name}
	if r, err := n.st.GetRepository(ctx, store.System(), scan.RepositoryID); err == nil {
		ev.Repository = &EventRepo{ID: r.ID, Name: r.Name}
	} else if !errors.Is(err, store.ErrNotFound) {
		return ev, err
	}
	return ev, nil
}

// delivery makes the pending delivery of ev to w; the event's ID is the
// delivery's, so a receiver can drop a retry it already processed.
func (n *Notifier) delivery(w *store.Webhook, ev *Event) (store.WebhookDelivery, error) {
	now := n.now().UTC()
	ev.ID = store.NewID(store.PrefixDelivery)
	body, err := json.Marshal(ev)
	if err != nil {
		return store.WebhookDelivery{}, err
	}
	return store.WebhookDelivery{ID: ev.ID, WebhookID: w.ID, ProjectID: w.ProjectID, OwnerUserID: w.OwnerUserID,
		Event: ev.Event, Payload: body, Status: store.DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}, nil
}

// projectWebhooks lists every webhook of a project.
func projectWebhooks(ctx context.Context, st store.Store, projectID string) ([]store.Webhook, error) {
	var out []store.Webhook
	err := eachPage(func(p store.Page) ([]store.Webhook, string, error) {
		return st.ListWebhooks(ctx, store.System(), projectID, p)
	}, func(page []store.Webhook) bool {
		out = append(out, page...)
		return true
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil // the project is gone
	case err != nil:
		return nil, err
	}
	return out, nil
}

// eachPage reads a listing a full page at a time, following cursors, and
// hands each page to visit until visit returns false or the pages run out.
func eachPage[T any](list func(store.Page) ([]T, string, error), visit func([]T) bool) error {
	for p := (store.Page{Limit: store.MaxLimit}); ; {
		items, next, err := list(p)
		if err != nil {
			return err
		}
		if !visit(items) || next == "" {
			return nil
		}
		p.Cursor = next
	}
}

// maxNewFindings bounds how many new findings one event looks at; the
// total it reports is then a lower bound (documented in docs/webhooks.md).
const maxNewFindings = 10000

// newFindings are the findings scan saw for the first time that are still
// open (a suppressed one was dismissed as it was recorded) at or above
// minSeverity, most severe first. New means first seen by this scan, which
// is also what a --new-only CI job fails on.
func newFindings(ctx context.Context, st store.Store, scan *store.Scan, minSeverity string) ([]store.Finding, error) {
	var sevs []string
	floor := store.SeverityRank(minSeverity)
	for _, s := range store.Severities {
		if store.SeverityRank(s) >= floor {
			sevs = append(sevs, s)
		}
	}
	f := store.FindingFilter{ScanID: scan.ID, Statuses: []string{store.FindingOpen}, Severities: sevs}
	var out []store.Finding
	err := eachPage(func(p store.Page) ([]store.Finding, string, error) {
		return st.ListFindings(ctx, store.System(), f, p)
	}, func(page []store.Finding) bool {
		for _, x := range page {
			if x.FirstSeenScanID == scan.ID {
				out = append(out, x)
			}
		}
		return len(out) < maxNewFindings
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b store.Finding) int {
		return store.SeverityRank(b.Severity) - store.SeverityRank(a.Severity)
	})
	return out, nil
}
