// Package codex is the AI audit engine (docs/architecture.md, "A scan's life"): it drives the Codex CLI
// through three stages — plan, audit per component, validate — with prompts
// and JSON schemas embedded from versioned files, and treats everything the
// model says as hostile input.
package codex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/store"
)

// Name is the engine name used in scans and findings.
const Name = "codex"

// Config tunes the engine; the composition root (app/server) fills it from
// the process configuration.
type Config struct {
	Bin         string
	Model       string
	Concurrency int           // component audits in parallel
	CallTimeout time.Duration // wall clock per Codex call
	IdleTimeout time.Duration // longest silence per Codex call
	Validate    bool
	// Exclusions are the hard exclusions written into every prompt.
	Exclusions []string
	// MaxComponents bounds the plan (default 12).
	MaxComponents int
	Sandbox       Sandbox // default HostSandbox
	Runner        Runner  // default ExecRunner
	// Cost estimates a turn's cost for usage events (e.g. llmproxy.Config.Cost,
	// so events and the proxy's records agree); nil reports 0. The proxy's
	// usage records stay the billing source of truth.
	Cost func(model string, input, cached, output int64) float64
}

// ResolveSandbox picks the sandbox for VEGA_CODEX_SANDBOX (mode): docker,
// none, or auto (docker when an engine answers). image is VEGA_CODEX_IMAGE;
// network is the proxy-only Docker network the container joins.
func ResolveSandbox(ctx context.Context, mode, image, network string) Sandbox {
	docker := DockerSandbox{Image: image, Network: network}
	switch mode {
	case "docker":
		return docker
	case "none":
		return HostSandbox{}
	}
	if DockerAvailable(ctx, "docker") {
		return docker
	}
	return HostSandbox{}
}

// Setup is what Usable looks at: how Codex would run and where its model
// traffic would go.
type Setup struct {
	Sandbox     string // VEGA_CODEX_SANDBOX
	Bin         string // VEGA_CODEX_BIN
	ProviderKey bool   // VEGA_LLM_PROVIDER_API_KEY is set (for the in-process proxy)
	ProxyURL    string // VEGA_LLM_PROXY_URL
}

// Usable tells whether the codex engine can run here (for VEGA_SCAN_ENGINES=auto):
// the CLI must be found (the docker CLI instead, with VEGA_CODEX_SANDBOX=docker,
// since Codex then lives in the image) and model traffic must have somewhere
// to go — a provider key for the in-process proxy, or a remote proxy URL.
func Usable(c Setup) error {
	if c.Sandbox == "docker" {
		if _, err := exec.LookPath("docker"); err != nil {
			return &Unusable{Reason: "VEGA_CODEX_SANDBOX=docker but the docker CLI is not installed",
				Enable: "install the docker CLI, or set VEGA_CODEX_SANDBOX=none to run Codex on the host"}
		}
	} else if _, err := exec.LookPath(c.Bin); err != nil {
		return &Unusable{Reason: fmt.Sprintf("codex CLI %q not found (VEGA_CODEX_BIN)", c.Bin),
			Enable: "install the Codex CLI (npm install -g @openai/codex) on PATH, or set VEGA_CODEX_BIN to its path"}
	}
	if !c.ProviderKey && c.ProxyURL == "" {
		return &Unusable{Reason: "no model provider configured (VEGA_LLM_PROVIDER_API_KEY or VEGA_LLM_PROXY_URL)",
			Enable: "set VEGA_LLM_PROVIDER_API_KEY (the in-process LLM proxy) or VEGA_LLM_PROXY_URL (a remote one)"}
	}
	return nil
}

// Unusable says why the codex engine cannot run here and how an operator
// enables it. Both texts name variables and programs, never their values
// beyond the CLI path (GET /v1/engines shows them to every user).
type Unusable struct {
	Reason string
	Enable string
}

func (u *Unusable) Error() string { return u.Reason }

// Engine is the codex engine. It is safe to run several scans at once.
type Engine struct {
	cfg Config
	seq atomic.Int64 // numbers call directories in the artifacts
}

// New builds the engine, filling defaults.
func New(cfg Config) *Engine {
	if cfg.Bin == "" {
		cfg.Bin = "codex"
	}
	if cfg.Model == "" {
		cfg.Model = "gpt-5-codex"
	}
	cfg.Concurrency = max(cfg.Concurrency, 1)
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Minute
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 5 * time.Minute
	}
	if cfg.Exclusions == nil {
		cfg.Exclusions = DefaultExclusions
	}
	if cfg.MaxComponents <= 0 {
		cfg.MaxComponents = 12
	}
	if cfg.Sandbox == nil {
		cfg.Sandbox = HostSandbox{}
	}
	if cfg.Runner == nil {
		cfg.Runner = ExecRunner{}
	}
	return &Engine{cfg: cfg}
}

