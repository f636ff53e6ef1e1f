// Package fakefargate plays ECS Fargate's data plane in front of an AWS
// emulator that records ECS tasks but runs nothing (testutil/awsemu, kumo).
// It is a reverse proxy: every request goes to the emulator except the ECS
// task calls, which it answers as ECS does, running each task as a local
// process of a given binary:
//
//   - RegisterTaskDefinition is forwarded, and the container definitions are
//     kept (environment, command) under the ARN, family:revision and family.
//   - RunTask (launch type FARGATE, awsvpc with subnets) starts the binary
//     with the container's environment plus the overrides' (and the
//     override's command), in a fresh working directory with VEGA_DATA_DIR
//     under it, like a task's ephemeral storage. The clientToken makes it
//     idempotent, as in ECS. Tests can make the next RunTasks fail for
//     capacity (FailRunTasks).
//   - DescribeTasks reports RUNNING until the process exits, then STOPPED
//     with stop code EssentialContainerExited (or UserInitiated after a
//     StopTask), the stopped reason and the container's exit code.
//   - StopTask sends SIGTERM and, after StopGrace (ECS's stopTimeout),
//     SIGKILL.
//
// Processes are children of the test process, not of the worker that
// called RunTask: a worker killed with -9 leaves its tasks running, as on
// AWS. Tests and the local AWS rehearsal reuse it.
package fakefargate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configure the data plane.
type Options struct {
	Upstream  string        // the emulator's URL
	Binary    string        // what every task runs (the vega binary; the image's entrypoint)
	BaseEnv   []string      // environment every task gets under its container's (PATH, HOME…)
	WorkDir   string        // parent of the tasks' directories (os.TempDir)
	StopGrace time.Duration // SIGTERM → SIGKILL after StopTask (30s)
	// Output, when set, receives each task's combined output.
	Output func(taskID string) io.Writer
	// Started, when set, is told of each task once its process runs.
	Started func(t Task)
}

// Call is one RunTask as ECS saw it.
type Call struct {
	StartedBy   string
	ClientToken string
	Command     []string
	Env         map[string]string // the override's environment
	Subnets     []string
	LaunchType  string
	TaskARN     string // "" when it failed
}

// Task is a task the data plane ran.
type Task struct {
	ARN, Cluster, TaskDefinition, StartedBy string
	Container                               string
	Dir                                     string
	LastStatus, StopCode, StoppedReason     string
	ExitCode                                *int
	Stops                                   int // StopTask calls
	PID                                     int // the task's process

	cmd     *exec.Cmd
	done    chan struct{}
	stopReq string
}

type containerDef struct {
	Name        string   `json:"name"`
	Command     []string `json:"command"`
	Environment []kv     `json:"environment"`
}

type kv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Fargate is a running data plane.
type Fargate struct {
	URL string

	opt   Options
	srv   *httptest.Server
	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	defs      map[string][]containerDef
	tasks     map[string]*Task
	byToken   map[string]*Task
	calls     []Call
	failNext  int
	failWhy   string
	stopCalls []string
}

// Start runs the data plane until Close.
func Start(opt Options) (*Fargate, error) {
	target, err := url.Parse(opt.Upstream)
	if err != nil {
		return nil, err
	}
	if opt.StopGrace <= 0 {
		opt.StopGrace = 30 * time.Second
	}
	if opt.WorkDir == "" {
		opt.WorkDir = os.TempDir()
	}
	f := &Fargate{opt: opt, defs: map[string][]containerDef{}, tasks: map[string]*Task{}, byToken: map[string]*Task{}}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1,
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.URL = f.srv.URL
	return f, nil
}

// Close kills every task still running and stops the proxy.
func (f *Fargate) Close() {
	f.mu.Lock()
	var running []*Task
	for _, t := range f.tasks {
		running = append(running, t)
	}
	f.mu.Unlock()
	for _, t := range running {
		if t.cmd != nil && t.cmd.Process != nil {
			_ = t.cmd.Process.Kill()
			<-t.done
		}
	}
	f.srv.Close()
}

// FailRunTasks makes the next n RunTasks answer without a task, with reason
// in the failures list (as ECS does without capacity: "RESOURCE:CPU").
func (f *Fargate) FailRunTasks(n int, reason string) {
	f.mu.Lock()
	f.failNext, f.failWhy = n, reason
	f.mu.Unlock()
}

// Calls lists every RunTask, in order.
func (f *Fargate) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// StopCalls lists the task ARNs StopTask was called for.
func (f *Fargate) StopCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stopCalls...)
}

// Tasks lists the tasks started, by StartedBy.
func (f *Fargate) Tasks() map[string][]Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]Task{}
	for _, t := range f.tasks {
		out[t.StartedBy] = append(out[t.StartedBy], *t)
	}
	return out
}

// Running counts tasks not stopped.
func (f *Fargate) Running() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.tasks {
		if t.LastStatus != "STOPPED" {
			n++
		}
	}
	return n
}

const targetPrefix = "AmazonEC2ContainerServiceV20141113."

