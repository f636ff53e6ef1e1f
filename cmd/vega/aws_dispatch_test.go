package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/vegasec/vega/dispatch/queue"
	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/awsemu"
	"github.com/vegasec/vega/testutil/fakefargate"
	"github.com/vegasec/vega/testutil/srctree"
)

// awsDeployment is the AWS runtime of docs/aws.md on the emulator: Postgres,
// S3, SQS (with a dead-letter queue), ECS through the Fargate data plane,
// Cognito and Secrets Manager. Processes get the endpoint override only.
type awsDeployment struct {
	t        *testing.T
	emu      *awsemu.Emulator
	fargate  *fakefargate.Fargate
	src, art string
	queueURL string
	base     []string // every process
	worker   []string // + the worker's settings
	dataDirs []string
	api      *client

	mu      sync.Mutex
	taskOut map[string]*apitest.SyncBuffer
}

func newAWSDeployment(t *testing.T) *awsDeployment {
	e := awsemu.Start(t)
	d := &awsDeployment{t: t, emu: e, taskOut: map[string]*apitest.SyncBuffer{}}
	ff, err := fakefargate.Start(fakefargate.Options{Upstream: e.URL, Binary: apitest.VegaBinary(t), WorkDir: t.TempDir(),
		BaseEnv: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, StopGrace: 3 * time.Second,
		Output: func(id string) io.Writer { return d.output(id) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ff.Close)
	d.fargate = ff

	d.src, d.art = awsemu.Unique("vega-source"), awsemu.Unique("vega-artifacts")
	e.CreateBucket(t, d.src)
	e.CreateBucket(t, d.art)
	// Secrets only in Secrets Manager: database URL, auth secret, proxy admin token.
	secret := awsemu.Unique("vega/prod")
	e.CreateSecret(t, secret, `{"VEGA_DATABASE_URL":"`+pgtest.NewDatabase(t)+`","VEGA_AUTH_SECRET":"`+strings.Repeat("s", 40)+
		`","VEGA_LLM_PROXY_ADMIN_TOKEN":"admin-token-in-secret"}`)

	// The queue as deploy/aws makes it, with a short visibility timeout so
	// that a dead worker's message comes back within the test.
	d.queueURL = e.CreateQueueWithDLQ(t, awsemu.Unique("vega-scans"), map[string]string{"VisibilityTimeout": "6"})

	d.base = []string{"VEGA_PERSISTENCE_BACKEND=postgres", "VEGA_FILE_STORAGE_BACKEND=s3", "VEGA_S3_SOURCE_BUCKET=" + d.src,
		"VEGA_S3_ARTIFACTS_BUCKET=" + d.art, "VEGA_SECRETS_MANAGER_SECRET_ID=" + secret, "VEGA_SCAN_ENGINES=secrets",
		"VEGA_LOG_FORMAT=json", "VEGA_SCAN_HEARTBEAT_SECONDS=1", "VEGA_SCAN_HEARTBEAT_TTL_SECONDS=20",
		"VEGA_WORKER_HEARTBEAT_TTL_SECONDS=3", "VEGA_MAX_ACTIVE_SCANS_PER_USER=100",
		"VEGA_DATABASE_URL=", "DATABASE_URL=", "VEGA_AUTH_SECRET=", "VEGA_LLM_PROVIDER_API_KEY=", "VEGA_LLM_PROXY_ADMIN_TOKEN="}
	for k, v := range e.Env() {
		if k == "VEGA_AWS_ENDPOINT_URL" {
			v = ff.URL // ECS's task calls reach the data plane, the rest the emulator
		}
		d.base = append(d.base, k+"="+v)
	}

	// The cluster and the runner task definition: the runner's environment
	// is the task definition's, as deploy/aws sets it.
	var runnerEnv []string
	for _, kv := range d.base {
		if _, v, _ := strings.Cut(kv, "="); v != "" {
			runnerEnv = append(runnerEnv, kv)
		}
	}
	cluster := awsemu.Unique("vega")
	taskDef := e.RegisterTask(t, ff.URL, awsemu.TaskDefinition{Cluster: cluster, Family: awsemu.Unique("vega-runner"), Container: "runner",
		Image: "vega-runner:test", Env: runnerEnv})
	d.base = append(d.base, "VEGA_SCAN_EXECUTION_MODE=sqs", "VEGA_SCAN_QUEUE_URL="+d.queueURL)
	d.worker = append(append([]string{}, d.base...), "VEGA_SCAN_WORKER_EXECUTION_MODE=ecs", "VEGA_ECS_CLUSTER="+cluster,
		"VEGA_ECS_RUNNER_TASK_DEFINITION="+taskDef, "VEGA_ECS_RUNNER_CONTAINER=runner",
		"VEGA_ECS_SUBNETS=subnet-0a,subnet-0b", "VEGA_ECS_SECURITY_GROUPS=sg-0runner", "VEGA_THREAD_CONCURRENCY=8")
	return d
}

// output collects a task's output, for failures.
func (d *awsDeployment) output(task string) io.Writer {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := &apitest.SyncBuffer{}
	d.taskOut[task] = b
	return b
}

// dataDir is a fresh VEGA_DATA_DIR for one process, remembered so the test
// can check that no blob lands on local disk.
func (d *awsDeployment) dataDir() string {
	dir := d.t.TempDir()
	d.dataDirs = append(d.dataDirs, dir)
	return dir
}

func (d *awsDeployment) startWorker() *proc {
	return start(d.t, append(append([]string{}, d.worker...), "VEGA_DATA_DIR="+d.dataDir()), "worker")
}

// cognitoUser makes a pool, an app client and a user, and signs the user in
// (AdminInitiateAuth): the API's environment for the pool and a token.
func (d *awsDeployment) cognitoUser() ([]string, string) {
	ctx := context.Background()
	c := cip.NewFromConfig(d.emu.Config(d.t))
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(awsemu.Unique("vega"))})
	if err != nil {
		d.t.Fatal(err)
	}
	id := aws.ToString(pool.UserPool.Id)
	cl, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: &id, ClientName: aws.String("dashboard"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
	if err != nil {
		d.t.Fatal(err)
	}
	app := aws.ToString(cl.UserPoolClient.ClientId)
	const pw = "Correct-Horse-Battery-9"
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: &id, Username: aws.String("ada"),
		UserAttributes: []ciptypes.AttributeType{{Name: aws.String("email"), Value: aws.String("ada@example.com")},
			{Name: aws.String("email_verified"), Value: aws.String("true")}}, TemporaryPassword: aws.String("Temporary-Password-1")}); err != nil {
		d.t.Fatal(err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &id, Username: aws.String("ada"),
		Password: aws.String(pw), Permanent: true}); err != nil {
		d.t.Fatal(err)
	}
	out, err := c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: &id, ClientId: &app,
		AuthFlow: ciptypes.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": "ada", "PASSWORD": pw}})
	if err != nil {
		d.t.Fatal(err)
	}
	env := []string{"VEGA_AUTH_PROVIDER=cognito", "VEGA_COGNITO_REGION=" + awsemu.Region, "VEGA_COGNITO_USER_POOL_ID=" + id,
		"VEGA_COGNITO_APP_CLIENT_ID=" + app, "VEGA_COGNITO_ISSUER=" + d.emu.URL + "/" + id}
	return env, aws.ToString(out.AuthenticationResult.AccessToken)
}

