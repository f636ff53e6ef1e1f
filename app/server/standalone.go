package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/vegasec/vega/app/config"
)

// standalonePassThrough are the variables `vega scan` takes from the
// environment for its in-process scan: what the engines and their budgets
// need. Everything else (store, blobs, auth, listen address, AWS) is fixed by
// OpenStandalone, so a CI job's VEGA_DATABASE_URL or S3 settings cannot point
// a throwaway scan at a real deployment.
var standalonePassThrough = []string{"VEGA_SCAN_ENGINES", "VEGA_CODEX_", "VEGA_LLM_PROVIDER_", "VEGA_LLM_PROXY_MAX_",
	"VEGA_LLM_PROXY_PRICES", "VEGA_LLM_PROXY_TOKEN_TTL_SECONDS", "VEGA_THREAD_CONCURRENCY"}

// OpenStandalone opens the environment of `vega scan`'s in-process scan
// (app/cli/scan, README "Vega in CI"): the api role's configuration (it hosts
// the LLM proxy in-process for codex) on a bolt store and local blobs under
// dataDir, a directory the caller removes afterwards. getenv supplies only
// the pass-through variables.
func OpenStandalone(ctx context.Context, dataDir string, getenv func(string) string, log *slog.Logger, version string) (*Env, error) {
	fixed := map[string]string{
		"VEGA_DATA_DIR": dataDir, "VEGA_PERSISTENCE_BACKEND": "bolt", "VEGA_FILE_STORAGE_BACKEND": "local",
		"VEGA_SCAN_EXECUTION_MODE": "thread", "VEGA_SCAN_WORKER_EXECUTION_MODE": "local", "VEGA_AUTH_PROVIDER": "custom",
		"VEGA_LISTEN_ADDR": "127.0.0.1:0", "VEGA_ENVIRONMENT": "local",
	}
	lookup := func(name string) (string, bool) {
		if v, ok := fixed[name]; ok {
			return v, true
		}
		for _, p := range standalonePassThrough {
			if strings.HasPrefix(name, p) {
				if v := getenv(name); v != "" {
					return v, true
				}
			}
		}
		return "", false
	}
	cfg, err := config.Load(ctx, config.Source{Role: config.RoleAPI, Env: lookup, LocalSecret: LocalSecret})
	if err != nil {
		return nil, fmt.Errorf("configuration:\n%w", err)
	}
	return Open(ctx, cfg, log, version)
}