func (f *Fargate) serve(w http.ResponseWriter, r *http.Request) {
	op, isECS := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !isECS {
		f.proxy.ServeHTTP(w, r)
		return
	}
	switch op {
	case "RegisterTaskDefinition":
		f.register(w, r)
	case "RunTask":
		f.runTask(w, r)
	case "DescribeTasks":
		f.describeTasks(w, r)
	case "StopTask":
		f.stopTask(w, r)
	default:
		f.proxy.ServeHTTP(w, r)
	}
}

func readBody(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return b
}

// forward sends r upstream and returns the answer.
func (f *Fargate) forward(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.proxy.ServeHTTP(rec, r)
	return rec
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func ecsError(w http.ResponseWriter, code, msg string) {
	writeJSON(w, 400, map[string]string{"__type": code, "message": msg})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (f *Fargate) register(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Family               string         `json:"family"`
		ContainerDefinitions []containerDef `json:"containerDefinitions"`
	}
	_ = json.Unmarshal(readBody(r), &in)
	rec := f.forward(r)
	if rec.Code == 200 {
		var out struct {
			TaskDefinition struct {
				TaskDefinitionArn string `json:"taskDefinitionArn"`
				Family            string `json:"family"`
				Revision          int    `json:"revision"`
			} `json:"taskDefinition"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &out) == nil {
			td := out.TaskDefinition
			f.mu.Lock()
			for _, k := range []string{td.TaskDefinitionArn, fmt.Sprintf("%s:%d", td.Family, td.Revision), td.Family, in.Family} {
				if k != "" {
					f.defs[k] = in.ContainerDefinitions
				}
			}
			f.mu.Unlock()
		}
	}
	copyResponse(w, rec)
}

type runTaskInput struct {
	Cluster        string `json:"cluster"`
	TaskDefinition string `json:"taskDefinition"`
	LaunchType     string `json:"launchType"`
	StartedBy      string `json:"startedBy"`
	ClientToken    string `json:"clientToken"`
	Network        struct {
		Awsvpc struct {
			Subnets []string `json:"subnets"`
		} `json:"awsvpcConfiguration"`
	} `json:"networkConfiguration"`
	Overrides struct {
		Containers []containerDef `json:"containerOverrides"`
	} `json:"overrides"`
}

func (f *Fargate) runTask(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	var in runTaskInput
	if err := json.Unmarshal(body, &in); err != nil {
		ecsError(w, "InvalidParameterException", "malformed request")
		return
	}
	call := Call{StartedBy: in.StartedBy, ClientToken: in.ClientToken, LaunchType: in.LaunchType, Subnets: in.Network.Awsvpc.Subnets, Env: map[string]string{}}
	for _, c := range in.Overrides.Containers {
		if len(c.Command) > 0 {
			call.Command = c.Command
		}
		for _, e := range c.Environment {
			call.Env[e.Name] = e.Value
		}
	}
	f.mu.Lock()
	if t, ok := f.byToken[in.ClientToken]; ok && in.ClientToken != "" {
		call.TaskARN = t.ARN
		f.calls = append(f.calls, call)
		view := t.view()
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"tasks": []any{view}, "failures": []any{}})
		return
	}
	if f.failNext > 0 {
		f.failNext--
		f.calls = append(f.calls, call)
		why := f.failWhy
		f.mu.Unlock()
		writeJSON(w, 200, map[string]any{"tasks": []any{}, "failures": []any{map[string]string{"reason": why}}})
		return
	}
	defs, ok := f.defs[in.TaskDefinition]
	f.mu.Unlock()
	switch {
	case in.LaunchType != "FARGATE":
		ecsError(w, "InvalidParameterException", "this data plane runs FARGATE tasks only")
		return
	case len(in.Network.Awsvpc.Subnets) == 0:
		ecsError(w, "InvalidParameterException", "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
		return
	case !ok || len(defs) == 0:
		ecsError(w, "ClientException", "Unable to describe task definition.")
		return
	}
	rec := f.forward(r) // the emulator records the task and names it
	if rec.Code != 200 {
		copyResponse(w, rec)
		return
	}
	var out struct {
		Tasks []struct {
			TaskArn    string `json:"taskArn"`
			ClusterArn string `json:"clusterArn"`
			TaskDefArn string `json:"taskDefinitionArn"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Tasks) == 0 {
		copyResponse(w, rec)
		return
	}
	t, err := f.launch(out.Tasks[0].TaskArn, out.Tasks[0].ClusterArn, out.Tasks[0].TaskDefArn, in, defs[0])
	if err != nil {
		writeJSON(w, 200, map[string]any{"tasks": []any{}, "failures": []any{map[string]string{"reason": "CannotStartContainerError: " + err.Error()}}})
		return
	}
	f.mu.Lock()
	call.TaskARN = t.ARN
	f.calls = append(f.calls, call)
	view := t.view()
	f.mu.Unlock()
	writeJSON(w, 200, map[string]any{"tasks": []any{view}, "failures": []any{}})
}

func (f *Fargate) launch(arn, cluster, taskDef string, in runTaskInput, def containerDef) (*Task, error) {
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	dir, err := os.MkdirTemp(f.opt.WorkDir, "task-"+id+"-")
	if err != nil {
		return nil, err
	}
	env := append([]string{}, f.opt.BaseEnv...)
	env = append(env, "VEGA_DATA_DIR="+filepath.Join(dir, "data"))
	for _, e := range def.Environment {
		env = append(env, e.Name+"="+e.Value)
	}
	cmdArgs := def.Command
	for _, c := range in.Overrides.Containers {
		if c.Name != "" && c.Name != def.Name {
			continue
		}
		if len(c.Command) > 0 {
			cmdArgs = c.Command
		}
		for _, e := range c.Environment {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	cmd := exec.Command(f.opt.Binary, cmdArgs...)
	cmd.Dir = dir
	cmd.Env = env
	if f.opt.Output != nil {
		cmd.Stdout = f.opt.Output(id)
		cmd.Stderr = cmd.Stdout
	}
	t := &Task{ARN: arn, Cluster: cluster, TaskDefinition: taskDef, StartedBy: in.StartedBy, Container: def.Name, Dir: dir,
		LastStatus: "RUNNING", cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.PID = cmd.Process.Pid
	if f.opt.Started != nil {
		f.opt.Started(*t)
	}
	f.mu.Lock()
	f.tasks[arn] = t
	if in.ClientToken != "" {
		f.byToken[in.ClientToken] = t
	}
	f.mu.Unlock()
	go func() {
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
		f.mu.Lock()
		t.LastStatus, t.ExitCode = "STOPPED", &code
		if t.stopReq != "" {
			t.StopCode, t.StoppedReason = "UserInitiated", t.stopReq
		} else {
			t.StopCode, t.StoppedReason = "EssentialContainerExited", "Essential container in task exited"
		}
		f.mu.Unlock()
		close(t.done)
	}()
	return t, nil
}

// view is the task as DescribeTasks shows it. Callers hold f.mu.
func (t *Task) view() map[string]any {
	c := map[string]any{"name": t.Container, "lastStatus": t.LastStatus}
	if t.ExitCode != nil {
		c["exitCode"] = *t.ExitCode
	}
	v := map[string]any{"taskArn": t.ARN, "clusterArn": t.Cluster, "taskDefinitionArn": t.TaskDefinition,
		"lastStatus": t.LastStatus, "desiredStatus": "RUNNING", "launchType": "FARGATE", "startedBy": t.StartedBy,
		"containers": []any{c}}
	if t.LastStatus == "STOPPED" {
		v["desiredStatus"] = "STOPPED"
		v["stopCode"], v["stoppedReason"] = t.StopCode, t.StoppedReason
	}
	return v
}

func (f *Fargate) find(ref string) *Task {
	if t, ok := f.tasks[ref]; ok {
		return t
	}
	for arn, t := range f.tasks {
		if strings.HasSuffix(arn, "/"+ref) {
			return t
		}
	}
	return nil
}

func (f *Fargate) describeTasks(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tasks []string `json:"tasks"`
	}
	_ = json.Unmarshal(readBody(r), &in)
	f.mu.Lock()
	defer f.mu.Unlock()
	tasks, failures := []any{}, []any{}
	for _, ref := range in.Tasks {
		if t := f.find(ref); t != nil {
			tasks = append(tasks, t.view())
		} else {
			failures = append(failures, map[string]string{"arn": ref, "reason": "MISSING"})
		}
	}
	writeJSON(w, 200, map[string]any{"tasks": tasks, "failures": failures})
}

func (f *Fargate) stopTask(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Task   string `json:"task"`
		Reason string `json:"reason"`
	}
	_ = json.Unmarshal(readBody(r), &in)
	f.mu.Lock()
	t := f.find(in.Task)
	if t == nil {
		f.mu.Unlock()
		ecsError(w, "InvalidParameterException", "The referenced task was not found.")
		return
	}
	f.stopCalls = append(f.stopCalls, t.ARN)
	t.Stops++
	if t.stopReq == "" {
		t.stopReq = in.Reason
		if t.stopReq == "" {
			t.stopReq = "Task stopped by user"
		}
	}
	view := t.view()
	running := t.LastStatus != "STOPPED"
	f.mu.Unlock()
	if running {
		_ = t.cmd.Process.Signal(syscall.SIGTERM)
		go func() {
			select {
			case <-t.done:
			case <-time.After(f.opt.StopGrace):
				_ = t.cmd.Process.Kill()
			}
		}()
	}
	writeJSON(w, 200, map[string]any{"task": view})
}

// Pause stops a task's process (SIGSTOP) until Resume: a task that is slow,
// for tests that must act while it runs.
func (f *Fargate) Pause(arn string) error { return f.signal(arn, syscall.SIGSTOP) }

// Resume continues a paused task (SIGCONT).
func (f *Fargate) Resume(arn string) error { return f.signal(arn, syscall.SIGCONT) }

func (f *Fargate) signal(arn string, sig syscall.Signal) error {
	f.mu.Lock()
	t := f.find(arn)
	f.mu.Unlock()
	if t == nil || t.cmd.Process == nil {
		return fmt.Errorf("fakefargate: no task %s", arn)
	}
	return t.cmd.Process.Signal(sig)
}
