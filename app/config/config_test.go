package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mapEnv(env map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func load(env map[string]string) (*Config, error) {
	return Load(context.Background(), Source{Env: mapEnv(env)})
}

func loadAs(role string, env map[string]string, secrets SecretSource) (*Config, error) {
	return Load(context.Background(), Source{Role: role, Env: mapEnv(env), Secrets: secrets})
}

// pg is the smallest valid multi-process configuration.
func pg(extra map[string]string) map[string]string {
	env := map[string]string{"VEGA_PERSISTENCE_BACKEND": "postgres", "VEGA_DATABASE_URL": "postgres://db", "VEGA_SCAN_EXECUTION_MODE": "external"}
	for k, v := range extra {
		env[k] = v
	}
	return env
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
		{map[string]string{"VEGA_SCAN_WORKER_EXECUTION_MODE": "ecs"}, "VEGA_SCAN_WORKER_EXECUTION_MODE=ecs needs VEGA_SCAN_EXECUTION_MODE=sqs"},
		{map[string]string{"VEGA_SCAN_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q"}, "VEGA_SCAN_QUEUE_URL is set but VEGA_SCAN_EXECUTION_MODE=thread"},
		{map[string]string{"VEGA_LLM_SCAN_TOKEN": "tok"}, "VEGA_LLM_SCAN_TOKEN is only for `vega runner`"},
		{map[string]string{"VEGA_AUTH_PROVIDER": "cognito"}, "VEGA_COGNITO_APP_CLIENT_ID"},
		{map[string]string{"VEGA_AUTH_PROVIDER": "cognito", "VEGA_COGNITO_ISSUER": "https://idp.example.com/pool", "VEGA_COGNITO_APP_CLIENT_ID": "c",
			"VEGA_COGNITO_ROOT_GROUP": "vega admins"}, "VEGA_COGNITO_ROOT_GROUP"},
		{map[string]string{"VEGA_AUTH_PROVIDER": "cognito", "VEGA_COGNITO_ISSUER": "https://idp.example.com/pool", "VEGA_COGNITO_APP_CLIENT_ID": "c",
			"VEGA_COGNITO_OPERATOR_GROUP": strings.Repeat("o", 129)}, "VEGA_COGNITO_OPERATOR_GROUP"},
		{map[string]string{"VEGA_AUTH_SECRET": "short"}, "VEGA_AUTH_SECRET"},
		{map[string]string{"VEGA_SCAN_HEARTBEAT_SECONDS": "200"}, "VEGA_SCAN_HEARTBEAT_SECONDS"},
		{map[string]string{"VEGA_GIT_ALLOW_PRIVATE_HOSTS": "maybe"}, "VEGA_GIT_ALLOW_PRIVATE_HOSTS"},
		{map[string]string{"VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS": "maybe"}, "VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS"},
		{map[string]string{"VEGA_SCAN_ENGINES": "secrets,magic"}, "VEGA_SCAN_ENGINES"},
		{map[string]string{"VEGA_AUTH_SECRET_FILE": "/nonexistent/secret"}, "VEGA_AUTH_SECRET_FILE"},
		{map[string]string{"VEGA_ALLOWED_HOSTS": "*"}, "VEGA_ALLOWED_HOSTS"},
		{map[string]string{"VEGA_ALLOWED_HOSTS": "https://vega.example.com"}, "VEGA_ALLOWED_HOSTS"},
		{map[string]string{"VEGA_ALLOWED_HOSTS": "vega.example.com:443"}, "VEGA_ALLOWED_HOSTS"},
		{map[string]string{"VEGA_PUBLIC_URL": "vega.example.com"}, "VEGA_PUBLIC_URL"},
		{map[string]string{"VEGA_MAX_STORED_BYTES_PER_USER": "-1"}, "VEGA_MAX_STORED_BYTES_PER_USER"},
		{map[string]string{"VEGA_MAX_PROJECTS_PER_USER": "many"}, "VEGA_MAX_PROJECTS_PER_USER"},
		{map[string]string{"VEGA_SERVICE_ROLE": "janitor"}, "VEGA_SERVICE_ROLE"},
		{map[string]string{"VEGA_FILE_STORAGE_BACKEND": "s3"}, "VEGA_S3_SOURCE_BUCKET and VEGA_S3_ARTIFACTS_BUCKET"},
		{map[string]string{"VEGA_FILE_STORAGE_BACKEND": "s3", "VEGA_S3_SOURCE_BUCKET": "src"}, "VEGA_S3_ARTIFACTS_BUCKET"},
		{map[string]string{"VEGA_S3_SOURCE_BUCKET": "src"}, "VEGA_S3_SOURCE_BUCKET is set but VEGA_FILE_STORAGE_BACKEND=local"},
		{map[string]string{"VEGA_S3_KMS_KEY_ID": "alias/vega"}, "VEGA_S3_KMS_KEY_ID is set but VEGA_FILE_STORAGE_BACKEND=local"},
		{map[string]string{"VEGA_FILE_STORAGE_BACKEND": "s3", "VEGA_S3_SOURCE_BUCKET": "a", "VEGA_S3_ARTIFACTS_BUCKET": "b", "VEGA_S3_ENDPOINT": "localhost:4566"}, "VEGA_S3_ENDPOINT"},
		{map[string]string{"VEGA_AWS_ENDPOINT_URL": "ftp://x"}, "VEGA_AWS_ENDPOINT_URL"},
		{map[string]string{"VEGA_S3_CACHE_MAX_BYTES": "-1"}, "VEGA_S3_CACHE_MAX_BYTES"},
		{map[string]string{"VEGA_SECRETS_MANAGER_SECRET_ID": "vega/prod"}, "cannot read Secrets Manager"},
		{map[string]string{"VEGA_CORS_ALLOWED_ORIGINS": "*"}, "VEGA_CORS_ALLOWED_ORIGINS"},
		{map[string]string{"VEGA_CORS_ALLOWED_ORIGINS": "https://*.example.com"}, "VEGA_CORS_ALLOWED_ORIGINS"},
		{map[string]string{"VEGA_CORS_ALLOWED_ORIGINS": "https://vega.example.com/app"}, "VEGA_CORS_ALLOWED_ORIGINS"},
		{map[string]string{"VEGA_CORS_ALLOWED_ORIGINS": "vega.example.com"}, "VEGA_CORS_ALLOWED_ORIGINS"},
	}
	for _, c := range cases {
		_, err := load(c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v should name %s", c.env, err, c.want)
		}
	}
}

