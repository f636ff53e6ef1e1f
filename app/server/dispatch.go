package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/vegasec/vega/app/awsconf"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/engine"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/dispatch"
	"github.com/vegasec/vega/dispatch/ecsrun"
	"github.com/vegasec/vega/dispatch/queue"
	"github.com/vegasec/vega/dispatch/queue/sqsqueue"
)

// WorkerDispatcher is the dispatcher a process runs: the thread or external
// pool, or the sqs one (docs/aws.md).
type WorkerDispatcher interface {
	dispatch.Dispatcher
	ID() string
	Running() []string
}

// awsClientConfig loads the shared AWS client configuration of a process,
// with the endpoint override of VEGA_AWS_ENDPOINT_URL.
func (e *Env) awsClientConfig(ctx context.Context) (awsconf.Options, error) {
	o := e.aws
	if e.Config.AWSEndpointURL != "" {
		o.Endpoint = e.Config.AWSEndpointURL
	}
	o.Log = e.Log
	return o, nil
}

// scanQueue is the SQS queue of VEGA_SCAN_QUEUE_URL, nil in other modes.
func scanQueue(ctx context.Context, env *Env) (queue.Queue, error) {
	if env.Config.ScanExecutionMode != "sqs" {
		return nil, nil
	}
	o, _ := env.awsClientConfig(ctx)
	awsCfg, err := awsconf.Load(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("VEGA_SCAN_EXECUTION_MODE=sqs: %w", err)
	}
	return sqsqueue.New(awsCfg, env.Config.ScanQueueURL), nil
}

// workerMode names how a process takes and runs scans, for its worker row.
func workerMode(cfg *config.Config) string {
	return cfg.ScanExecutionMode + "+" + cfg.ScanWorkerExecutionMode
}

// newLauncher builds the ECS runner of VEGA_SCAN_WORKER_EXECUTION_MODE=ecs.
func newLauncher(ctx context.Context, env *Env, svc *scans.Service, llm *llmStack) (*ecsrun.Launcher, error) {
	cfg := env.Config
	o, _ := env.awsClientConfig(ctx)
	awsCfg, err := awsconf.Load(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("VEGA_SCAN_WORKER_EXECUTION_MODE=ecs: %w", err)
	}
	lc := ecsrun.Config{Cluster: cfg.ECS.Cluster, TaskDefinition: cfg.ECS.TaskDefinition, Container: cfg.ECS.Container,
		Subnets: cfg.ECS.Subnets, SecurityGroups: cfg.ECS.SecurityGroups, WorkerTTL: cfg.WorkerHeartbeatTTL,
		Poll: ecsPoll(cfg.ScanHeartbeat), Logger: env.Log}
	if llm.tokens != nil {
		// The worker holds the proxy's admin token; the task gets only the
		// scan's own token (docs/deploy-aws.md).
		lc.Tokens, lc.TokenEnv = scanTokens{llm.tokens}, "VEGA_LLM_SCAN_TOKEN"
	}
	return ecsrun.New(ecs.NewFromConfig(awsCfg), env.Store, svc, lc), nil
}

// ecsPoll is how often a task is described: twice per runner heartbeat,
// between 1 and 5 seconds.
func ecsPoll(heartbeat time.Duration) time.Duration {
	return min(max(heartbeat/2, time.Second), 5*time.Second)
}

// scanTokens adapts the process's token source to the launcher's.
type scanTokens struct{ src tokenSource }

func (s scanTokens) ScanToken(ctx context.Context, scanID string) (string, error) {
	llm, err := s.src.ScanToken(ctx, scanID)
	return llm.Token, err
}

// fixedToken is the token source of a runner task: the one scan token its
// worker handed it (VEGA_LLM_SCAN_TOKEN).
type fixedToken struct{ llm engine.LLM }

func (f fixedToken) ScanToken(ctx context.Context, scanID string) (engine.LLM, error) {
	return f.llm, nil
}
func (f fixedToken) ProfileToken(ctx context.Context, repositoryID string) (engine.LLM, error) {
	return engine.LLM{}, errors.New("a runner task mints no profile tokens")
}
func (f fixedToken) Flush(ctx context.Context) error { return nil }

// newWorkerDispatcher builds the dispatcher of a process that runs scans.
func newWorkerDispatcher(ctx context.Context, env *Env, svc *scans.Service, run dispatch.Runner, q queue.Queue, send *dispatch.Sender, llm *llmStack) (WorkerDispatcher, error) {
	cfg := env.Config
	opt := dispatch.Options{Concurrency: cfg.ThreadConcurrency, Version: env.Version, Logger: env.Log,
		RecoverInterval: recoverInterval(cfg.ScanHeartbeatTTL), WorkerHeartbeat: workerHeartbeat(cfg.WorkerHeartbeatTTL),
		Mode: workerMode(cfg), ReleaseTimeout: ScanReleaseTimeout,
		// The bolt file is locked by this process: nothing else can be
		// running its scans, so whatever is claimed/running was abandoned.
		RecoverAbandonedAtStart: cfg.PersistenceBackend == "bolt"}
	var launcher *ecsrun.Launcher
	if cfg.ScanWorkerExecutionMode == "ecs" {
		l, err := newLauncher(ctx, env, svc, llm)
		if err != nil {
			return nil, err
		}
		launcher, run = l, l
	}
	var d WorkerDispatcher
	switch cfg.ScanExecutionMode {
	case "thread":
		d = dispatch.NewThread(env.Store, run, svc, opt)
	case "external":
		d = dispatch.NewExternal(env.Store, run, svc, opt)
	case "sqs":
		d = dispatch.NewSQS(env.Store, q, send, run, svc, dispatch.SQSOptions{Options: opt})
	default:
		return nil, fmt.Errorf("VEGA_SCAN_EXECUTION_MODE=%s is not supported", cfg.ScanExecutionMode)
	}
	if launcher != nil {
		launcher.SetWorkerID(d.ID())
	}
	return d, nil
}

// workerHeartbeat refreshes the worker row three times per TTL, at most
// every 10 seconds.
func workerHeartbeat(ttl time.Duration) time.Duration {
	return min(max(ttl/3, 200*time.Millisecond), 10*time.Second)
}