func (e *Engine) Name() string { return Name }

// NeedsLLM tells the runner to mint a scan token for this engine.
func (e *Engine) NeedsLLM() bool { return true }

// scanRun is the state of one Run.
type scanRun struct {
	e      *Engine
	in     engine.Input
	emit   engine.Emitter
	tree   *tree
	filter filter
	base   promptData
}

// Run audits in.SourceDir. It returns an error wrapping
// engine.ErrBudgetExceeded when the proxy cut the scan off; every finding
// reported before that has already been emitted.
func (e *Engine) Run(ctx context.Context, in engine.Input, emit engine.Emitter) error {
	if in.LLM.BaseURL == "" || in.LLM.Token == "" {
		return errors.New("codex: no LLM endpoint for this scan")
	}
	if in.ArtifactDir == "" {
		// Nowhere to keep debug output: use a private directory for this run only.
		dir, err := os.MkdirTemp("", "vega-codex-")
		if err != nil {
			return fmt.Errorf("codex: work directory: %w", err)
		}
		defer os.RemoveAll(dir)
		in.ArtifactDir = dir
	}
	r := &scanRun{
		e: e, in: in, emit: emit, tree: newTree(in.SourceDir), filter: newFilter(in.Paths, in.Profile),
		base: promptData{Profile: in.Profile, Exclusions: e.cfg.Exclusions, MaxComponents: e.cfg.MaxComponents},
	}
	r.base.Scope = r.filter.scope

	emit.Progress(store.ScanProgress{Percent: 1, Message: "Planning the audit", Stage: "plan"})
	comps, err := r.plan(ctx)
	if err != nil {
		return err // budget or cancellation: nothing more can run
	}
	return r.auditAll(ctx, comps)
}

// plan runs the plan stage. A plan that fails for any reason other than
// budget or cancellation falls back to auditing the scope as one component,
// recorded as a failed stage, so a scan still produces an audit.
func (r *scanRun) plan(ctx context.Context) ([]component, error) {
	prompt, err := renderPrompt(StagePlan, r.base)
	if err != nil {
		return nil, err
	}
	res, err := r.e.run(ctx, r.in, r.emit, callSpec{stage: StagePlan, label: "plan", prompt: prompt, schema: schemaFor(StagePlan)})
	var comps []component
	if err == nil {
		var out struct {
			Components []component `json:"components"`
		}
		if jerr := json.Unmarshal([]byte(res.final), &out); jerr != nil {
			err = fmt.Errorf("the plan is not valid JSON: %v", jerr)
		} else {
			comps = planComponents(out.Components, r.tree, r.filter, r.e.cfg.MaxComponents, r.in.LLM.Token)
			if len(comps) == 0 && len(out.Components) > 0 {
				r.emit.Log("warn", "codex plan: every proposed component named paths outside the repository or scope; auditing the whole scope")
			}
		}
	}
	if fatal(ctx, err) {
		r.emit.Stage(store.StageResult{Engine: Name, Stage: StagePlan, Status: store.StageFailed, Message: stageMessage(err)})
		return nil, err
	}
	if err != nil {
		r.emit.Stage(store.StageResult{Engine: Name, Stage: StagePlan, Status: store.StageFailed, Message: stageMessage(err) + "; auditing the whole scope as one component"})
		r.emit.Log("warn", "codex plan failed: "+stageMessage(err))
		return []component{r.wholeScope()}, nil
	}
	if len(comps) == 0 {
		comps = []component{r.wholeScope()}
	}
	sort.SliceStable(comps, func(i, j int) bool { return priorityRank(comps[i].Priority) > priorityRank(comps[j].Priority) })
	r.emit.Stage(store.StageResult{Engine: Name, Stage: StagePlan, Status: store.StageSucceeded, Message: fmt.Sprintf("%d components", len(comps))})
	return comps, nil
}

func (r *scanRun) wholeScope() component {
	paths := r.filter.scope
	if len(paths) == 0 {
		paths = []string{"."}
	}
	return component{Name: "whole repository", Paths: paths, Rationale: "fallback: no usable plan", Priority: "high"}
}

func priorityRank(p string) int {
	return map[string]int{"high": 2, "medium": 1}[p]
}

// fatal: errors after which no further call can succeed.
func fatal(ctx context.Context, err error) bool {
	return err != nil && (errors.Is(err, engine.ErrBudgetExceeded) || ctx.Err() != nil)
}

// stageMessage is an error as a stage message: short and without paths.
func stageMessage(err error) string {
	m := err.Error()
	if len(m) > 300 {
		m = m[:300] + "…"
	}
	return m
}

