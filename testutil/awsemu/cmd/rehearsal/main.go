// Command rehearsal brings up Vega's AWS runtime on one machine, without an
// AWS account (`make aws-rehearsal`; docs/deploy-aws.md, "Local rehearsal"):
// Postgres, the AWS emulator (testutil/awsemu) with Fargate's data plane in
// front of it (testutil/fakefargate, each runner task a local `vega runner`
// process), and `vega serve`, `vega worker` and `vega llm-proxy` as child
// processes with the environment deploy/aws gives each role
// (deploy/aws/lib/environment.ts). Every secret lives in one Secrets Manager
// secret, from which each role takes only its own (docs/aws.md).
//
// It prints the dashboard's address and how to sign in, streams every
// child's JSON log lines with the role in front, and on Ctrl-C stops the
// children, the tasks and the emulator before it exits.
//
// Dev tooling: it links the emulator, so it lives beside it under testutil
// and is never part of the vega binary.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/vegasec/vega/testutil/awsemu"
	"github.com/vegasec/vega/testutil/fakefargate"
)

// The names deploy/aws gives the resources (deploy/aws/lib/contract.ts for
// the queue's numbers). The emulator is fresh every run, so fixed names do
// not collide.
const (
	sourceBucket    = "vega-source"
	artifactsBucket = "vega-artifacts"
	secretName      = "vega/rehearsal"
	clusterName     = "vega-rehearsal"
	runnerFamily    = "vega-runner"
	runnerContainer = "runner"
	localPostgres   = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	rehearsalDB     = "vega_rehearsal"
	debugEmail      = "debug@example.com"
)

func main() {
	vegaBin := flag.String("vega", "bin/vega", "the vega binary every role and runner task runs")
	listen := flag.String("listen", "127.0.0.1:8000", "address of the API and dashboard (loopback: nothing public)")
	workers := flag.Int("workers", 2, "`vega worker` processes")
	dir := flag.String("dir", "", "working directory for data dirs and tasks (default: a temporary one, removed on exit)")
	flag.Parse()
	if err := run(*vegaBin, *listen, *workers, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "rehearsal:", err)
		os.Exit(1)
	}
}

