package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/server"
	"github.com/vegasec/vega/app/webhooks"
)

// migrateCommand applies pending Postgres migrations and exits.
func migrateCommand(ctx context.Context, cfg *config.Config, out io.Writer) error {
	if cfg.PersistenceBackend != "postgres" {
		fmt.Fprintln(out, "nothing to migrate: the bolt store has no schema")
		return nil
	}
	applied, err := server.Migrate(ctx, cfg)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(out, "schema is up to date")
	}
	for _, v := range applied {
		fmt.Fprintln(out, "applied", v)
	}
	return nil
}

// maintenanceCommand runs migrations, stale-scan recovery and cleanup once,
// printing what it did as JSON.
func maintenanceCommand(ctx context.Context, cfg *config.Config, out io.Writer) error {
	return withEnv(ctx, cfg, func(env *server.Env) error {
		// A scan recovery fails (no attempts left) is announced to its
		// webhooks like any other; the api processes deliver (docs/webhooks.md).
		rec := scans.New(env.Store, scans.Options{MaxAttempts: cfg.ScanMaxAttempts, HeartbeatTTL: cfg.ScanHeartbeatTTL,
			RunningStale: cfg.ScanRunningStale, Logger: env.Log, Ended: webhooks.NewNotifier(env.Store, env.Log, nil)})
		svc := server.NewOps(env, rec)
		recovered, err := svc.Recover(ctx)
		if err != nil {
			return fmt.Errorf("recover stale scans: %w", err)
		}
		cleaned, err := svc.Cleanup(ctx)
		if err != nil {
			return fmt.Errorf("cleanup: %w", err)
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"at": time.Now().UTC(), "recovered": recovered, "cleanup": cleaned})
	})
}
