package server

import (
	"context"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/billing"
	"github.com/vegasec/vega/app/ops"
	"github.com/vegasec/vega/app/profile"
	"github.com/vegasec/vega/app/webhooks"
	"github.com/vegasec/vega/auth"
)

// features are the parts of the api role beyond projects and auth: scans,
// findings, billing, ops… Each contributes its service to the router and,
// optionally, background work that starts after the listener is up and
// drains on shutdown.
type features struct {
	scans    *ScanStack
	billing  *billing.Service
	ops      *ops.Service
	webhooks *webhooks.Service // nil: webhooks are off
	starters []func(ctx context.Context)
	drainers []func()
	closers  []func()
	// ready are readiness checks beyond store, blobs and auth (queue,
	// buckets…); add one with f.ready = append(f.ready, api.ReadyCheck{…}).
	ready    []api.ReadyCheck
	profiles profile.Generator // nil: the deterministic default
}

func (f *features) start(ctx context.Context) {
	for _, s := range f.starters {
		s(ctx)
	}
}

func (f *features) drain() {
	for _, d := range f.drainers {
		d()
	}
}

func (f *features) stop() {
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
}

// buildFeatures wires every feature service into the api role.
func buildFeatures(ctx context.Context, env *Env, authSvc *auth.Service) (*features, error) {
	f := &features{}
	scanStack, err := f.addScans(env)
	if err != nil {
		return nil, err
	}
	f.profiles = scanStack.llm.profileGenerator(env)
	f.ops = NewOps(env, scanStack.Scans)
	f.billing = billing.New(env.Store, nil)
	if f.webhooks, err = f.addWebhooks(env); err != nil {
		return nil, err
	}
	return f, nil
}
