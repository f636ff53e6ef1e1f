package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/llmproxy"
	"github.com/vegasec/vega/app/server"
)

// workerCommand runs the claim loop of `external` mode until stopped: it
// registers itself, heartbeats, recovers stale scans and runs queued ones.
func workerCommand(ctx context.Context, cfg *config.Config) error {
	// The configuration refused thread mode for this role, and server.Open
	// refuses the modes not built yet (sqs, ecs).
	return withEnv(ctx, cfg, func(env *server.Env) error {
		st, err := server.NewScanStack(env, true)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Pool.Start(ctx); err != nil {
			return err
		}
		env.Log.Info("worker started", "worker_id", st.Pool.ID(), "concurrency", cfg.ThreadConcurrency)
		<-ctx.Done()
		env.Log.Info("worker stopping: finishing or handing back running scans")
		stopping := time.Now()
		st.Pool.Stop(server.ScanStopGrace)
		env.Log.Info("stopped", "after_ms", time.Since(stopping).Milliseconds())
		return nil
	})
}

// runnerCommand runs exactly one claimed scan and exits (the ECS task entrypoint).
func runnerCommand(ctx context.Context, cfg *config.Config, args []string) error {
	fs := flag.NewFlagSet("runner", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	scanID := fs.String("scan-id", "", "the claimed scan to run")
	if err := fs.Parse(args); err != nil || *scanID == "" {
		return usageError{"runner needs --scan-id ID"}
	}
	return withEnv(ctx, cfg, func(env *server.Env) error {
		st, err := server.NewScanStack(env, false)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Runner.Run(ctx, *scanID); err != nil {
			return fmt.Errorf("scan %s: %w", *scanID, err)
		}
		return nil
	})
}

// llmProxyCommand runs the standalone LLM proxy: the only process that holds
// the provider key. It shares the database with the API (scan status, usage).
func llmProxyCommand(ctx context.Context, cfg *config.Config) error {
	// The configuration checked the database, admin token and provider key.
	pcfg, err := server.LLMProxyConfig(cfg)
	if err != nil {
		return err
	}
	return withEnv(ctx, cfg, func(env *server.Env) error {
		p := llmproxy.New(pcfg, env.Store, llmproxy.WithLogger(env.Log))
		defer p.Close()
		env.Log.Info("LLM proxy listening", "addr", cfg.LLMProxyListenAddr, "upstream", cfg.LLMProviderBaseURL)
		return p.ListenAndServe(ctx, cfg.LLMProxyListenAddr, 20*time.Second)
	})
}