func run(vegaBin, listen string, workers int, dir string) error {
	bin, err := filepath.Abs(vegaBin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the vega binary: %w (run `make build-go`, or pass -vega)", err)
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "vega-rehearsal-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	out := &console{w: os.Stdout}
	ctx := context.Background()

	dbURL, err := database(ctx)
	if err != nil {
		return err
	}

	emu, err := awsemu.New()
	if err != nil {
		return err
	}
	defer emu.Close()
	tb := awsemu.CommandTB("rehearsal")
	ff, err := fakefargate.Start(fakefargate.Options{Upstream: emu.URL, Binary: bin, WorkDir: mkdir(dir, "tasks"),
		BaseEnv: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + mkdir(dir, "home")}, StopGrace: 10 * time.Second,
		Output: func(id string) io.Writer { return out.prefixed("task "+short(id), nil) },
		Started: func(t fakefargate.Task) {
			out.line("fargate", fmt.Sprintf("RunTask: task %s for scan %s started (pid %d)", short(t.ARN), t.StartedBy, t.PID))
		}})
	if err != nil {
		return err
	}
	defer ff.Close()

	// Buckets, the secret, the queue with its dead-letter queue.
	emu.CreateBucket(tb, sourceBucket)
	emu.CreateBucket(tb, artifactsBucket)
	providerKey, codexEngines := os.Getenv("VEGA_LLM_PROVIDER_API_KEY"), true
	if providerKey == "" {
		// llm-proxy needs a key to start; without a real one only the
		// secrets engine runs (VEGA_SCAN_ENGINES below).
		providerKey, codexEngines = "rehearsal-placeholder-provider-key", false
	}
	debugPassword := os.Getenv("VEGA_DEBUG_PASSWORD")
	if debugPassword == "" {
		debugPassword = random(12)
	}
	secret, _ := json.Marshal(map[string]string{"VEGA_DATABASE_URL": dbURL, "VEGA_AUTH_SECRET": random(32),
		"VEGA_LLM_PROXY_ADMIN_TOKEN": random(32), "VEGA_LLM_PROVIDER_API_KEY": providerKey})
	emu.CreateSecret(tb, secretName, string(secret))
	// The scan queue as deploy/aws makes it: a dead-letter queue after five
	// receives, a 120 s visibility timeout the worker extends, long polling.
	queueURL := emu.CreateQueueWithDLQ(tb, "vega-scans", map[string]string{"VisibilityTimeout": "120", "ReceiveMessageWaitTimeSeconds": "20"})

	// What every process gets: the emulator's endpoint (through the Fargate
	// data plane, which forwards all but ECS's task calls) and the secret.
	proxyAddr, err := freeAddr()
	if err != nil {
		return err
	}
	common := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + mkdir(dir, "home"), "VEGA_ENVIRONMENT=dev",
		"VEGA_PERSISTENCE_BACKEND=postgres", "VEGA_AUTH_PROVIDER=custom", "VEGA_SECRETS_MANAGER_SECRET_ID=" + secretName,
		"VEGA_LOG_FORMAT=json"}
	for k, v := range emu.Env() {
		if k == "VEGA_AWS_ENDPOINT_URL" {
			v = ff.URL
		}
		common = append(common, k+"="+v)
	}
	for _, k := range []string{"VEGA_LOG_LEVEL", "VEGA_CODEX_BIN", "VEGA_CODEX_MODEL"} {
		if v, ok := os.LookupEnv(k); ok {
			common = append(common, k+"="+v)
		}
	}
	blobs := []string{"VEGA_FILE_STORAGE_BACKEND=s3", "VEGA_S3_SOURCE_BUCKET=" + sourceBucket, "VEGA_S3_ARTIFACTS_BUCKET=" + artifactsBucket}
	codex := []string{"VEGA_LLM_PROXY_URL=http://" + proxyAddr, "VEGA_CODEX_SANDBOX=none"}
	if v, ok := os.LookupEnv("VEGA_SCAN_ENGINES"); ok {
		codex = append(codex, "VEGA_SCAN_ENGINES="+v)
	} else if !codexEngines {
		codex = append(codex, "VEGA_SCAN_ENGINES=secrets")
	}
	sqsMode := []string{"VEGA_SCAN_EXECUTION_MODE=sqs", "VEGA_SCAN_QUEUE_URL=" + queueURL}

	// The runner's one secret, the database URL, is injected by ECS into its
	// environment on AWS (deploy/aws: `secrets`); here it is in the task
	// definition, and the runner gets no secret ID: no admin token, no
	// provider key reaches a task.
	// PATH and HOME are the data plane's base environment, like the image's.
	var runnerEnv []string
	for _, kv := range common {
		k, _, _ := strings.Cut(kv, "=")
		if k != "VEGA_SECRETS_MANAGER_SECRET_ID" && k != "PATH" && k != "HOME" {
			runnerEnv = append(runnerEnv, kv)
		}
	}
	taskDef := emu.RegisterTask(tb, ff.URL, awsemu.TaskDefinition{Cluster: clusterName, Family: runnerFamily, Container: runnerContainer,
		Image: "vega:rehearsal", Env: join(runnerEnv, blobs, codex, []string{"VEGA_SERVICE_ROLE=runner", "VEGA_DATABASE_URL=" + dbURL})})

	// Roles, in the order the stack brings them up.
	if b, err := runOnce(bin, join(common, []string{"VEGA_DATA_DIR=" + mkdir(dir, "migrate")}), "migrate"); err != nil {
		return fmt.Errorf("vega migrate: %v\n%s", err, b)
	}
	out.line("rehearsal", "vega migrate: done")
	g := &group{out: out}
	defer g.stop()
	providerBase := os.Getenv("VEGA_LLM_PROVIDER_BASE_URL")
	if providerBase == "" {
		providerBase = "https://api.openai.com/v1"
	}
	if err := g.start(bin, "llm-proxy", "", join(common, []string{"VEGA_DATA_DIR=" + mkdir(dir, "llm-proxy"),
		"VEGA_LLM_PROXY_LISTEN_ADDR=" + proxyAddr, "VEGA_LLM_PROVIDER_BASE_URL=" + providerBase}), "llm-proxy"); err != nil {
		return err
	}
	if err := g.waitHTTP("http://"+proxyAddr+"/healthz", 30*time.Second); err != nil {
		return err
	}
	if err := g.start(bin, "serve", "", join(common, blobs, codex, sqsMode, []string{"VEGA_DATA_DIR=" + mkdir(dir, "serve"),
		"VEGA_LISTEN_ADDR=" + listen, "VEGA_PUBLIC_URL=http://" + listen, "VEGA_SERVE_UI=true",
		"VEGA_DEBUG_EMAIL=" + debugEmail, "VEGA_DEBUG_PASSWORD=" + debugPassword}), "serve"); err != nil {
		return err
	}
	if err := g.waitHTTP("http://"+listen+"/v1/readyz", 60*time.Second); err != nil {
		return err
	}
	for i := 1; i <= workers; i++ {
		role := fmt.Sprintf("worker-%d", i)
		if err := g.start(bin, role, `"msg":"worker started"`, join(common, blobs, codex, sqsMode, []string{"VEGA_DATA_DIR=" + mkdir(dir, role),
			"VEGA_SCAN_WORKER_EXECUTION_MODE=ecs", "VEGA_THREAD_CONCURRENCY=4", "VEGA_ECS_CLUSTER=" + clusterName,
			"VEGA_ECS_RUNNER_TASK_DEFINITION=" + taskDef, "VEGA_ECS_RUNNER_CONTAINER=" + runnerContainer,
			"VEGA_ECS_SUBNETS=subnet-rehearsal-a,subnet-rehearsal-b", "VEGA_ECS_SECURITY_GROUPS=sg-rehearsal-runner"}), "worker"); err != nil {
			return err
		}
	}
	if err := g.waitReady(60 * time.Second); err != nil {
		return err
	}
	out.banner(fmt.Sprintf(`
Vega AWS rehearsal is ready (Postgres + emulated S3/SQS/ECS/Secrets Manager).
  dashboard:  http://%s/
  sign in:    %s / %s
  AWS:        buckets %s + %s, queue vega-scans (dead letters: vega-scans-dlq), secret %s, cluster %s
  emulator:   %s (AWS_ACCESS_KEY_ID=%s, region %s)
Scans go API -> SQS -> worker -> one ECS task per scan ("fargate" lines). Ctrl-C stops everything.
rehearsal ready
`, listen, debugEmail, debugPassword, sourceBucket, artifactsBucket, secretName, clusterName, emu.URL, awsemu.AccessKey, awsemu.Region))

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case s := <-sig:
		out.line("rehearsal", "got "+s.String()+", stopping")
		g.stop()
		ff.Close()
		out.line("rehearsal", "stopped")
		return nil
	case name := <-g.exited:
		g.stop()
		return fmt.Errorf("%s exited on its own; stopped the rest", name)
	}
}