func TestCognitoGroupNames(t *testing.T) {
	env := map[string]string{"VEGA_AUTH_PROVIDER": "cognito", "VEGA_COGNITO_REGION": "eu-west-1", "VEGA_COGNITO_USER_POOL_ID": "eu-west-1_abc",
		"VEGA_COGNITO_APP_CLIENT_ID": "c"}
	c, err := load(env)
	if err != nil || c.Cognito.RootGroup != "root" || c.Cognito.OperatorGroup != "operator" ||
		c.Cognito.Issuer != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc" {
		t.Fatalf("defaults: %+v, %v", c.Cognito, err)
	}
	env["VEGA_COGNITO_ROOT_GROUP"], env["VEGA_COGNITO_OPERATOR_GROUP"] = "Vega-Admins", "sec.ops@example"
	if c, err = load(env); err != nil || c.Cognito.RootGroup != "Vega-Admins" || c.Cognito.OperatorGroup != "sec.ops@example" {
		t.Fatalf("configured names: %+v, %v", c.Cognito, err)
	}
}

func TestCORSOriginsAreExactOrigins(t *testing.T) {
	c, err := load(map[string]string{"VEGA_CORS_ALLOWED_ORIGINS": "https://vega.example.com, http://127.0.0.1:5173"})
	if err != nil || len(c.CORSAllowedOrigins) != 2 {
		t.Fatalf("two exact origins: %v %v", c, err)
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

// The role is fixed before anything is read: derived defaults and the checks
// that depend on it run once, for that role.
func TestRoleDecidesDefaultsAndChecks(t *testing.T) {
	c, err := loadAs(RoleWorker, pg(nil), nil)
	if err != nil {
		t.Fatalf("a worker needs no auth secret: %v", err)
	}
	if c.Role != RoleWorker || c.LLMProxyURL != "http://127.0.0.1:8001" {
		t.Fatalf("worker: role %q proxy %q", c.Role, c.LLMProxyURL)
	}
	if c, err := load(map[string]string{"VEGA_SERVICE_ROLE": "runner", "VEGA_PERSISTENCE_BACKEND": "postgres", "VEGA_DATABASE_URL": "postgres://db", "VEGA_SCAN_EXECUTION_MODE": "external"}); err != nil || c.Role != RoleRunner {
		t.Fatalf("VEGA_SERVICE_ROLE without a command: %v %v", c, err)
	}
	// The command's role wins over VEGA_SERVICE_ROLE (a container's default).
	if c, err := loadAs(RoleAPI, map[string]string{"VEGA_SERVICE_ROLE": "worker"}, nil); err != nil || c.Role != RoleAPI || c.LLMProxyURL != "" {
		t.Fatalf("serve with VEGA_SERVICE_ROLE=worker: %+v %v", c, err)
	}
	for _, tc := range []struct {
		role string
		env  map[string]string
		want string
	}{
		{RoleAPI, pg(nil), "VEGA_AUTH_SECRET: required for the api role"},
		{RoleAPI, map[string]string{"VEGA_LISTEN_ADDR": "0.0.0.0:8000"}, "VEGA_DEBUG_PASSWORD"},
		{RoleWorker, nil, "vega worker needs VEGA_SCAN_EXECUTION_MODE=external"},
		{RoleLLMProxy, nil, "needs VEGA_PERSISTENCE_BACKEND=postgres"},
		{RoleLLMProxy, pg(nil), "VEGA_LLM_PROXY_ADMIN_TOKEN"},
		{RoleLLMProxy, pg(map[string]string{"VEGA_LLM_PROXY_ADMIN_TOKEN": "t"}), "VEGA_LLM_PROVIDER_API_KEY"},
	} {
		if _, err := loadAs(tc.role, tc.env, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.role, tc.env, err, tc.want)
		}
	}
	// A worker container listening on all interfaces is not refused for the debug password it never uses.
	if _, err := loadAs(RoleWorker, pg(map[string]string{"VEGA_LISTEN_ADDR": "0.0.0.0:8000"}), nil); err != nil {
		t.Fatal(err)
	}
}

type fakeSecrets struct {
	value string
	err   error
	asked []string
}

func (f *fakeSecrets) SecretString(_ context.Context, id string) (string, error) {
	f.asked = append(f.asked, id)
	return f.value, f.err
}

const providerKey = "sk-provider-key-from-the-secret"

func sharedSecret() *fakeSecrets {
	return &fakeSecrets{value: `{
		"VEGA_DATABASE_URL": "postgres://from-secret",
		"VEGA_AUTH_SECRET": "auth-secret-from-secrets-manager-0123456789",
		"VEGA_LLM_PROXY_ADMIN_TOKEN": "admin-token-from-secret",
		"VEGA_LLM_PROVIDER_API_KEY": "` + providerKey + `",
		"VEGA_THREAD_CONCURRENCY": 6,
		"VEGA_CODEX_VALIDATE": false,
		"username": "ignored: not a Vega key"
	}`}
}

// Every role reads the same secret, and takes only what it needs: the
// provider key reaches llm-proxy alone.
func TestSecretsManagerFillsPerRole(t *testing.T) {
	env := map[string]string{"VEGA_SECRETS_MANAGER_SECRET_ID": "vega/prod", "VEGA_PERSISTENCE_BACKEND": "postgres", "VEGA_SCAN_EXECUTION_MODE": "external"}
	want := map[string][]string{
		RoleAPI:         {"VEGA_AUTH_SECRET", "VEGA_CODEX_VALIDATE", "VEGA_DATABASE_URL", "VEGA_LLM_PROXY_ADMIN_TOKEN", "VEGA_THREAD_CONCURRENCY"},
		RoleWorker:      {"VEGA_CODEX_VALIDATE", "VEGA_DATABASE_URL", "VEGA_LLM_PROXY_ADMIN_TOKEN", "VEGA_THREAD_CONCURRENCY"},
		RoleRunner:      {"VEGA_CODEX_VALIDATE", "VEGA_DATABASE_URL", "VEGA_LLM_PROXY_ADMIN_TOKEN", "VEGA_THREAD_CONCURRENCY"},
		RoleLLMProxy:    {"VEGA_CODEX_VALIDATE", "VEGA_DATABASE_URL", "VEGA_LLM_PROVIDER_API_KEY", "VEGA_LLM_PROXY_ADMIN_TOKEN", "VEGA_THREAD_CONCURRENCY"},
		RoleMaintenance: {"VEGA_CODEX_VALIDATE", "VEGA_DATABASE_URL", "VEGA_THREAD_CONCURRENCY"},
		RoleMigrate:     {"VEGA_CODEX_VALIDATE", "VEGA_DATABASE_URL", "VEGA_THREAD_CONCURRENCY"},
	}
	for _, role := range Roles() {
		src := sharedSecret()
		c, err := loadAs(role, env, src)
		if err != nil {
			t.Fatalf("%s: %v", role, err)
		}
		got := slices.Sorted(slices.Values(c.FromSecretsManager))
		if !slices.Equal(got, want[role]) {
			t.Errorf("%s took %v, want %v", role, got, want[role])
		}
		if (c.LLMProviderAPIKey == providerKey) != (role == RoleLLMProxy) {
			t.Errorf("%s: provider key present = %v", role, c.LLMProviderAPIKey != "")
		}
		if c.DatabaseURL != "postgres://from-secret" || c.ThreadConcurrency != 6 || c.CodexValidate || !slices.Equal(src.asked, []string{"vega/prod"}) {
			t.Errorf("%s: %q %d %v %v", role, c.DatabaseURL, c.ThreadConcurrency, c.CodexValidate, src.asked)
		}
	}
	// The environment wins, including its _FILE form.
	p := filepath.Join(t.TempDir(), "auth")
	os.WriteFile(p, []byte(strings.Repeat("f", 40)), 0o600)
	env2 := map[string]string{"VEGA_DATABASE_URL": "postgres://from-env", "VEGA_AUTH_SECRET_FILE": p}
	for k, v := range env {
		env2[k] = v
	}
	c, err := loadAs(RoleAPI, env2, sharedSecret())
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseURL != "postgres://from-env" || c.AuthSecret != strings.Repeat("f", 40) || slices.Contains(c.FromSecretsManager, "VEGA_DATABASE_URL") {
		t.Fatalf("environment did not win: %q %q %v", c.DatabaseURL, c.AuthSecret, c.FromSecretsManager)
	}
}

// A bad secret stops start-up with a sentence naming the secret and the
// offending keys, never a value.
func TestSecretsManagerRefusals(t *testing.T) {
	env := map[string]string{"VEGA_SECRETS_MANAGER_SECRET_ID": "vega/prod"}
	for _, tc := range []struct {
		src  *fakeSecrets
		want string
	}{
		{&fakeSecrets{err: errors.New("VEGA_SECRETS_MANAGER_SECRET_ID: secret vega/prod does not exist")}, "secret vega/prod does not exist"},
		{&fakeSecrets{value: `not json ` + providerKey}, "secret vega/prod is not a JSON object"},
		{&fakeSecrets{value: `["` + providerKey + `"]`}, "is not a JSON object"},
		{&fakeSecrets{value: `{"VEGA_AUTH_SECRT": "` + providerKey + `"}`}, "VEGA_AUTH_SECRT is not a Vega variable"},
		{&fakeSecrets{value: `{"VEGA_SERVICE_ROLE": "llm-proxy"}`}, "VEGA_SERVICE_ROLE must be set in the environment"},
		{&fakeSecrets{value: `{"VEGA_SECRETS_MANAGER_SECRET_ID": "other"}`}, "must be set in the environment"},
		{&fakeSecrets{value: `{"VEGA_AUTH_SECRET": {"v": "` + providerKey + `"}}`}, "VEGA_AUTH_SECRET must be a string"},
	} {
		_, err := loadAs(RoleAPI, env, tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.src.value, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), providerKey) {
			t.Errorf("the error quotes the secret's value: %v", err)
		}
	}
}

