package server

import (
	"context"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/engine/codex"
	"github.com/vegasec/vega/app/ingest"
	"github.com/vegasec/vega/app/llmproxy"
	"github.com/vegasec/vega/app/ops"
	"github.com/vegasec/vega/app/profile"
	"github.com/vegasec/vega/app/quota"
	"github.com/vegasec/vega/app/repos"
)

// This file maps the configuration onto the options of each service, so
// only the composition root reads app/config: a service takes what it needs
// and can be built in a test without a whole configuration.

func ingestLimits(c *config.Config) ingest.Limits {
	return ingest.Limits{
		MaxSourceBytes: c.MaxSourceBytes,
		MaxEntries:     c.MaxArchiveEntries,
		MaxFileBytes:   c.MaxArchiveFileBytes,
		MaxTotalBytes:  c.MaxArchiveUncompressedBytes,
	}
}

func quotaLimits(c *config.Config) quota.Limits {
	return quota.Limits{Projects: c.MaxProjectsPerUser, Repositories: c.MaxRepositoriesPerUser, StoredBytes: c.MaxStoredBytesPerUser}
}

// tempDir is where ingests, profiles and scans unpack snapshots: under the
// data directory, on the same disk as the snapshots and private to Vega.

func reposOptions(env *Env, quotas *quota.Checker, profiles profile.Generator) repos.Options {
	c := env.Config
	return repos.Options{Limits: ingestLimits(c), TempDir: env.TempDir(), PublicURL: c.PublicURL,
		GitUploadTTL: c.GitUploadTTL, GitAllowPrivateHosts: c.GitAllowPrivateHosts, GitCloneTimeout: c.GitCloneTimeout,
		Quotas: quotas, Profiles: profiles, Logger: env.Log}
}

// NewOps builds the operator service of the api and maintenance roles.
func NewOps(env *Env, rec ops.Recoverer) *ops.Service {
	c := env.Config
	return ops.New(env.Store, env.Blobs, rec, ops.Options{
		WorkerHeartbeatTTL: c.WorkerHeartbeatTTL,
		Quotas:             quota.New(env.Store, quotaLimits(c)),
		Logger:             env.Log,
		InForce: ops.Limits{
			ExecutionMode: c.ScanExecutionMode, WorkerExecutionMode: c.ScanWorkerExecutionMode, ThreadConcurrency: c.ThreadConcurrency,
			MaxActiveScansPerUser: c.MaxActiveScansPerUser, ScanMaxAttempts: c.ScanMaxAttempts,
			ScanHeartbeatSeconds: int(c.ScanHeartbeat.Seconds()), ScanHeartbeatTTLSeconds: int(c.ScanHeartbeatTTL.Seconds()),
			ScanRunningStaleSeconds: int(c.ScanRunningStale.Seconds()), MaxSourceBytes: c.MaxSourceBytes, MaxArchiveEntries: c.MaxArchiveEntries,
			MaxArchiveFileBytes: c.MaxArchiveFileBytes, MaxArchiveUncompressed: c.MaxArchiveUncompressedBytes, CodexConcurrency: c.CodexConcurrency,
			LLMMaxRequestsPerScan: c.LLMProxyMaxRequestsPerScan, LLMMaxTokensPerScan: c.LLMProxyMaxTokensPerScan, LLMMaxCostUSDPerScan: c.LLMProxyMaxCostUSDPerScan,
		},
	})
}

// LLMProxyConfig is the proxy's configuration (the llm-proxy role, or the
// api role hosting it in-process).
func LLMProxyConfig(c *config.Config) (llmproxy.Config, error) {
	pc := llmproxy.Config{
		ProviderBaseURL:    c.LLMProviderBaseURL,
		ProviderAPIKey:     c.LLMProviderAPIKey,
		AdminToken:         c.LLMProxyAdminToken,
		TokenTTL:           c.LLMProxyTokenTTL,
		MaxRequestsPerScan: c.LLMProxyMaxRequestsPerScan,
		MaxTokensPerScan:   c.LLMProxyMaxTokensPerScan,
		MaxCostUSDPerScan:  c.LLMProxyMaxCostUSDPerScan,
		PriceUSDPer1K:      c.LLMProxyPriceUSDPer1K,
	}
	if c.LLMProxyPrices != "" {
		prices, err := llmproxy.ParsePrices(c.LLMProxyPrices)
		if err != nil {
			return llmproxy.Config{}, err
		}
		pc.Prices = prices
	}
	return pc, nil
}

func codexSetup(c *config.Config) codex.Setup {
	return codex.Setup{Sandbox: c.CodexSandbox, Bin: c.CodexBin, ProviderKey: c.LLMProviderAPIKey != "", ProxyURL: c.LLMProxyURL}
}

// codexConfig is the engine's configuration with its sandbox resolved;
// network is the proxy-only Docker network a sandboxed Codex joins.
func codexConfig(ctx context.Context, c *config.Config, network string) codex.Config {
	return codex.Config{
		Bin: c.CodexBin, Model: c.CodexModel, Concurrency: c.CodexConcurrency,
		CallTimeout: c.CodexCallTimeout, IdleTimeout: c.CodexIdleTimeout, Validate: c.CodexValidate,
		Sandbox: codex.ResolveSandbox(ctx, c.CodexSandbox, c.CodexImage, network),
	}
}
