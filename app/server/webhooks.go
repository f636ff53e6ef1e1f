package server

import (
	"context"
	"sync/atomic"

	"github.com/vegasec/vega/app/webhooks"
)

// webhookWake lets the scan service's notifier, built with the scan stack
// in every role, wake the deliverer that only the api role builds later.
type webhookWake struct {
	d atomic.Pointer[webhooks.Deliverer]
}

func (w *webhookWake) wake() {
	if d := w.d.Load(); d != nil {
		d.Wake()
	}
}

// addWebhooks builds the webhook API and, in the background, the deliverer
// (docs/webhooks.md). Secrets are sealed with a key derived from
// VEGA_AUTH_SECRET; without one (not possible for the api role once the
// configuration validated) webhooks are left out.
func (f *features) addWebhooks(env *Env) (*webhooks.Service, error) {
	cfg := env.Config
	if cfg.AuthSecret == "" {
		env.Log.Warn("webhooks are disabled: VEGA_AUTH_SECRET is not set")
		return nil, nil
	}
	sealer, err := webhooks.NewSealer(cfg.AuthSecret)
	if err != nil {
		return nil, err
	}
	d := webhooks.NewDeliverer(env.Store, sealer, webhooks.DeliverOptions{
		AllowPrivateHosts: cfg.WebhookAllowPrivateHosts, Logger: env.Log.With("component", "webhooks")})
	f.scans.webhookWake.d.Store(d)
	f.starters = append(f.starters, func(ctx context.Context) { go d.Run(ctx) })
	return webhooks.New(env.Store, webhooks.Options{AllowPrivateHosts: cfg.WebhookAllowPrivateHosts,
		Sealer: sealer, Wake: d.Wake}), nil
}
