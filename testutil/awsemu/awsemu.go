// Package awsemu runs an AWS emulator (github.com/sivchari/kumo) in-process on
// a loopback port for tests: S3, SQS, ECS, Secrets Manager and Cognito speak
// the real wire protocol, so production code only has its endpoint overridden
// (VEGA_AWS_ENDPOINT_URL). A proxy in front of the emulator can answer chosen
// requests with AWS-shaped errors (access denied, throttling, 5xx) and counts
// what it saw, for the failure paths no emulator produces on its own.
//
// Every emulator in one process shares its state: kumo keeps its services in
// package variables. Name buckets, queues and secrets with Unique (or after
// the test) so tests do not see each other's.
//
// Only tests and dev commands (./cmd/awsemu for benchmarks, ./cmd/rehearsal for
// `make aws-rehearsal`) import this package: the
// emulator registers ~80 services and takes about a minute to compile cold.
package awsemu

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/sivchari/kumo"

	"github.com/vegasec/vega/app/awsconf"
)

// Static test identity. The emulator accepts any signature; the values only
// have to be present so the SDK signs (and so leaks of them can be looked for).
const (
	Region    = "us-east-1"
	AccessKey = "AKIAVEGATESTEMULATOR"
	SecretKey = "vega-emulator-secret-access-key-not-real"
)

// Emulator is one running emulator and its fault-injecting front.
type Emulator struct {
	// URL is the endpoint to give every client (VEGA_AWS_ENDPOINT_URL).
	URL string

	backend *kumo.Server
	front   *httptest.Server

	mu     sync.Mutex
	faults []*Fault
}

// Start runs an emulator until the test ends.
func Start(t testing.TB) *Emulator {
	t.Helper()
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// New runs an emulator until Close (for commands; tests use Start).
func New() (*Emulator, error) {
	backend := kumo.NewServer()
	target, err := url.Parse(backend.URL)
	if err != nil {
		backend.Close()
		return nil, err
	}
	e := &Emulator{backend: backend}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // S3 virtual-host routing and signatures see the client's host
		},
		FlushInterval: -1,                         // stream bodies both ways: objects can be large
		ErrorLog:      log.New(io.Discard, "", 0), // clients that hang up early are normal in tests
	}
	e.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := e.match(r); f != nil {
			f.write(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	e.URL = e.front.URL
	return e, nil
}

// Unique returns prefix plus a random suffix: a fresh bucket, queue or secret
// name (lower case, digits and hyphens, valid for all three).
func Unique(prefix string) string {
	return fmt.Sprintf("%s-%08x", prefix, rand.Uint32())
}

// Close stops the emulator.
func (e *Emulator) Close() {
	e.front.Close()
	e.backend.Close()
}

// Options are the awsconf options that point a client at the emulator.
func (e *Emulator) Options() awsconf.Options {
	return awsconf.Options{Endpoint: e.URL, Region: Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, "")}
}

// CommandTB lets the emulator's helpers, which take a testing.TB, run in a
// dev command (./cmd/awsemu, ./cmd/rehearsal): a failure prints
// "name: message" and exits 1.
func CommandTB(name string) testing.TB { return commandTB{name: name} }

type commandTB struct {
	testing.TB // nil: only the methods below are ever called
	name       string
}

func (commandTB) Helper() {}
func (c commandTB) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{c.name + ":"}, args...)...)
	os.Exit(1)
}
func (c commandTB) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, c.name+": "+format+"\n", args...)
	os.Exit(1)
}

// Env is the environment that points a child `vega` process at the emulator.
func (e *Emulator) Env() map[string]string {
	return map[string]string{
		"AWS_REGION": Region, "AWS_ACCESS_KEY_ID": AccessKey, "AWS_SECRET_ACCESS_KEY": SecretKey,
		"VEGA_AWS_ENDPOINT_URL": e.URL, "VEGA_S3_FORCE_PATH_STYLE": "true",
		// Never let a developer's own profile or a metadata endpoint leak in.
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
	}
}

// Config is a client configuration for the emulator.
func (e *Emulator) Config(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := awsconf.Load(context.Background(), e.Options())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// S3 is a path-style S3 client of the emulator.
func (e *Emulator) S3(t testing.TB) *s3.Client {
	return s3.NewFromConfig(e.Config(t), func(o *s3.Options) { o.UsePathStyle = true })
}

// CreateBucket makes a bucket.
func (e *Emulator) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if _, err := e.S3(t).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// Keys lists every key in a bucket, sorted.
func (e *Emulator) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	return sortedKeys(t, "list bucket "+bucket, s3.NewListObjectsV2Paginator(e.S3(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}),
		func(page *s3.ListObjectsV2Output) []s3types.Object { return page.Contents },
		func(o s3types.Object) *string { return o.Key })
}

