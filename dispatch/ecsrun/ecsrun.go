// Package ecsrun runs each scan in its own ECS Fargate task (docs/aws.md,
// "One ECS task per scan"). It is a dispatch.Runner for
// VEGA_SCAN_WORKER_EXECUTION_MODE=ecs: Run launches `vega runner --scan-id
// ID` with RunTask, records the task (store.RunnerJob) and watches it with
// DescribeTasks until it stops. The runner inside the task moves the scan
// through Start, Heartbeat and Finish itself; the worker only
//
//   - keeps a claimed scan fresh while its task starts (scans.Watch),
//   - stops the task when a cancel is requested (StopTask),
//   - ends the scan when the task stopped without ending it (scans.Abort,
//     with the stop code, reason and exit code), and
//   - hands the scan back to the queue, the attempt not counted, when
//     RunTask fails for capacity or throttling (scans.Unclaim), so the
//     dispatcher offers it again after a backoff.
//
// A worker that stops or dies leaves its tasks running; another worker
// re-attaches (Orphans, then Run finds the recorded task) and never starts a
// second task for the attempt. RunTask's clientToken is the scan ID and
// attempt, so even a retried RunTask whose first answer was lost starts one
// task.
package ecsrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/dispatch"
	"github.com/vegasec/vega/store"
)