// tasksOf counts the runner tasks started for a scan.
func (d *awsDeployment) tasksOf(scanID string) int { return len(d.fargate.Tasks()[scanID]) }

// TestAWSDispatchEndToEnd: SQS dispatch and one ECS task per scan, with the
// real binary in every role and the Fargate data plane running `vega runner`
// tasks as processes (docs/aws.md).
func TestAWSDispatchEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	d := newAWSDeployment(t)
	migrateDB(t, append(append([]string{}, d.base...), "VEGA_DATA_DIR="+d.dataDir()))
	authEnv, token := d.cognitoUser()
	addr := apitest.FreeAddr(t)
	start(t, append(append(append([]string{}, d.base...), authEnv...), "VEGA_DATA_DIR="+d.dataDir(), "VEGA_LISTEN_ADDR="+addr), "serve")
	apitest.WaitOK(t, "http://"+addr+"/v1/readyz", 30*time.Second)
	d.api = &client{t: t, base: "http://" + addr, token: token}
	workers := []*proc{d.startWorker(), d.startWorker()}

	// Sign in with the pool's token, upload, scan, see the finding.
	repo := d.api.readyRepository(map[string]string{"config/settings.py": srctree.AWSKeyLine(3), "app/main.py": "print(1)\n"})
	first := d.api.createScan(repo)
	if s := d.api.waitStatus(first, time.Minute, "completed", "failed", "cancelled"); s.Status != "completed" {
		t.Fatalf("first scan: %+v", s)
	}
	var found struct {
		Items []struct {
			Location struct {
				FilePath string `json:"file_path"`
			} `json:"location"`
		} `json:"items"`
	}
	d.api.call("GET", "/v1/scans/"+first+"/findings", nil, &found)
	if len(found.Items) != 1 {
		t.Fatalf("findings: %+v", found)
	}
	if n := d.tasksOf(first); n != 1 {
		t.Fatalf("first scan ran in %d tasks", n)
	}
	calls := d.fargate.Calls()
	if c := calls[0]; c.StartedBy != first || c.LaunchType != "FARGATE" || c.ClientToken != first+"-1" ||
		strings.Join(c.Command, " ") != "runner --scan-id "+first || strings.Join(c.Subnets, ",") != "subnet-0a,subnet-0b" {
		t.Fatalf("RunTask: %+v", c)
	}
	// The runner uploads the artifacts right after it ends the scan.
	waitFor(t, 30*time.Second, "the report in the artifacts bucket", func() bool {
		return contains(d.emu.Keys(t, d.art), "scans/"+first+"/report.json")
	})
	if srcKeys := strings.Join(d.emu.Keys(t, d.src), " "); !strings.Contains(srcKeys, "snapshots/") {
		t.Fatalf("source bucket: %s", srcKeys)
	}

	t.Run("twelve scans, twelve tasks, each run once", func(t *testing.T) {
		var ids []string
		for i := 0; i < 12; i++ {
			ids = append(ids, d.api.createScan(repo))
		}
		for _, id := range ids {
			if s := d.api.waitStatus(id, 90*time.Second, "completed", "failed", "cancelled"); s.Status != "completed" || s.Attempt != 1 {
				t.Fatalf("scan %s: %+v", id, s)
			}
		}
		for _, id := range ids {
			if n := d.tasksOf(id); n != 1 {
				t.Fatalf("scan %s ran in %d tasks", id, n)
			}
			if n := count(d.api.eventKinds(id), "scan_started"); n != 1 {
				t.Fatalf("scan %s started %d times", id, n)
			}
		}
	})

	big := d.api.readyRepository(sourceTree(3000))
	t.Run("cancel a running scan stops its task", func(t *testing.T) {
		id := d.api.createScan(big)
		d.api.waitStatus(id, time.Minute, "running")
		var s scanView
		if code := d.api.call("POST", "/v1/scans/"+id+"/cancel", nil, &s); code != 200 && code != 202 {
			t.Fatalf("cancel: %d", code)
		}
		if s := d.api.waitStatus(id, time.Minute, "completed", "failed", "cancelled"); s.Status != "cancelled" {
			t.Fatalf("after cancel: %+v", s)
		}
		tasks := d.fargate.Tasks()[id]
		if len(tasks) != 1 {
			t.Fatalf("tasks: %+v", tasks)
		}
		deadline := time.Now().Add(20 * time.Second)
		for !contains(d.fargate.StopCalls(), tasks[0].ARN) {
			if time.Now().After(deadline) {
				t.Fatal("StopTask was not called for the cancelled scan's task")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("kill -9 every worker mid-task; new workers re-attach", func(t *testing.T) {
		id := d.api.createScan(big)
		d.api.waitStatus(id, time.Minute, "running")
		task := d.fargate.Tasks()[id][0].ARN
		// Hold the task while the workers die and others take over, so the
		// take-over happens while it runs.
		if err := d.fargate.Pause(task); err != nil {
			t.Fatal(err)
		}
		for _, w := range workers {
			_ = w.cmd.Process.Signal(syscall.SIGKILL)
			_, _ = w.cmd.Process.Wait()
		}
		workers = []*proc{d.startWorker(), d.startWorker()}
		waitFor(t, 30*time.Second, "a new worker to re-attach to the task", func() bool {
			return strings.Contains(workers[0].output()+workers[1].output(), "re-attaching to the runner")
		})
		if err := d.fargate.Resume(task); err != nil {
			t.Fatal(err)
		}
		if s := d.api.waitStatus(id, 90*time.Second, "completed", "failed", "cancelled"); s.Status != "completed" || s.Attempt != 1 {
			t.Fatalf("after the kill: %+v", s)
		}
		if n := d.tasksOf(id); n != 1 {
			t.Fatalf("a second task was started: %d", n)
		}
		if n := count(d.api.eventKinds(id), "scan_started"); n != 1 {
			t.Fatalf("scan_started %d times", n)
		}
	})

	t.Run("duplicate and malformed messages", func(t *testing.T) {
		ctx := context.Background()
		sq := sqs.NewFromConfig(d.emu.Config(t))
		for _, body := range []string{"{not json", `{"scan_id":42}`, `{"scan_id":"scan_01DOESNOTEXIST000000000000"}`,
			queue.ScanMessage{ScanID: first}.Encode(), queue.ScanMessage{ScanID: first}.Encode()} {
			if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &d.queueURL, MessageBody: aws.String(body)}); err != nil {
				t.Fatal(err)
			}
		}
		id := d.api.createScan(repo)
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &d.queueURL, MessageBody: aws.String(queue.ScanMessage{ScanID: id}.Encode())}); err != nil {
			t.Fatal(err)
		}
		if s := d.api.waitStatus(id, time.Minute, "completed", "failed", "cancelled"); s.Status != "completed" {
			t.Fatalf("scan: %+v", s)
		}
		waitFor(t, 30*time.Second, "the queue to drain", func() bool { return d.queueDepth() == 0 })
		if d.tasksOf(first) != 1 || d.tasksOf(id) != 1 {
			t.Fatalf("a duplicate started a task: first %d, new %d", d.tasksOf(first), d.tasksOf(id))
		}
		for i, w := range workers {
			if w.cmd.ProcessState != nil {
				t.Fatalf("worker %d exited:\n%s", i, apitest.Tail(w.output(), 2000))
			}
			if !strings.Contains(w.output(), "dropping a malformed message") && i == 0 && !strings.Contains(workers[1].output(), "dropping a malformed message") {
				t.Fatal("no worker logged the malformed message")
			}
		}
	})

	t.Run("queue unreachable while a scan is created", func(t *testing.T) {
		remove := d.emu.Inject(t, awsemu.Unavailable(awsemu.Target("AmazonSQS.SendMessage"), 0))
		id := d.api.createScan(repo)
		time.Sleep(2 * time.Second)
		if s := d.api.scan(id); s.Status != "queued" {
			t.Fatalf("with no message the scan is %s", s.Status)
		}
		remove()
		if s := d.api.waitStatus(id, time.Minute, "completed", "failed", "cancelled"); s.Status != "completed" || d.tasksOf(id) != 1 {
			t.Fatalf("after the queue came back: %+v, %d tasks", s, d.tasksOf(id))
		}
	})

	t.Run("no Fargate capacity: the scan stays queued and runs later", func(t *testing.T) {
		d.fargate.FailRunTasks(1, "RESOURCE:MEMORY")
		id := d.api.createScan(repo)
		if s := d.api.waitStatus(id, time.Minute, "completed", "failed", "cancelled"); s.Status != "completed" || s.Attempt != 1 || d.tasksOf(id) != 1 {
			t.Fatalf("after a capacity failure: %+v, %d tasks", s, d.tasksOf(id))
		}
		tries := 0
		for _, c := range d.fargate.Calls() {
			if c.StartedBy == id {
				tries++
			}
		}
		if tries != 2 {
			t.Fatalf("RunTask calls for the scan: %d, want the failed one and the retry", tries)
		}
	})

	t.Run("ops workers and readiness", func(t *testing.T) {
		var ready map[string]any
		if code := d.api.call("GET", "/v1/readyz", nil, &ready); code != 200 {
			t.Fatalf("readyz %d: %v", code, ready)
		}
		if c, _ := ready["checks"].(map[string]any); c["queue"] != "ok" {
			t.Fatalf("readyz: %v", ready)
		}
	})

	// No blob on local disk: no process, task or not, used the local blob store.
	dirs := append([]string{}, d.dataDirs...)
	for _, ts := range d.fargate.Tasks() {
		for _, task := range ts {
			dirs = append(dirs, task.Dir)
		}
	}
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err == nil && e.IsDir() && e.Name() == "blobs" {
				t.Errorf("local blob store used: %s", p)
			}
			return nil
		})
	}
	if t.Failed() {
		d.mu.Lock()
		for id, b := range d.taskOut {
			t.Logf("task %s:\n%s", id, apitest.Tail(b.String(), 1500))
		}
		d.mu.Unlock()
	}
}

func (d *awsDeployment) queueDepth() int {
	out, err := sqs.NewFromConfig(d.emu.Config(d.t)).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &d.queueURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return -1
	}
	var n, m int
	fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], &n)
	fmt.Sscan(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)], &m)
	return n + m
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