// MultipartUploads lists the keys of the multipart uploads open in a bucket.
func (e *Emulator) MultipartUploads(t testing.TB, bucket string) []string {
	t.Helper()
	return sortedKeys(t, "list multipart uploads of "+bucket, s3.NewListMultipartUploadsPaginator(e.S3(t), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}),
		func(page *s3.ListMultipartUploadsOutput) []s3types.MultipartUpload { return page.Uploads },
		func(u s3types.MultipartUpload) *string { return u.Key })
}

// s3Pages is what every S3 paginator has: the listings above walk two kinds.
type s3Pages[Page any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*s3.Options)) (Page, error)
}

// sortedKeys walks every page of p and returns the key of each item in it,
// sorted; a failed page fails the test with what.
func sortedKeys[Page, Item any](t testing.TB, what string, p s3Pages[Page], items func(Page) []Item, key func(Item) *string) []string {
	t.Helper()
	var keys []string
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, it := range items(page) {
			keys = append(keys, aws.ToString(key(it)))
		}
	}
	sort.Strings(keys)
	return keys
}

// StartMultipartUpload opens a multipart upload (what a writer killed
// mid-stream leaves) and returns its ID.
func (e *Emulator) StartMultipartUpload(t testing.TB, bucket, key string) string {
	t.Helper()
	out, err := e.S3(t).CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("create multipart upload %s/%s: %v", bucket, key, err)
	}
	return aws.ToString(out.UploadId)
}

// CreateSecret stores a secret string and returns its ARN.
func (e *Emulator) CreateSecret(t testing.TB, name, value string) string {
	t.Helper()
	sm := secretsmanager.NewFromConfig(e.Config(t))
	out, err := sm.CreateSecret(context.Background(),
		&secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	var exists *smtypes.ResourceExistsException
	if errors.As(err, &exists) {
		// The SDK retries a create whose answer was lost (seen once in CI
		// under load); the retry then finds the secret the first attempt
		// made. Ours if it holds exactly our value.
		got, gerr := sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		if gerr == nil && aws.ToString(got.SecretString) == value {
			return aws.ToString(got.ARN)
		}
	}
	if err != nil {
		t.Fatalf("create secret %s: %v", name, err)
	}
	return aws.ToString(out.ARN)
}

// CreateQueue makes a standard queue and returns its URL.
func (e *Emulator) CreateQueue(t testing.TB, name string, attributes map[string]string) string {
	t.Helper()
	out, err := sqs.NewFromConfig(e.Config(t)).CreateQueue(context.Background(),
		&sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attributes})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// CreateQueueWithDLQ makes the queue name with attributes and its
// dead-letter queue name+"-dlq", which takes a message after five receives
// (deploy/aws makes the scan queue so); it returns name's URL.
func (e *Emulator) CreateQueueWithDLQ(t testing.TB, name string, attributes map[string]string) string {
	t.Helper()
	dlq := e.CreateQueue(t, name+"-dlq", nil)
	out, err := sqs.NewFromConfig(e.Config(t)).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &dlq,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("dead-letter queue of %s: %v", name, err)
	}
	all := map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + out.Attributes["QueueArn"] + `","maxReceiveCount":"5"}`}
	maps.Copy(all, attributes)
	return e.CreateQueue(t, name, all)
}

// TaskDefinition is a Fargate task of one container, as deploy/aws defines
// the runner task.
type TaskDefinition struct {
	Cluster, Family, Container, Image string
	Env                               []string // KEY=value, the container's environment
}

// RegisterTask makes td's cluster and registers td through the ECS endpoint
// at endpoint (fakefargate's data plane, which answers ECS's task calls in
// front of the emulator); it returns the definition's ARN.
func (e *Emulator) RegisterTask(t testing.TB, endpoint string, td TaskDefinition) string {
	t.Helper()
	ctx := context.Background()
	opt := e.Options()
	opt.Endpoint = endpoint
	cfg, err := awsconf.Load(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	ec := ecs.NewFromConfig(cfg)
	if _, err := ec.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(td.Cluster)}); err != nil {
		t.Fatalf("ECS cluster %s: %v", td.Cluster, err)
	}
	var env []ecstypes.KeyValuePair
	for _, kv := range td.Env {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, ecstypes.KeyValuePair{Name: aws.String(k), Value: aws.String(v)})
	}
	out, err := ec.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(td.Family),
		NetworkMode: ecstypes.NetworkModeAwsvpc, RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		Cpu: aws.String("2048"), Memory: aws.String("4096"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String(td.Container), Image: aws.String(td.Image),
			Essential: aws.Bool(true), Environment: env}}})
	if err != nil {
		t.Fatalf("task definition %s: %v", td.Family, err)
	}
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

