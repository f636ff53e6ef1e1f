package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(env map[string]string) (*Config, error) {
	return Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestDefaultsNeedNoSetup(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	if c.ListenAddr != "127.0.0.1:8000" || c.PersistenceBackend != "bolt" || !c.AutoMigrate || c.ScanExecutionMode != "thread" ||
		c.LogFormat != "text" || c.ScanHeartbeatTTL != 120*time.Second || c.MaxSourceBytes != 2<<30 || c.PublicURL != "http://127.0.0.1:8000" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.MaxProjectsPerUser != 100 || c.MaxRepositoriesPerUser != 1000 || c.MaxStoredBytesPerUser != 50<<30 {
		t.Fatalf("per-user quota defaults: %d projects, %d repositories, %d bytes", c.MaxProjectsPerUser, c.MaxRepositoriesPerUser, c.MaxStoredBytesPerUser)
	}
	if c, err := load(map[string]string{"VEGA_MAX_PROJECTS_PER_USER": "0"}); err != nil || c.MaxProjectsPerUser != 0 {
		t.Fatalf("0 (unlimited) refused: %v", err)
	}
}

func TestInvalidConfigurationNamesTheVariable(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"VEGA_LISTEN_ADDR": "0.0.0.0:8000"}, "VEGA_DEBUG_PASSWORD"},
		{map[string]string{"VEGA_THREAD_CONCURRENCY": "zero"}, "VEGA_THREAD_CONCURRENCY"},
		{map[string]string{"VEGA_THREAD_CONCURRENCY": "0"}, "VEGA_THREAD_CONCURRENCY"},
		{map[string]string{"VEGA_PERSISTENCE_BACKEND": "mongo"}, "VEGA_PERSISTENCE_BACKEND"},
		{map[string]string{"VEGA_PERSISTENCE_BACKEND": "postgres"}, "VEGA_DATABASE_URL"},
		{map[string]string{"VEGA_SCAN_EXECUTION_MODE": "external"}, "single-process"},
		{map[string]string{"VEGA_PERSISTENCE_BACKEND": "postgres", "VEGA_DATABASE_URL": "postgres://x", "VEGA_AUTH_SECRET": strings.Repeat("s", 32), "VEGA_SCAN_EXECUTION_MODE": "sqs"}, "VEGA_SCAN_QUEUE_URL"},
		{map[string]string{"VEGA_SCAN_WORKER_EXECUTION_MODE": "ecs"}, "VEGA_FILE_STORAGE_BACKEND=s3"},
		{map[string]string{"VEGA_AUTH_PROVIDER": "cognito"}, "VEGA_COGNITO_APP_CLIENT_ID"},
		{map[string]string{"VEGA_AUTH_SECRET": "short"}, "VEGA_AUTH_SECRET"},
		{map[string]string{"VEGA_SCAN_HEARTBEAT_SECONDS": "200"}, "VEGA_SCAN_HEARTBEAT_SECONDS"},
		{map[string]string{"VEGA_GIT_ALLOW_PRIVATE_HOSTS": "maybe"}, "VEGA_GIT_ALLOW_PRIVATE_HOSTS"},
		{map[string]string{"VEGA_SCAN_ENGINES": "secrets,magic"}, "VEGA_SCAN_ENGINES"},
		{map[string]string{"VEGA_AUTH_SECRET_FILE": "/nonexistent/secret"}, "VEGA_AUTH_SECRET_FILE"},
		{map[string]string{"VEGA_ALLOWED_HOSTS": "*"}, "VEGA_ALLOWED_HOSTS"},
		{map[string]string{"VEGA_ALLOWED_HOSTS": "https://vega.example.com"}, "VEGA_ALLOWED_HOSTS"},
		{map[string]string{"VEGA_ALLOWED_HOSTS": "vega.example.com:443"}, "VEGA_ALLOWED_HOSTS"},
		{map[string]string{"VEGA_PUBLIC_URL": "vega.example.com"}, "VEGA_PUBLIC_URL"},
		{map[string]string{"VEGA_MAX_STORED_BYTES_PER_USER": "-1"}, "VEGA_MAX_STORED_BYTES_PER_USER"},
		{map[string]string{"VEGA_MAX_PROJECTS_PER_USER": "many"}, "VEGA_MAX_PROJECTS_PER_USER"},
	}
	for _, c := range cases {
		_, err := load(c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v should name %s", c.env, err, c.want)
		}
	}
}