func TestLocalSecretsAreGeneratedForBoltOnly(t *testing.T) {
	var asked []string
	gen := func(dir, name string) (string, error) {
		asked = append(asked, name)
		return strings.Repeat("g", 32) + name, nil
	}
	c, err := Load(context.Background(), Source{Role: RoleAPI, Env: mapEnv(map[string]string{"VEGA_DATA_DIR": "/d"}), LocalSecret: gen})
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthSecret != strings.Repeat("g", 32)+"auth_secret" || c.LLMProxyAdminToken != strings.Repeat("g", 32)+"llm_proxy_admin_token" {
		t.Fatalf("generated: %q %q", c.AuthSecret, c.LLMProxyAdminToken)
	}
	asked = nil
	if _, err := Load(context.Background(), Source{Role: RoleWorker, Env: mapEnv(pg(nil)), LocalSecret: gen}); err != nil || len(asked) != 0 {
		t.Fatalf("postgres: %v, generated %v", err, asked)
	}
	failing := func(string, string) (string, error) { return "", errors.New("read-only file system") }
	if _, err := Load(context.Background(), Source{Env: mapEnv(nil), LocalSecret: failing}); err == nil || !strings.Contains(err.Error(), "VEGA_AUTH_SECRET: cannot generate") {
		t.Fatalf("failing generator: %v", err)
	}
}

func TestS3Configuration(t *testing.T) {
	c, err := load(map[string]string{"VEGA_FILE_STORAGE_BACKEND": "s3", "VEGA_S3_SOURCE_BUCKET": "src", "VEGA_S3_ARTIFACTS_BUCKET": "art",
		"VEGA_S3_KMS_KEY_ID": "alias/vega", "VEGA_AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})
	if err != nil {
		t.Fatal(err)
	}
	if c.S3KMSKeyID != "alias/vega" || c.S3CacheMaxBytes != 2<<30 {
		t.Fatalf("%+v", c)
	}
}
