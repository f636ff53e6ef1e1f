package ecsrun_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/app/scans/scantest"
	"github.com/vegasec/vega/dispatch"
	"github.com/vegasec/vega/dispatch/ecsrun"
	"github.com/vegasec/vega/store"
)

// fakeECS answers like ECS; the test decides what RunTask returns and when
// a task stops.
type fakeECS struct {
	mu      sync.Mutex
	runs    []*ecs.RunTaskInput
	runErr  error
	fail    string
	tasks   map[string]*types.Task
	stopped []string
}

func (f *fakeECS) RunTask(ctx context.Context, in *ecs.RunTaskInput, _ ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, in)
	if f.runErr != nil {
		return nil, f.runErr
	}
	if f.fail != "" {
		return &ecs.RunTaskOutput{Failures: []types.Failure{{Reason: aws.String(f.fail)}}}, nil
	}
	arn := "arn:aws:ecs:us-east-1:123456789012:task/vega/" + aws.ToString(in.ClientToken)
	f.tasks[arn] = &types.Task{TaskArn: aws.String(arn), LastStatus: aws.String("RUNNING")}
	return &ecs.RunTaskOutput{Tasks: []types.Task{*f.tasks[arn]}}, nil
}

func (f *fakeECS) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, _ ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &ecs.DescribeTasksOutput{}
	for _, a := range in.Tasks {
		if t, ok := f.tasks[a]; ok {
			out.Tasks = append(out.Tasks, *t)
		}
	}
	return out, nil
}

func (f *fakeECS) StopTask(ctx context.Context, in *ecs.StopTaskInput, _ ...func(*ecs.Options)) (*ecs.StopTaskOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, aws.ToString(in.Task))
	f.stopLocked(aws.ToString(in.Task), types.TaskStopCodeUserInitiated, aws.ToString(in.Reason), 143)
	return &ecs.StopTaskOutput{}, nil
}

func (f *fakeECS) stopLocked(arn string, code types.TaskStopCode, reason string, exit int32) {
	if t, ok := f.tasks[arn]; ok {
		t.LastStatus, t.StopCode, t.StoppedReason = aws.String("STOPPED"), code, aws.String(reason)
		t.Containers = []types.Container{{Name: aws.String("runner"), ExitCode: aws.Int32(exit)}}
	}
}

func (f *fakeECS) stop(arn string, exit int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopLocked(arn, types.TaskStopCodeEssentialContainerExited, "Essential container in task exited", exit)
}

func (f *fakeECS) runCount() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.runs) }

type tokens struct{}

func (tokens) ScanToken(ctx context.Context, id string) (string, error) { return "tok-" + id, nil }

type fixture struct {
	env *scantest.Env
	svc *scans.Service
	api *fakeECS
	l   *ecsrun.Launcher
	u   *store.User
	rp  *store.Repository
}

func newFixture(t *testing.T) *fixture {
	env := scantest.New(t)
	u := env.User(t)
	rp, _ := env.Repo(t, u.ID, map[string]string{"a.go": "package a\n"})
	svc := scans.New(env.Store, scans.Options{MaxActivePerUser: 10, MaxAttempts: 2, DefaultEngines: []string{"secrets"}, KnownEngines: []string{"secrets"}})
	api := &fakeECS{tasks: map[string]*types.Task{}}
	l := ecsrun.New(api, env.Store, svc, ecsrun.Config{Cluster: "vega", TaskDefinition: "vega-runner:3", Subnets: []string{"subnet-a"},
		SecurityGroups: []string{"sg-r"}, WorkerID: "wrk_a", Poll: 10 * time.Millisecond, Tokens: tokens{}, TokenEnv: "VEGA_LLM_SCAN_TOKEN"})
	return &fixture{env: env, svc: svc, api: api, l: l, u: u, rp: rp}
}