// API is the part of the ECS client the launcher uses (*ecs.Client).
type API interface {
	RunTask(ctx context.Context, in *ecs.RunTaskInput, o ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, o ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	StopTask(ctx context.Context, in *ecs.StopTaskInput, o ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

// Lifecycle is the part of app/scans the launcher drives.
type Lifecycle interface {
	Unclaim(ctx context.Context, id string, attempt int, why string) (store.ScanStatus, error)
	Abort(ctx context.Context, id string, attempt int, code store.ScanErrorCode, message string) (*store.Scan, error)
	Watch(ctx context.Context, id string, attempt int, from, to string) (*store.Scan, error)
}

// Store is what the launcher reads and writes directly.
type Store interface {
	GetScan(ctx context.Context, sc store.Scope, id string) (*store.Scan, error)
	ListHeldScans(ctx context.Context) ([]store.Scan, error)
	ListWorkers(ctx context.Context) ([]store.Worker, error)
	store.RunnerJobStore
}

// TokenSource mints the scan-scoped LLM token handed to the task.
type TokenSource interface {
	ScanToken(ctx context.Context, scanID string) (token string, err error)
}

// Config is the launcher's settings (VEGA_ECS_*).
type Config struct {
	Cluster        string
	TaskDefinition string
	Container      string
	Subnets        []string
	SecurityGroups []string
	// AssignPublicIP is off: runners reach AWS through VPC endpoints
	// (docs/deploy-aws.md).
	AssignPublicIP bool

	WorkerID  string // the dispatcher's worker ID (claimed_by)
	WorkerTTL time.Duration
	Poll      time.Duration // DescribeTasks period (5s)
	// TokenEnv names the environment variable of the scan token in the task.
	TokenEnv string
	Tokens   TokenSource // nil: no per-scan environment
	Now      func() time.Time
	Logger   *slog.Logger
}

// Launcher is the ecs runner.
type Launcher struct {
	api API
	st  Store
	lc  Lifecycle
	cfg Config
}

var (
	_ dispatch.Runner   = (*Launcher)(nil)
	_ dispatch.Adopter  = (*Launcher)(nil)
	_ dispatch.Detacher = (*Launcher)(nil)
)

// New builds a launcher.
func New(api API, st Store, lc Lifecycle, cfg Config) *Launcher {
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.WorkerTTL <= 0 {
		cfg.WorkerTTL = time.Minute
	}
	if cfg.Container == "" {
		cfg.Container = "runner"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Launcher{api: api, st: st, lc: lc, cfg: cfg}
}

// SetWorkerID names the worker the launcher watches tasks as (the
// dispatcher's ID, known once it is built).
func (l *Launcher) SetWorkerID(id string) { l.cfg.WorkerID = id }

// Detaches: a stopping worker leaves its tasks running.
func (l *Launcher) Detaches() bool { return true }

// IdempotencyKey is RunTask's clientToken for an attempt of a scan.
func IdempotencyKey(scanID string, attempt int) string { return fmt.Sprintf("%s-%d", scanID, attempt) }

// Run launches (or re-attaches to) the task of the claimed scan scanID and
// watches it until it stops. It returns a *dispatch.RetryError when the task
// could not be launched for now and the scan is queued again, and the
// context's error when the worker stops (the task runs on).
func (l *Launcher) Run(ctx context.Context, scanID string) error {
	bg := context.WithoutCancel(ctx)
	scan, err := l.st.GetScan(bg, store.System(), scanID)
	if err != nil {
		return err
	}
	if !scan.Status.Held() {
		return nil // ended meanwhile
	}
	log := l.cfg.Logger.With("scan_id", scanID, "attempt", scan.Attempt, "worker_id", l.cfg.WorkerID)
	job, err := l.job(bg, scan)
	if err != nil {
		return err
	}
	if job.ECSTaskARN == "" {
		if job, err = l.launch(bg, log, scan, job); err != nil || job == nil {
			return err
		}
	}
	log = log.With("task_arn", job.ECSTaskARN)
	return l.watch(ctx, log, scan, job)
}

// job returns the attempt's recorded job, creating it (pending) first.
func (l *Launcher) job(ctx context.Context, scan *store.Scan) (*store.RunnerJob, error) {
	j, err := l.st.GetRunnerJob(ctx, scan.ID, scan.Attempt)
	if err == nil {
		return j, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	j = &store.RunnerJob{ID: store.NewID(store.PrefixJob), ScanID: scan.ID, Attempt: scan.Attempt,
		IdempotencyKey: IdempotencyKey(scan.ID, scan.Attempt), Status: store.JobPending, CreatedAt: l.cfg.Now().UTC()}
	if err := l.st.CreateRunnerJob(ctx, j); errors.Is(err, store.ErrConflict) {
		return l.st.GetRunnerJob(ctx, scan.ID, scan.Attempt)
	} else if err != nil {
		return nil, err
	}
	return j, nil
}

// launch calls RunTask for the job. A nil job with a nil error means the
// scan was ended (the launch cannot succeed).
func (l *Launcher) launch(ctx context.Context, log *slog.Logger, scan *store.Scan, job *store.RunnerJob) (*store.RunnerJob, error) {
	in := &ecs.RunTaskInput{
		Cluster: &l.cfg.Cluster, TaskDefinition: &l.cfg.TaskDefinition, LaunchType: types.LaunchTypeFargate,
		Count: aws.Int32(1), StartedBy: aws.String(scan.ID), ClientToken: aws.String(job.IdempotencyKey),
		NetworkConfiguration: &types.NetworkConfiguration{AwsvpcConfiguration: &types.AwsVpcConfiguration{
			Subnets: l.cfg.Subnets, SecurityGroups: l.cfg.SecurityGroups, AssignPublicIp: l.publicIP()}},
		Overrides: &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{
			Name: &l.cfg.Container, Command: []string{"runner", "--scan-id", scan.ID}}}},
		Tags: []types.Tag{{Key: aws.String("vega:scan-id"), Value: aws.String(scan.ID)}},
	}
	if l.cfg.Tokens != nil && l.cfg.TokenEnv != "" {
		tok, err := l.cfg.Tokens.ScanToken(ctx, scan.ID)
		if err != nil {
			return nil, l.retry(ctx, log, scan, fmt.Errorf("mint the scan's LLM token: %w", err))
		}
		if tok != "" {
			in.Overrides.ContainerOverrides[0].Environment = []types.KeyValuePair{{Name: &l.cfg.TokenEnv, Value: &tok}}
		}
	}
	out, err := l.api.RunTask(ctx, in)
	if err == nil && len(out.Tasks) == 0 {
		reasons := make([]string, 0, len(out.Failures))
		for _, f := range out.Failures {
			reasons = append(reasons, aws.ToString(f.Reason))
		}
		err = &launchFailure{reasons: reasons}
	}
	if err != nil {
		if retryable(err) {
			return nil, l.retry(ctx, log, scan, err)
		}
		log.Error("RunTask refused; failing the scan", "err", err)
		_, _ = l.st.UpdateRunnerJob(ctx, job.ID, func(j *store.RunnerJob) error {
			j.Status, j.StoppedReason = store.JobFailed, "RunTask: "+errorCode(err)
			return nil
		})
		_, aerr := l.lc.Abort(ctx, scan.ID, scan.Attempt, store.ScanErrRunner,
			"The runner task could not be started ("+errorCode(err)+"); an operator should check the ECS settings")
		if aerr != nil && !errors.Is(aerr, scans.ErrLostClaim) {
			return nil, aerr
		}
		return nil, nil
	}
	arn := aws.ToString(out.Tasks[0].TaskArn)
	job, err = l.st.UpdateRunnerJob(ctx, job.ID, func(j *store.RunnerJob) error {
		j.ECSTaskARN, j.Status = arn, store.JobRunning
		return nil
	})
	if err != nil {
		return nil, err
	}
	log.Info("runner task started", "task_arn", arn)
	return job, nil
}

func (l *Launcher) publicIP() types.AssignPublicIp {
	if l.cfg.AssignPublicIP {
		return types.AssignPublicIpEnabled
	}
	return types.AssignPublicIpDisabled
}

// retry hands the scan back to the queue, the attempt not counted, and
// drops the attempt's job (the next claim is a new attempt).
func (l *Launcher) retry(ctx context.Context, log *slog.Logger, scan *store.Scan, cause error) error {
	log.Warn("runner task not started; the scan goes back to the queue", "err", cause)
	job, err := l.st.GetRunnerJob(ctx, scan.ID, scan.Attempt)
	if err == nil {
		_, _ = l.st.UpdateRunnerJob(ctx, job.ID, func(j *store.RunnerJob) error {
			j.Status, j.StoppedReason = store.JobFailed, "RunTask: "+errorCode(cause)
			return nil
		})
	}
	if _, err := l.lc.Unclaim(ctx, scan.ID, scan.Attempt, "No runner task could be started ("+errorCode(cause)+")"); err != nil {
		return err
	}
	return &dispatch.RetryError{Err: cause}
}

// watch polls the task until it stops, stopping it on a cancel request.
func (l *Launcher) watch(ctx context.Context, log *slog.Logger, scan *store.Scan, job *store.RunnerJob) error {
	t := time.NewTicker(l.cfg.Poll)
	defer t.Stop()
	stopAsked := false
	missing := 0
	for {
		bg := context.WithoutCancel(ctx)
		cur, err := l.st.GetScan(bg, store.System(), scan.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			l.stop(bg, log, job, "scan deleted")
			return nil
		case err != nil:
			log.Warn("read scan", "err", err)
		case cur.Attempt != scan.Attempt || cur.Terminal() && stopAsked:
			return nil
		case cur.Status == store.ScanClaimed:
			// The task is starting: keep the claim fresh.
			if _, err := l.lc.Watch(bg, scan.ID, scan.Attempt, l.cfg.WorkerID, l.cfg.WorkerID); err != nil && !errors.Is(err, scans.ErrLostClaim) {
				log.Warn("keep the claim fresh", "err", err)
			}
		}
		if err == nil && cur.CancelRequestedAt != nil && !cur.Terminal() && !stopAsked {
			log.Info("cancel requested; stopping the runner task")
			stopAsked = l.stop(bg, log, job, "Cancelled by a user")
		}
		task, found, derr := l.describe(bg, job.ECSTaskARN)
		switch {
		case derr != nil:
			log.Warn("DescribeTasks", "err", derr)
		case !found:
			// ECS forgets stopped tasks after about an hour.
			if missing++; missing >= 3 {
				return l.stopped(bg, log, scan, job, "", "the task is gone", nil)
			}
		case aws.ToString(task.LastStatus) == "STOPPED":
			var exit *int32
			for _, c := range task.Containers {
				if aws.ToString(c.Name) == l.cfg.Container {
					exit = c.ExitCode
				}
			}
			return l.stopped(bg, log, scan, job, string(task.StopCode), aws.ToString(task.StoppedReason), exit)
		}
		select {
		case <-ctx.Done():
			log.Info("worker stopping; the runner task runs on")
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (l *Launcher) describe(ctx context.Context, arn string) (types.Task, bool, error) {
	out, err := l.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: &l.cfg.Cluster, Tasks: []string{arn}})
	if err != nil {
		return types.Task{}, false, err
	}
	for _, t := range out.Tasks {
		if aws.ToString(t.TaskArn) == arn {
			return t, true, nil
		}
	}
	return types.Task{}, false, nil
}

func (l *Launcher) stop(ctx context.Context, log *slog.Logger, job *store.RunnerJob, reason string) bool {
	_, err := l.api.StopTask(ctx, &ecs.StopTaskInput{Cluster: &l.cfg.Cluster, Task: &job.ECSTaskARN, Reason: &reason})
	if err != nil {
		log.Warn("StopTask", "err", err)
		return false
	}
	return true
}

// stopped records how the task ended and ends the scan if its runner did
// not: the runner finishes scans itself, so this is a crash, a kill or a
// StopTask before the runner could write the end.
func (l *Launcher) stopped(ctx context.Context, log *slog.Logger, scan *store.Scan, job *store.RunnerJob, code, reason string, exit *int32) error {
	how := describeStop(code, reason, exit)
	_, _ = l.st.UpdateRunnerJob(ctx, job.ID, func(j *store.RunnerJob) error {
		j.Status, j.StoppedReason = store.JobStopped, how
		return nil
	})
	ended, err := l.lc.Abort(ctx, scan.ID, scan.Attempt, store.ScanErrRunner, "The runner task stopped before the scan ended ("+how+")")
	switch {
	case errors.Is(err, scans.ErrLostClaim):
		log.Info("runner task stopped", "how", how)
		return nil
	case err != nil:
		return err
	}
	log.Warn("runner task stopped before its scan ended", "how", how, "status", ended.Status)
	return nil
}

func describeStop(code, reason string, exit *int32) string {
	var parts []string
	if code != "" {
		parts = append(parts, "stop code "+code)
	}
	if reason != "" {
		parts = append(parts, "reason: "+reason)
	}
	if exit != nil {
		parts = append(parts, fmt.Sprintf("exit code %d", *exit))
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, ", ")
}

// Orphans lists held scans with a recorded task whose watcher is gone (its
// worker row is missing or stale) and takes them over (scans.Watch): only one
// surviving worker gets each.
func (l *Launcher) Orphans(ctx context.Context) ([]string, error) {
	held, err := l.st.ListHeldScans(ctx)
	if err != nil || len(held) == 0 {
		return nil, err
	}
	ws, err := l.st.ListWorkers(ctx)
	if err != nil {
		return nil, err
	}
	now := l.cfg.Now()
	alive := map[string]bool{}
	for _, w := range ws {
		if now.Sub(w.LastHeartbeatAt) <= l.cfg.WorkerTTL {
			alive[w.ID] = true
		}
	}
	var out []string
	for _, s := range held {
		if alive[s.ClaimedBy] || s.ClaimedBy == l.cfg.WorkerID {
			continue
		}
		if _, err := l.st.GetRunnerJob(ctx, s.ID, s.Attempt); err != nil {
			continue // not a task of this mode (or never launched: recovery's)
		}
		if _, err := l.lc.Watch(ctx, s.ID, s.Attempt, s.ClaimedBy, l.cfg.WorkerID); err != nil {
			continue // another worker took it
		}
		out = append(out, s.ID)
	}
	return out, nil
}

// launchFailure is a RunTask answer without a task (ECS's failures list:
// RESOURCE:CPU, RESOURCE:MEMORY, capacity of the AZ…).
type launchFailure struct{ reasons []string }

func (e *launchFailure) Error() string {
	return "RunTask started no task: " + strings.Join(e.reasons, "; ")
}

// retryable: capacity and throttling, what the SDK's retryer already gave up
// on, and anything that is not clearly the caller's mistake.
func retryable(err error) bool {
	var lf *launchFailure
	if errors.As(err, &lf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidParameterException", "ClientException", "AccessDeniedException", "ClusterNotFoundException",
			"PlatformUnknownException", "PlatformTaskDefinitionIncompatibilityException", "UnsupportedFeatureException",
			"AccessDenied", "UnrecognizedClientException":
			return false
		}
	}
	return true
}

// errorCode names an error for users without ARNs or SDK text.
func errorCode(err error) string {
	var lf *launchFailure
	if errors.As(err, &lf) {
		if len(lf.reasons) > 0 {
			return "no capacity: " + lf.reasons[0]
		}
		return "no capacity"
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "ECS unavailable"
}
