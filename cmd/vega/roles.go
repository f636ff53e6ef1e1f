package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/server"
)

// workerCommand runs the claim loop of `external` mode until stopped: it
// registers itself, heartbeats, recovers stale scans and runs queued ones.
func workerCommand(ctx context.Context, cfg *config.Config) error {
	switch cfg.ScanExecutionMode {
	case "external":
	case "sqs":
		return errors.New("VEGA_SCAN_EXECUTION_MODE=sqs: the SQS dispatcher is not in this build yet; use external")
	default:
		return errors.New("vega worker needs VEGA_SCAN_EXECUTION_MODE=external (with VEGA_PERSISTENCE_BACKEND=postgres); in thread mode `vega serve` runs scans itself")
	}
	if cfg.ScanWorkerExecutionMode == "ecs" {
		return errors.New("VEGA_SCAN_WORKER_EXECUTION_MODE=ecs is not in this build yet; use local")
	}
	cfg.Role = "worker"
	return withEnv(ctx, cfg, func(env *server.Env) error {
		st, err := server.NewScanStack(env, true)
		if err != nil {
			return err
		}
		if err := st.Pool.Start(ctx); err != nil {
			return err
		}
		env.Log.Info("worker started", "worker_id", st.Pool.ID(), "concurrency", cfg.ThreadConcurrency)
		<-ctx.Done()
		env.Log.Info("worker stopping: finishing or handing back running scans")
		st.Pool.Stop(20 * time.Second)
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
	cfg.Role = "runner"
	return withEnv(ctx, cfg, func(env *server.Env) error {
		st, err := server.NewScanStack(env, false)
		if err != nil {
			return err
		}
		if err := st.Runner.Run(ctx, *scanID); err != nil {
			return fmt.Errorf("scan %s: %w", *scanID, err)
		}
		return nil
	})
}
