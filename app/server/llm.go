package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/engine/codex"
	"github.com/vegasec/vega/app/llmproxy"
	"github.com/vegasec/vega/app/profile"
	"github.com/vegasec/vega/app/runner"
	"github.com/vegasec/vega/auth"
)

// tokenSource mints scan- and profile-scoped proxy tokens (in-process or
// remote proxy) and flushes usage the proxy has not written yet.
type tokenSource interface {
	ScanToken(ctx context.Context, scanID string) (engine.LLM, error)
	ProfileToken(ctx context.Context, repositoryID string) (engine.LLM, error)
	Flush(ctx context.Context) error
}

// llmStack is the AI side of a process: the codex engine when it is usable,
// the token source it needs, and what to close at shutdown.
type llmStack struct {
	codex    *codex.Engine
	unusable *codex.Unusable // why codex is nil, for GET /v1/engines
	tokens   tokenSource
	close    func()
}

// newLLM builds the codex engine and its proxy access. Without a usable Codex
// (no CLI, no provider) it returns an empty stack and says why in the log:
// scans then run the offline engines only.
func newLLM(ctx context.Context, env *Env) (*llmStack, error) {
	cfg := env.Config
	if err := codex.Usable(codexSetup(cfg)); err != nil {
		env.Log.Info("AI audit (codex engine) unavailable; scans run the offline engines", "reason", err.Error())
		u := &codex.Unusable{Reason: err.Error()}
		errors.As(err, &u)
		return &llmStack{unusable: u, close: func() {}}, nil
	}
	stack := &llmStack{close: func() {}}
	switch {
	case cfg.Role == config.RoleRunner && cfg.ECS.ScanToken != "":
		// An ECS runner task: its worker minted the scan's token; the task
		// holds no admin token (docs/aws.md).
		stack.tokens = fixedToken{engine.LLM{BaseURL: strings.TrimRight(cfg.LLMProxyURL, "/"), Token: cfg.ECS.ScanToken}}
	case cfg.LLMProxyURL != "":
		stack.tokens = llmproxy.RemoteTokenSource{ProxyURL: cfg.LLMProxyURL, AdminToken: cfg.LLMProxyAdminToken}
	default:
		// Local mode: the api process hosts the proxy on a loopback port, so
		// the provider key stays in this process and out of Codex's environment.
		pcfg, err := LLMProxyConfig(cfg)
		if err != nil {
			return nil, err
		}
		if pcfg.AdminToken == "" {
			// Tokens of an in-process proxy are minted and checked by this
			// process alone, so a per-process key is enough (and never shared).
			pcfg.AdminToken = auth.RandomToken(32)
		}
		p := llmproxy.New(pcfg, env.Store, llmproxy.WithLogger(env.Log.With("component", "llm-proxy")))
		ls, err := p.ServeLoopback()
		if err != nil {
			return nil, fmt.Errorf("start the in-process LLM proxy: %w", err)
		}
		stack.tokens = ls.TokenSource(p)
		stack.close = func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = ls.Close(ctx)
			p.Close()
		}
		env.Log.Info("LLM proxy running in-process", "url", ls.URL)
	}
	stack.codex = codex.New(codexConfig(ctx, cfg, "vega-llm"))
	return stack, nil
}

// runnerTokens is the runner's token source, nil without the codex engine.
func (l *llmStack) runnerTokens() runner.TokenSource {
	if l.tokens == nil {
		return nil
	}
	return l.tokens
}

// profileGenerator is Codex with the deterministic fallback, or nil when
// Codex is not usable (the repos service keeps its default).
func (l *llmStack) profileGenerator(env *Env) profile.Generator {
	if l.codex == nil {
		return nil
	}
	return &profile.Codex{Engine: l.codex, Tokens: l.tokens, Blobs: env.Blobs,
		Limits: ingestLimits(env.Config), TempDir: env.TempDir(),
		Fallback: profile.Manifest{Blobs: env.Blobs}, Log: env.Log}
}