// database is VEGA_DATABASE_URL, or a fresh vega_rehearsal database on the
// local Postgres: the emulator forgets its buckets at exit, so rows kept
// from an earlier run would point at snapshots that are gone.
func database(ctx context.Context) (string, error) {
	if u := os.Getenv("VEGA_DATABASE_URL"); u != "" {
		return u, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, localPostgres)
	if err != nil {
		return "", fmt.Errorf("no VEGA_DATABASE_URL and no local Postgres at %s: %w (source .ci/postgres.sh starts one)", localPostgres, err)
	}
	defer c.Close(ctx)
	name := pgx.Identifier{rehearsalDB}.Sanitize()
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop the previous %s: %w", rehearsalDB, err)
	}
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			return "", fmt.Errorf("create %s: %w", rehearsalDB, err)
		}
		return "", fmt.Errorf("create %s: %s (set VEGA_DATABASE_URL to a database you may use)", rehearsalDB, pe.Message)
	}
	u, _ := url.Parse(localPostgres)
	u.Path = "/" + rehearsalDB
	return u.String(), nil
}

// group is the long-running children.
type group struct {
	out    *console
	mu     sync.Mutex
	procs  []*child
	exited chan string
	once   sync.Once
}

type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	up   chan struct{} // closed at its ready line
}