// componentOutcome is what auditing one component ended with.
type componentOutcome struct {
	auditErr    error
	validateErr error
	validated   bool
	reported    int
}

// auditAll audits the components with bounded concurrency. Each component's
// findings are validated (when enabled) and emitted as soon as that component
// is done, so a budget stop keeps everything found so far.
func (r *scanRun) auditAll(ctx context.Context, comps []component) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := len(comps)
	outcomes := make([]componentOutcome, total)
	var done atomic.Int64
	var budgetErr atomic.Value
	sem := make(chan struct{}, r.e.cfg.Concurrency)
	var wg sync.WaitGroup
	r.emit.Progress(store.ScanProgress{Percent: 5, Message: "Auditing components", ComponentsTotal: total,
		Stage: "audit", Total: total, Unit: "components"})
	for i, c := range comps {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.emit.Progress(store.ScanProgress{Percent: progressPercent(int(done.Load()), total), Message: "Auditing " + c.Name,
				Component: c.Name, ComponentsDone: int(done.Load()), ComponentsTotal: total,
				Stage: "audit", Done: int(done.Load()), Total: total, Unit: "components"})
			out := r.component(ctx, c)
			outcomes[i] = out
			for _, err := range []error{out.auditErr, out.validateErr} {
				if err != nil && errors.Is(err, engine.ErrBudgetExceeded) {
					budgetErr.CompareAndSwap(nil, err)
					cancel() // stop the other audits: the proxy refuses them anyway
				}
			}
			d := int(done.Add(1))
			r.emit.Progress(store.ScanProgress{Percent: progressPercent(d, total), Message: "Audited " + c.Name,
				Component: c.Name, ComponentsDone: d, ComponentsTotal: total,
				Stage: "audit", Done: d, Total: total, Unit: "components"})
		}()
	}
	wg.Wait()
	r.reportStages(comps, outcomes, ctx)

	if v := budgetErr.Load(); v != nil {
		return fmt.Errorf("codex: %w", v.(error))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := 0
	for _, o := range outcomes {
		if o.auditErr != nil {
			failed++
		}
	}
	if failed == total {
		return fmt.Errorf("codex: every component audit failed (first: %s)", stageMessage(outcomes[0].auditErr))
	}
	r.emit.Progress(store.ScanProgress{Percent: 100, Message: "Audit finished", ComponentsDone: total, ComponentsTotal: total,
		Stage: "audit", Done: total, Total: total, Unit: "components"})
	return nil
}

func progressPercent(done, total int) int {
	if total == 0 {
		return 95
	}
	return 5 + 90*done/total
}

func (r *scanRun) reportStages(comps []component, outs []componentOutcome, ctx context.Context) {
	var auditFailed, validateFailed, validated, notRun []string
	findings := 0
	for i, o := range outs {
		findings += o.reported
		switch {
		case o.auditErr != nil:
			auditFailed = append(auditFailed, comps[i].Name+": "+stageMessage(o.auditErr))
		case o.validateErr != nil:
			validateFailed = append(validateFailed, comps[i].Name+": "+stageMessage(o.validateErr))
		case o.validated:
			validated = append(validated, comps[i].Name)
		}
		if o.auditErr == nil && o.reported == 0 && !o.validated && ctx.Err() != nil {
			notRun = append(notRun, comps[i].Name)
		}
	}
	audit := store.StageResult{Engine: Name, Stage: StageAudit, Status: store.StageSucceeded,
		Message: fmt.Sprintf("%d components, %d findings reported", len(comps), findings)}
	if len(auditFailed) > 0 {
		audit.Status = "failed"
		audit.Message = fmt.Sprintf("%d of %d components failed: %s", len(auditFailed), len(comps), strings.Join(auditFailed, "; "))
	}
	r.emit.Stage(audit)
	val := store.StageResult{Engine: Name, Stage: StageValidate}
	switch {
	case !r.e.cfg.Validate:
		val.Status, val.Message = store.StageSkipped, "disabled (VEGA_CODEX_VALIDATE=false)"
	case len(validateFailed) > 0:
		val.Status = "failed"
		val.Message = fmt.Sprintf("%d components unvalidated (findings kept as reported): %s", len(validateFailed), strings.Join(validateFailed, "; "))
	case len(validated) == 0:
		val.Status, val.Message = store.StageSkipped, "no findings to validate"
	default:
		val.Status, val.Message = store.StageSucceeded, fmt.Sprintf("%d components validated", len(validated))
	}
	r.emit.Stage(val)
}