func TestNonLoopbackWithOwnPasswordAndANameIsFine(t *testing.T) {
	for _, named := range []map[string]string{{"VEGA_PUBLIC_URL": "https://vega.example.com"}, {"VEGA_ALLOWED_HOSTS": "vega.example.com"}} {
		env := map[string]string{"VEGA_LISTEN_ADDR": "0.0.0.0:8000", "VEGA_DEBUG_PASSWORD": "a-long-unique-password"}
		for k, v := range named {
			env[k] = v
		}
		if _, err := load(env); err != nil {
			t.Fatal(err)
		}
	}
}

// Listening on every interface with no name configured would answer 421 to
// every request that comes through a DNS name or load balancer: refused at
// start with a sentence naming both variables.
func TestEveryInterfaceNeedsAHostName(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8000", "[::]:8000", ":8000"} {
		_, err := load(map[string]string{"VEGA_LISTEN_ADDR": addr, "VEGA_DEBUG_PASSWORD": "a-long-unique-password"})
		if err == nil || !strings.Contains(err.Error(), "VEGA_PUBLIC_URL") || !strings.Contains(err.Error(), "VEGA_ALLOWED_HOSTS") {
			t.Errorf("%s without a name: %v", addr, err)
		}
	}
	// A specific address needs nothing: IP addresses are always answered.
	if _, err := load(map[string]string{"VEGA_LISTEN_ADDR": "10.1.2.3:8000", "VEGA_DEBUG_PASSWORD": "a-long-unique-password"}); err != nil {
		t.Fatal(err)
	}
}

func TestHostNames(t *testing.T) {
	c, err := load(map[string]string{"VEGA_LISTEN_ADDR": "Vega.Internal:8000", "VEGA_DEBUG_PASSWORD": "a-long-unique-password",
		"VEGA_PUBLIC_URL": "https://Vega.Example.com/", "VEGA_ALLOWED_HOSTS": "alb-1.eu-west-1.elb.amazonaws.com, .Corp.Example"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"vega.internal", "vega.example.com", "alb-1.eu-west-1.elb.amazonaws.com", ".corp.example"}
	if got := c.HostNames(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("HostNames() = %v, want %v", got, want)
	}
	if c, _ := load(nil); strings.Join(c.HostNames(), " ") != "" {
		t.Fatalf("the default listen address and public URL are IP literals, no names: %v", c.HostNames())
	}
}

func TestSecretsFromFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(p, []byte(strings.Repeat("z", 40)+"\n"), 0o600)
	c, err := load(map[string]string{"VEGA_AUTH_SECRET_FILE": p, "DATABASE_URL": "postgres://db", "VEGA_PERSISTENCE_BACKEND": "postgres"})
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthSecret != strings.Repeat("z", 40) || c.DatabaseURL != "postgres://db" || c.AutoMigrate || c.LogFormat != "text" {
		t.Fatalf("%+v", c)
	}
	for _, name := range SecretNames() {
		if name == "VEGA_LISTEN_ADDR" {
			t.Fatal("listen address is not a secret")
		}
	}
}

func TestMarkdownListsEveryVariable(t *testing.T) {
	md := Markdown()
	for _, v := range variables {
		if !strings.Contains(md, "`"+v.Name+"`") {
			t.Errorf("%s missing from the table", v.Name)
		}
	}
}