// Fault answers matching requests with an AWS error instead of the emulator.
type Fault struct {
	// Match selects requests; see Service, Target and S3Object.
	Match func(r *http.Request) bool
	// Status, Code and Message make the error (Code: "AccessDenied",
	// "SlowDown", "ThrottlingException", "InternalError"…).
	Status  int
	Code    string
	Message string
	// JSONCode, when set, replaces Code for JSON-protocol services, whose
	// codes differ from S3's ("AccessDeniedException" vs "AccessDenied").
	JSONCode string
	// Times limits how many requests fail (0: every matching request).
	Times int64

	hits atomic.Int64
}

// Hits is how many requests the fault answered.
func (f *Fault) Hits() int64 { return f.hits.Load() }

// Inject installs a fault until the returned function (or the test) removes it.
func (e *Emulator) Inject(t testing.TB, f *Fault) (remove func()) {
	e.mu.Lock()
	e.faults = append(e.faults, f)
	e.mu.Unlock()
	remove = func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		for i, g := range e.faults {
			if g == f {
				e.faults = append(e.faults[:i], e.faults[i+1:]...)
				return
			}
		}
	}
	t.Cleanup(remove)
	return remove
}

func (e *Emulator) match(r *http.Request) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range e.faults {
		if !f.Match(r) {
			continue
		}
		if f.Times > 0 && f.hits.Load() >= f.Times {
			continue
		}
		f.hits.Add(1)
		return f
	}
	return nil
}

// write answers in the protocol of the request: JSON for services called
// with X-Amz-Target (Secrets Manager, SQS, ECS…), XML for S3.
func (f *Fault) write(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-Requestid", "vega-emulator-fault")
	if r.Header.Get("X-Amz-Target") != "" {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			ct = "application/x-amz-json-1.1"
		}
		code := f.Code
		if f.JSONCode != "" {
			code = f.JSONCode
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("X-Amzn-Errortype", code)
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, f.Message)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(f.Status)
	if r.Method == http.MethodHead {
		return // HEAD answers carry no body; the SDK reads the status
	}
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}{Code: f.Code, Message: f.Message, RequestID: "vega-emulator-fault"})
}

// Service matches requests signed for one AWS service ("s3", "secretsmanager", "sqs", "ecs").
func Service(name string) func(*http.Request) bool {
	return func(r *http.Request) bool { return SigningName(r) == name }
}

// Target matches JSON-protocol calls of one operation, e.g. "secretsmanager.GetSecretValue".
func Target(op string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		t := r.Header.Get("X-Amz-Target")
		return strings.EqualFold(t, op) || strings.HasSuffix(strings.ToLower(t), "."+strings.ToLower(op))
	}
}

// S3Object matches path-style S3 requests with one method ("" for any) on
// keys under prefix in bucket.
func S3Object(method, bucket, keyPrefix string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if SigningName(r) != "s3" || (method != "" && r.Method != method) {
			return false
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/"+bucket)
		if !ok {
			return false
		}
		if keyPrefix == "" {
			return true
		}
		return strings.HasPrefix(strings.TrimPrefix(rest, "/"), keyPrefix)
	}
}

// SigningName is the service of a SigV4-signed request ("" when unsigned).
func SigningName(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return ""
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// Common faults.

// AccessDenied is what AWS answers a principal without permission. The
// message carries an ARN, as AWS's does, so tests can check it never reaches
// an API response.
func AccessDenied(match func(*http.Request) bool) *Fault {
	return &Fault{Match: match, Status: http.StatusForbidden, Code: "AccessDenied", JSONCode: "AccessDeniedException",
		Message: "User: arn:aws:sts::123456789012:assumed-role/vega-task/1 is not authorized to perform this action"}
}

// Unavailable is a transient server error the SDK retries.
func Unavailable(match func(*http.Request) bool, times int64) *Fault {
	return &Fault{Match: match, Status: http.StatusServiceUnavailable, Code: "SlowDown", JSONCode: "ThrottlingException",
		Message: "Please reduce your request rate.", Times: times}
}
