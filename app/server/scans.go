package server

import (
	"context"
	"time"

	"github.com/vegasec/vega/app/api"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/codex"
	"github.com/vegasec/vega/app/engine/secrets"
	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/findings"
	"github.com/vegasec/vega/app/runner"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/webhooks"
	"github.com/vegasec/vega/dispatch"
	"github.com/vegasec/vega/dispatch/queue"
)

// ScanStack is the scan machinery of one process: services, runner and
// (in thread mode) the in-process dispatcher.
type ScanStack struct {
	Scans    *scans.Service
	Findings *findings.Service
	Runner   *runner.Runner
	Broker   *events.Broker
	Pool     WorkerDispatcher // nil unless this process runs scans
	Queue    queue.Queue      // the scan queue (sqs mode), nil otherwise
	llm      *llmStack
	// webhookWake wakes this process's webhook deliverer (api role) when
	// a scan's end enqueued deliveries.
	webhookWake *webhookWake
}

// Close stops what the stack started (the in-process LLM proxy).
func (s *ScanStack) Close() { s.llm.close() }

// availableEngines are the engines this process can run, by name: secrets
// always, codex when the CLI and a model provider are configured.
func availableEngines(llm *llmStack) map[string]engine.Engine {
	avail := map[string]engine.Engine{secrets.Name: secrets.New()}
	if llm.codex != nil {
		avail[llm.codex.Name()] = llm.codex
	}
	return avail
}

// unavailableEngines are the engines this build knows but this process
// cannot run, with why and how to enable them (GET /v1/engines).
func unavailableEngines(llm *llmStack) []scans.EngineStatus {
	if llm.codex != nil || llm.unusable == nil {
		return nil
	}
	return []scans.EngineStatus{{Name: codex.Name, Reason: llm.unusable.Reason, Enable: llm.unusable.Enable}}
}

// defaultEngines resolves VEGA_SCAN_ENGINES: `auto` means every available
// engine (secrets, plus codex once it is usable); named engines that this
// build cannot run are dropped with a warning rather than failing every scan.
func defaultEngines(env *Env, avail map[string]engine.Engine) []string {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if _, ok := avail[n]; ok && !seen[n] {
			seen[n] = true
			out = append(out, n)
		} else if !ok {
			env.Log.Warn("VEGA_SCAN_ENGINES names an engine this process cannot run; skipping it", "engine", n)
		}
	}
	for _, e := range env.Config.ScanEngines {
		if e == "auto" {
			for _, n := range []string{secrets.Name, "codex"} {
				if _, ok := avail[n]; ok {
					add(n)
				}
			}
			continue
		}
		add(e)
	}
	return out
}

// queueRef lets the scan service notify a dispatcher built after it (the
// dispatcher needs the service for recovery).
type queueRef struct{ q scans.Queue }

func (r *queueRef) Notify(ctx context.Context, id string) error {
	if r.q == nil {
		return nil
	}
	return r.q.Notify(ctx, id)
}

// StackOption adjusts NewScanStack.
type StackOption func(*stackOptions)

type stackOptions struct {
	unpacker runner.Unpacker
}

// WithUnpacker replaces how the runner materialises a snapshot. Only
// `vega scan` uses it: its snapshot is the caller's own working tree, copied
// straight from disk (app/cli/scan); every server role unpacks snapshot
// blobs with app/ingest's archive limits.
func WithUnpacker(u runner.Unpacker) StackOption {
	return func(o *stackOptions) { o.unpacker = u }
}

// NewScanStack builds the scan services. runScans says whether this process
// runs scans itself (api role in thread mode, worker role).
func NewScanStack(env *Env, runScans bool, opts ...StackOption) (*ScanStack, error) {
	cfg := env.Config
	o := stackOptions{unpacker: runner.SnapshotUnpacker(env.Blobs, ingestLimits(cfg))}
	for _, f := range opts {
		f(&o)
	}
	llm, err := newLLM(context.Background(), env)
	if err != nil {
		return nil, err
	}
	avail := availableEngines(llm)
	known := make([]string, 0, len(avail))
	for n := range avail {
		known = append(known, n)
	}
	broker := events.NewBroker()
	ref := &queueRef{}
	wake := &webhookWake{}
	var q queue.Queue
	if cfg.Role != config.RoleRunner {
		// A runner task may not use the queue (docs/deploy-aws.md): a scan
		// it hands back is sent again by a worker's sweeper.
		if q, err = scanQueue(context.Background(), env); err != nil {
			llm.close()
			return nil, err
		}
	}
	var send *dispatch.Sender
	if q != nil {
		// Every process of the sqs mode sends when a scan becomes queued
		// (created, retried, recovered) and records when.
		send = &dispatch.Sender{Q: q, Store: env.Store}
		ref.q = send
	}
	svc := scans.New(env.Store, scans.Options{MaxActivePerUser: cfg.MaxActiveScansPerUser, MaxAttempts: cfg.ScanMaxAttempts,
		HeartbeatTTL: cfg.ScanHeartbeatTTL, RunningStale: cfg.ScanRunningStale, DefaultEngines: defaultEngines(env, avail),
		KnownEngines: known, Unavailable: unavailableEngines(llm), Queue: ref, Events: broker, Blobs: env.Blobs, Logger: env.Log,
		Ended: webhooks.NewNotifier(env.Store, env.Log, wake.wake)})
	run, err := runner.New(runner.Config{Store: env.Store, Scans: svc, Blobs: env.Blobs,
		Unpacker: o.unpacker, Engines: avail,
		Heartbeat: cfg.ScanHeartbeat, Events: broker, Version: env.Version, Logger: env.Log,
		Tokens: llm.runnerTokens(), TempDir: env.TempDir(),
		StopCountsAttempt: cfg.Role == config.RoleRunner})
	if err != nil {
		llm.close()
		return nil, err
	}
	st := &ScanStack{Scans: svc, Findings: findings.NewService(env.Store, nil), Runner: run, Broker: broker, Queue: q, llm: llm, webhookWake: wake}
	if runScans {
		d, err := newWorkerDispatcher(context.Background(), env, svc, run, q, send, llm)
		if err != nil {
			llm.close()
			return nil, err
		}
		st.Pool = d
		if send == nil {
			ref.q = d
		}
	}
	return st, nil
}

// recoverInterval checks for stale scans a few times per heartbeat TTL.
func recoverInterval(ttl time.Duration) time.Duration {
	if d := ttl / 4; d > time.Second {
		return d
	}
	return time.Second
}

// addScans builds the scan machinery of the api role and its background work.
func (f *features) addScans(env *Env) (*ScanStack, error) {
	st, err := NewScanStack(env, env.Config.ScanExecutionMode == "thread")
	if err != nil {
		return nil, err
	}
	f.closers = append(f.closers, st.Close)
	if st.Queue != nil {
		f.ready = append(f.ready, api.ReadyCheck{Name: "queue", Check: func(ctx context.Context) error {
			_, err := st.Queue.VisibilityTimeout(ctx)
			return err
		}})
	}
	f.scans = st
	if st.Pool != nil {
		f.starters = append(f.starters, func(ctx context.Context) {
			if err := st.Pool.Start(ctx); err != nil {
				env.Log.Error("start scan dispatcher", "err", err)
			}
		})
		f.drainers = append(f.drainers, func() { st.Pool.Stop(ScanStopGrace) })
	}
	return st, nil
}