// component audits, validates and reports one component.
func (r *scanRun) component(ctx context.Context, c component) componentOutcome {
	var out componentOutcome
	d := r.base
	d.Component = c
	prompt, err := renderPrompt(StageAudit, d)
	if err != nil {
		out.auditErr = err
		return out
	}
	res, err := r.e.run(ctx, r.in, r.emit, callSpec{stage: StageAudit, label: "audit " + c.Name, prompt: prompt, schema: schemaFor(StageAudit)})
	if err != nil {
		out.auditErr = err
		return out
	}
	var parsed struct {
		Findings []rawFinding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(res.final), &parsed); err != nil {
		out.auditErr = fmt.Errorf("the audit answer is not valid JSON: %v", err)
		return out
	}
	if len(parsed.Findings) > maxFindings {
		r.emit.Log("warn", fmt.Sprintf("codex audit %s: %d findings, keeping the first %d", c.Name, len(parsed.Findings), maxFindings))
		parsed.Findings = parsed.Findings[:maxFindings]
	}
	var reports []engine.Report
	seen := map[string]bool{}
	for _, rf := range parsed.Findings {
		rep, why := toReport(rf, r.tree, r.filter, r.in.LLM.Token)
		if why != "" {
			r.emit.Log("warn", fmt.Sprintf("codex audit %s: dropped a finding: %s", c.Name, why))
			continue
		}
		if seen[rep.Key] {
			continue
		}
		seen[rep.Key] = true
		reports = append(reports, rep)
	}
	if r.e.cfg.Validate && len(reports) > 0 {
		reports, out.validateErr = r.validate(ctx, c, reports)
		out.validated = out.validateErr == nil
	}
	for _, rep := range reports {
		if r.filter.threshold >= 0 && store.SeverityRank(rep.Severity) < r.filter.threshold {
			continue
		}
		r.emit.Finding(rep)
		out.reported++
	}
	return out
}

// validate asks for a verdict on each finding. It returns the findings to
// report: rejected ones dropped, downgraded ones lowered, confidence set. On
// error it returns the findings unchanged (they were found; the second look
// just did not happen).
func (r *scanRun) validate(ctx context.Context, c component, reps []engine.Report) ([]engine.Report, error) {
	d := r.base
	d.Component = c
	for i, rep := range reps {
		d.Findings = append(d.Findings, validateItem{ID: fmt.Sprintf("F%d", i+1), Title: rep.Title, Severity: rep.Severity,
			Confidence: rep.Confidence, Category: rep.Category, Description: rep.Description,
			FilePath: rep.FilePath, StartLine: rep.StartLine, EndLine: rep.EndLine})
	}
	prompt, err := renderPrompt(StageValidate, d)
	if err != nil {
		return reps, err
	}
	res, err := r.e.run(ctx, r.in, r.emit, callSpec{stage: StageValidate, label: "validate " + c.Name, prompt: prompt, schema: schemaFor(StageValidate)})
	if err != nil {
		return reps, err
	}
	var parsed struct {
		Verdicts []struct {
			ID         string `json:"id"`
			Verdict    string `json:"verdict"`
			Severity   string `json:"severity"`
			Confidence string `json:"confidence"`
			Reason     string `json:"reason"`
		} `json:"verdicts"`
	}
	if err := json.Unmarshal([]byte(res.final), &parsed); err != nil {
		return reps, fmt.Errorf("the validation answer is not valid JSON: %v", err)
	}
	byID := map[string]int{}
	for i := range parsed.Verdicts {
		byID[strings.TrimSpace(parsed.Verdicts[i].ID)] = i
	}
	var kept []engine.Report
	for i, rep := range reps {
		vi, ok := byID[fmt.Sprintf("F%d", i+1)]
		if !ok {
			kept = append(kept, rep) // no verdict: keep as reported
			continue
		}
		v := parsed.Verdicts[vi]
		switch strings.ToLower(v.Verdict) {
		case "rejected":
			r.emit.Log("info", fmt.Sprintf("codex validate %s: dropped %q: %s", c.Name, rep.Title, clip(v.Reason, 300, r.in.LLM.Token)))
			continue
		case "downgraded":
			// Validation may only lower severity, never raise it.
			if s, ok := normSeverity(v.Severity); ok && store.SeverityRank(s) < store.SeverityRank(rep.Severity) {
				rep.Severity = s
			}
			rep.Confidence = normConfidence(v.Confidence)
		case "confirmed":
			if s, ok := normSeverity(v.Severity); ok && store.SeverityRank(s) < store.SeverityRank(rep.Severity) {
				rep.Severity = s
			}
			rep.Confidence = normConfidence(v.Confidence)
		}
		kept = append(kept, rep)
	}
	return kept, nil
}