// waitReady waits until every child started with a ready line has logged it.
func (g *group) waitReady(within time.Duration) error {
	g.mu.Lock()
	procs := append([]*child{}, g.procs...)
	g.mu.Unlock()
	timeout := time.After(within)
	for _, c := range procs {
		select {
		case <-c.up:
		case <-c.done:
			return fmt.Errorf("%s exited while starting", c.name)
		case <-timeout:
			return fmt.Errorf("%s did not start within %s", c.name, within)
		}
	}
	return nil
}

// readyLine, when not "", is a log line's text that says the child is up;
// waitReady waits for it.
func (g *group) start(bin, name, readyLine string, env []string, args ...string) error {
	g.mu.Lock()
	if g.exited == nil {
		g.exited = make(chan string, 16)
	}
	g.mu.Unlock()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), up: make(chan struct{})}
	var once sync.Once
	if readyLine == "" {
		once.Do(func() { close(c.up) }) // the caller waits for it otherwise (HTTP)
	}
	w := g.out.prefixed(name, func(l string) {
		if readyLine != "" && strings.Contains(l, readyLine) {
			once.Do(func() { close(c.up) })
		}
	})
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	g.mu.Lock()
	g.procs = append(g.procs, c)
	g.mu.Unlock()
	g.out.line("rehearsal", fmt.Sprintf("started %s (pid %d)", name, cmd.Process.Pid))
	go func() {
		_ = cmd.Wait()
		close(c.done)
		g.exited <- name
	}()
	return nil
}

// waitHTTP waits for a 200, or fails early when a child dies meanwhile.
func (g *group) waitHTTP(u string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		select {
		case name := <-g.exited:
			return fmt.Errorf("%s exited while starting", name)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer 200 within %s", u, within)
}

// stop ends the children newest first (workers before the API before the
// proxy): SIGTERM, then SIGKILL after 20 s. It waits for every one.
func (g *group) stop() {
	g.once.Do(func() {
		g.mu.Lock()
		procs := append([]*child{}, g.procs...)
		g.mu.Unlock()
		for i := len(procs) - 1; i >= 0; i-- {
			_ = procs[i].cmd.Process.Signal(syscall.SIGTERM)
		}
		for i := len(procs) - 1; i >= 0; i-- {
			c := procs[i]
			select {
			case <-c.done:
			case <-time.After(20 * time.Second):
				g.out.line("rehearsal", c.name+" ignored SIGTERM for 20s; killing it")
				_ = c.cmd.Process.Kill()
				<-c.done
			}
		}
	})
}

func runOnce(bin string, env []string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	return cmd.CombinedOutput()
}

// console writes whole lines from many processes, each with its source.
type console struct {
	mu sync.Mutex
	w  io.Writer
}

func (c *console) line(who, s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, "%-10s | %s\n", who, s)
}

func (c *console) banner(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprint(c.w, s)
}

// prefixed is a writer that emits each complete line with who in front.
// seen, when set, is told of every line too.
func (c *console) prefixed(who string, seen func(line string)) io.Writer {
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			l := string(bytes.TrimRight(sc.Bytes(), "\r"))
			c.line(who, l)
			if seen != nil {
				seen(l)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	return pw
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func mkdir(parent, name string) string {
	p := filepath.Join(parent, name)
	_ = os.MkdirAll(p, 0o700)
	return p
}

func short(arn string) string {
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