func (f *fixture) claimed(t *testing.T) *store.Scan {
	s, err := f.svc.Create(context.Background(), store.OwnedBy(f.u.ID), f.u.ID, f.rp.ID, scans.CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.ClaimScan(context.Background(), s.ID, "wrk_a")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runAsync(l *ecsrun.Launcher, ctx context.Context, id string) chan error {
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, id) }()
	return done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestTaskThatStopsEarlyFailsTheScan(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	s := f.claimed(t)
	done := runAsync(f.l, ctx, s.ID)
	waitFor(t, "RunTask", func() bool { return f.api.runCount() == 1 })
	in := f.api.runs[0]
	ov := in.Overrides.ContainerOverrides[0]
	if in.LaunchType != types.LaunchTypeFargate || aws.ToString(in.StartedBy) != s.ID || aws.ToString(in.ClientToken) != s.ID+"-1" ||
		strings.Join(ov.Command, " ") != "runner --scan-id "+s.ID || aws.ToString(ov.Name) != "runner" ||
		in.NetworkConfiguration.AwsvpcConfiguration.Subnets[0] != "subnet-a" || in.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0] != "sg-r" ||
		len(ov.Environment) != 1 || aws.ToString(ov.Environment[0].Name) != "VEGA_LLM_SCAN_TOKEN" || aws.ToString(ov.Environment[0].Value) != "tok-"+s.ID {
		t.Fatalf("RunTask input: %+v %+v", in, ov)
	}
	waitFor(t, "the job", func() bool { j, err := f.env.Store.GetRunnerJob(ctx, s.ID, 1); return err == nil && j.ECSTaskARN != "" })
	job, err := f.env.Store.GetRunnerJob(ctx, s.ID, 1)
	if err != nil || !strings.HasSuffix(job.ECSTaskARN, s.ID+"-1") || job.Status != store.JobRunning {
		t.Fatalf("job: %+v %v", job, err)
	}
	// The task dies before its runner ended the scan (OOM kill).
	f.api.stop(job.ECSTaskARN, 137)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := f.env.Scan(t, s.ID)
	if got.Status != store.ScanFailed || got.Error.Code != store.ScanErrRunner ||
		!strings.Contains(got.Error.Message, "EssentialContainerExited") || !strings.Contains(got.Error.Message, "exit code 137") ||
		strings.Contains(got.Error.Message, "arn:") {
		t.Fatalf("scan: %+v %+v", got, got.Error)
	}
	if j, _ := f.env.Store.GetRunnerJob(ctx, s.ID, 1); j.Status != store.JobStopped {
		t.Fatalf("job after: %+v", j)
	}
}

func TestCancelStopsTheTaskAndReattachStartsNoSecond(t *testing.T) {
	f := newFixture(t)
	ctx, stopWorker := context.WithCancel(context.Background())
	s := f.claimed(t)
	done := runAsync(f.l, ctx, s.ID)
	waitFor(t, "RunTask", func() bool { return f.api.runCount() == 1 })
	waitFor(t, "the job", func() bool { j, err := f.env.Store.GetRunnerJob(ctx, s.ID, 1); return err == nil && j.ECSTaskARN != "" })
	// The worker stops: the task runs on.
	stopWorker()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("a stopping worker: %v", err)
	}
	if len(f.api.stopped) != 0 {
		t.Fatal("a stopping worker stopped its task")
	}
	// Another worker re-attaches: no second RunTask.
	l2 := ecsrun.New(f.api, f.env.Store, f.svc, ecsrun.Config{Cluster: "vega", TaskDefinition: "vega-runner:3", Subnets: []string{"subnet-a"},
		WorkerID: "wrk_b", Poll: 10 * time.Millisecond, WorkerTTL: time.Millisecond})
	time.Sleep(5 * time.Millisecond)
	ids, err := l2.Orphans(context.Background())
	if err != nil || len(ids) != 1 || ids[0] != s.ID {
		t.Fatalf("orphans: %v %v", ids, err)
	}
	if ids, _ := l2.Orphans(context.Background()); len(ids) != 0 {
		t.Fatalf("an orphan is taken once: %v", ids)
	}
	done = runAsync(l2, context.Background(), s.ID)
	if _, err := f.svc.Cancel(context.Background(), store.OwnedBy(f.u.ID), f.u.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if f.api.runCount() != 1 || len(f.api.stopped) != 1 {
		t.Fatalf("RunTask %d, StopTask %d", f.api.runCount(), len(f.api.stopped))
	}
	if got := f.env.Scan(t, s.ID); got.Status != store.ScanCancelled {
		t.Fatalf("scan: %s", got.Status)
	}
}

func TestLaunchFailures(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// No capacity: back to the queue, the attempt not counted.
	f.api.fail = "RESOURCE:CPU"
	s := f.claimed(t)
	var retry *dispatch.RetryError
	if err := f.l.Run(ctx, s.ID); !errors.As(err, &retry) {
		t.Fatalf("capacity: %v", err)
	}
	if got := f.env.Scan(t, s.ID); got.Status != store.ScanQueued || got.Attempt != 0 {
		t.Fatalf("after no capacity: %s attempt %d", got.Status, got.Attempt)
	}
	// Throttling the SDK gave up on: the same.
	f.api.fail, f.api.runErr = "", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	c, _ := f.svc.ClaimScan(ctx, s.ID, "wrk_a")
	if err := f.l.Run(ctx, c.ID); !errors.As(err, &retry) {
		t.Fatalf("throttled: %v", err)
	}
	// A refusal that will not pass by itself fails the scan, without the SDK's text.
	f.api.runErr = &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::123456789012:assumed-role/w is not authorized"}
	c, _ = f.svc.ClaimScan(ctx, s.ID, "wrk_a")
	if err := f.l.Run(ctx, c.ID); err != nil {
		t.Fatalf("denied: %v", err)
	}
	got := f.env.Scan(t, s.ID)
	if got.Status != store.ScanFailed || !strings.Contains(got.Error.Message, "AccessDeniedException") || strings.Contains(got.Error.Message, "arn:") {
		t.Fatalf("denied: %+v %+v", got, got.Error)
	}
}
