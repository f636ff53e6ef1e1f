// Package config reads Vega's configuration from the environment once, at
// start, and validates it with messages that name the variable (README, "Configuration").
package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Roles (README "Commands", docs/aws.md). Each command runs one: `serve` and
// `users` the api role, the others the role of their name.
const (
	RoleAPI         = "api"
	RoleWorker      = "worker"
	RoleRunner      = "runner"
	RoleLLMProxy    = "llm-proxy"
	RoleMaintenance = "maintenance"
	RoleMigrate     = "migrate"
)

// Roles lists every role.
func Roles() []string {
	return []string{RoleAPI, RoleWorker, RoleRunner, RoleLLMProxy, RoleMaintenance, RoleMigrate}
}

// Default debug credentials of the custom provider. Starting with the default
// password on a non-loopback address is refused.
const (
	DefaultDebugEmail    = "debug@example.com"
	DefaultDebugPassword = "vega-debug-password"
)

type Cognito struct {
	Region      string
	UserPoolID  string
	AppClientID string
	Domain      string
	Issuer      string // derived from region and pool unless set
	// Cognito groups whose members are Vega's root and operator (docs/auth.md).
	RootGroup     string
	OperatorGroup string
}

type ECS struct {
	Cluster        string
	TaskDefinition string
	Container      string
	Subnets        []string
	SecurityGroups []string
	// ScanToken is the scan-scoped LLM token a worker hands its runner task
	// (VEGA_LLM_SCAN_TOKEN, a per-scan RunTask override; runner role only).
	ScanToken string
}

// Config is the validated configuration of every role.
type Config struct {
	Role        string
	ListenAddr  string
	DataDir     string
	Environment string
	LogFormat   string
	LogLevel    string

	PersistenceBackend string // bolt | postgres ("json" is accepted as bolt)
	DatabaseURL        string
	AutoMigrate        bool

	FileStorageBackend string
	S3SourceBucket     string
	S3ArtifactsBucket  string
	S3Endpoint         string
	S3ForcePathStyle   bool
	S3KMSKeyID         string
	S3CacheMaxBytes    int64

	ScanExecutionMode       string
	ScanQueueURL            string
	ScanWorkerExecutionMode string
	ThreadConcurrency       int
	ScanHeartbeat           time.Duration
	ScanHeartbeatTTL        time.Duration
	ScanRunningStale        time.Duration
	ScanMaxAttempts         int
	WorkerHeartbeatTTL      time.Duration
	MaxActiveScansPerUser   int
	MaxProjectsPerUser      int
	MaxRepositoriesPerUser  int
	MaxStoredBytesPerUser   int64

	MaxSourceBytes              int64
	MaxArchiveEntries           int
	MaxArchiveFileBytes         int64
	MaxArchiveUncompressedBytes int64

	GitAllowPrivateHosts bool
	// WebhookAllowPrivateHosts lets webhook URLs reach loopback and private
	// addresses (docs/webhooks.md); link-local and metadata never.
	WebhookAllowPrivateHosts bool
	GitCloneTimeout          time.Duration
	GitUploadTTL             time.Duration

	AuthProvider    string
	AuthSecret      string
	DebugEmail      string
	DebugPassword   string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	Cognito         Cognito

	ServeUI            bool
	CORSAllowedOrigins []string
	PublicURL          string
	AllowedHosts       []string

	ScanEngines      []string
	CodexBin         string
	CodexSandbox     string
	CodexImage       string
	CodexModel       string
	CodexConcurrency int
	CodexCallTimeout time.Duration
	CodexIdleTimeout time.Duration
	CodexValidate    bool

	LLMProxyURL                string // "" = in-process (local mode)
	LLMProxyListenAddr         string
	LLMProxyAdminToken         string
	LLMProviderBaseURL         string
	LLMProviderAPIKey          string
	LLMProxyTokenTTL           time.Duration
	LLMProxyMaxRequestsPerScan int64
	LLMProxyMaxTokensPerScan   int64
	LLMProxyMaxCostUSDPerScan  float64
	LLMProxyPriceUSDPer1K      float64
	LLMProxyPrices             string

	ECS                    ECS
	AWSEndpointURL         string
	SecretsManagerSecretID string

	// FromSecretsManager names the variables taken from the Secrets
	// Manager secret (names only, for the start-up log).
	FromSecretsManager []string

	// set tracks which variables were given, for defaults that depend on
	// other settings.
	set map[string]bool
}

// Lookup reads one variable; os.LookupEnv in production, a map in tests.
type Lookup func(name string) (string, bool)

// SecretSource reads the string of a Secrets Manager secret (app/awssecrets).
// Its errors must name the secret ID and never the value.
type SecretSource interface {
	SecretString(ctx context.Context, secretID string) (string, error)
}

// LocalSecretFunc returns the value of a generated local secret, creating it
// on first use (app/server keeps them in VEGA_DATA_DIR/secrets).
type LocalSecretFunc func(dataDir, name string) (string, error)

// Source is what Load reads.
type Source struct {
	// Role is the role of the command being run; "" takes VEGA_SERVICE_ROLE.
	Role string
	// Env reads the environment: os.LookupEnv in production, a map in tests.
	Env Lookup
	// Secrets reads VEGA_SECRETS_MANAGER_SECRET_ID; nil refuses that variable.
	Secrets SecretSource
	// LocalSecret, when set, generates the auth secret and the proxy admin
	// token the bolt store's single process needs and nobody configured.
	LocalSecret LocalSecretFunc
}

// FromEnv loads the configuration of role from the process environment and,
// when VEGA_SECRETS_MANAGER_SECRET_ID is set, from that secret.
func FromEnv(ctx context.Context, role string, secrets SecretSource, local LocalSecretFunc) (*Config, error) {
	return Load(ctx, Source{Role: role, Env: os.LookupEnv, Secrets: secrets, LocalSecret: local})
}

// Load reads, completes and validates the configuration of one role, once:
// the environment first, then the Secrets Manager secret for what the
// environment leaves unset (only the keys that role takes), then generated
// local secrets, then defaults. The result is final; nothing changes it
// afterwards. Every problem is reported, each naming its variable.
func Load(ctx context.Context, src Source) (*Config, error) {
	role, err := resolveRole(src)
	if err != nil {
		return nil, err
	}
	secret, err := loadSecret(ctx, src, role)
	if err != nil {
		return nil, err
	}
	c := &Config{set: map[string]bool{}}
	var errs []error
	for _, v := range variables {
		raw, from, err := read(src.Env, secret, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch from {
		case fromSecret:
			c.FromSecretsManager = append(c.FromSecretsManager, v.Name)
			fallthrough
		case fromEnv:
			c.set[v.Name] = true
		default:
			raw = v.Default
		}
		if err := v.set(c, strings.TrimSpace(raw)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.Name, err))
		}
	}
	c.Role = role
	if len(errs) == 0 {
		c.applyDerivedDefaults()
		errs = append(errs, c.generateLocalSecrets(src.LocalSecret)...)
	}
	if len(errs) == 0 {
		errs = append(errs, c.validate()...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// resolveRole is the command's role, or VEGA_SERVICE_ROLE without a command.
func resolveRole(src Source) (string, error) {
	role := src.Role
	if role == "" {
		role = RoleAPI
		if v, ok := src.Env("VEGA_SERVICE_ROLE"); ok && strings.TrimSpace(v) != "" {
			role = strings.TrimSpace(v)
		}
	}
	if !slices.Contains(Roles(), role) {
		return "", fmt.Errorf("VEGA_SERVICE_ROLE: must be one of %s (got %q)", strings.Join(Roles(), ", "), role)
	}
	return role, nil
}

type origin int

const (
	fromDefault origin = iota
	fromEnv
	fromSecret
)

// read returns a variable's raw value: from NAME, an alias or NAME_FILE in
// the environment, else from the secret.
func read(env Lookup, secret map[string]string, v variable) (string, origin, error) {
	for _, name := range append([]string{v.Name}, v.Aliases...) {
		if val, ok := env(name); ok && val != "" {
			return val, fromEnv, nil
		}
	}
	if v.Secret {
		if path, ok := env(v.Name + "_FILE"); ok && path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", fromDefault, fmt.Errorf("%s_FILE: cannot read the file it names: %w", v.Name, errors.Unwrap(err))
			}
			return strings.TrimRight(string(b), "\r\n"), fromEnv, nil
		}
	}
	if val, ok := secret[v.Name]; ok && val != "" {
		return val, fromSecret, nil
	}
	return "", fromDefault, nil
}

// generateLocalSecrets fills, for the bolt store's single process, the auth
// secret and the proxy admin token nobody configured.
func (c *Config) generateLocalSecrets(gen LocalSecretFunc) []error {
	if gen == nil || c.PersistenceBackend != "bolt" {
		return nil
	}
	var errs []error
	for name, field := range map[string]*string{"VEGA_AUTH_SECRET": &c.AuthSecret, "VEGA_LLM_PROXY_ADMIN_TOKEN": &c.LLMProxyAdminToken} {
		if *field != "" {
			continue
		}
		file := strings.ToLower(strings.TrimPrefix(name, "VEGA_"))
		v, err := gen(c.DataDir, file)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: cannot generate it under VEGA_DATA_DIR (%s): %w", name, c.DataDir, err))
			continue
		}
		*field = v
	}
	return errs
}

func (c *Config) applyDerivedDefaults() {
	if c.PersistenceBackend == "json" {
		c.PersistenceBackend = "bolt"
	}
	if !c.set["VEGA_AUTO_MIGRATE"] {
		c.AutoMigrate = c.PersistenceBackend == "bolt"
	}
	if !c.set["VEGA_LOG_FORMAT"] {
		c.LogFormat = "text"
		if c.Environment != "local" {
			c.LogFormat = "json"
		}
	}
	if !c.set["VEGA_LLM_PROXY_URL"] && c.Role != RoleAPI {
		// Only the api role hosts the LLM proxy in-process; every other role
		// talks to a standalone one.
		c.LLMProxyURL = "http://" + c.LLMProxyListenAddr
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.ListenAddr
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.Cognito.Issuer == "" && c.Cognito.Region != "" && c.Cognito.UserPoolID != "" {
		c.Cognito.Issuer = fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", c.Cognito.Region, c.Cognito.UserPoolID)
	}
}

func (c *Config) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.PersistenceBackend == "postgres" && c.DatabaseURL == "" {
		bad("VEGA_DATABASE_URL: required when VEGA_PERSISTENCE_BACKEND=postgres")
	}
	if c.ScanExecutionMode != "thread" && c.PersistenceBackend == "bolt" {
		bad("VEGA_SCAN_EXECUTION_MODE=%s needs VEGA_PERSISTENCE_BACKEND=postgres: the bolt store is a single-process file, so separate workers cannot share it", c.ScanExecutionMode)
	}
	if c.ScanExecutionMode == "sqs" && c.ScanQueueURL == "" {
		bad("VEGA_SCAN_QUEUE_URL: required when VEGA_SCAN_EXECUTION_MODE=sqs")
	}
	if c.ScanExecutionMode != "sqs" && c.set["VEGA_SCAN_QUEUE_URL"] {
		bad("VEGA_SCAN_QUEUE_URL is set but VEGA_SCAN_EXECUTION_MODE=%s does not use a queue: set VEGA_SCAN_EXECUTION_MODE=sqs, or unset VEGA_SCAN_QUEUE_URL", c.ScanExecutionMode)
	}
	if c.ECS.ScanToken != "" && c.Role != RoleRunner {
		bad("VEGA_LLM_SCAN_TOKEN is only for `vega runner` in an ECS task (its worker sets it per scan); unset it for the %s role", c.Role)
	}
	if c.ScanWorkerExecutionMode == "ecs" {
		if c.ScanExecutionMode == "thread" && (c.Role == RoleAPI || c.Role == RoleWorker) {
			bad("VEGA_SCAN_WORKER_EXECUTION_MODE=ecs needs VEGA_SCAN_EXECUTION_MODE=sqs (or external): runner tasks are launched by `vega worker`, while in thread mode `vega serve` runs scans itself")
		}
		if c.FileStorageBackend == "local" {
			bad("VEGA_SCAN_WORKER_EXECUTION_MODE=ecs needs VEGA_FILE_STORAGE_BACKEND=s3: an ECS task cannot read this machine's local files")
		}
		for name, v := range map[string]string{"VEGA_ECS_CLUSTER": c.ECS.Cluster, "VEGA_ECS_RUNNER_TASK_DEFINITION": c.ECS.TaskDefinition} {
			if v == "" {
				bad("%s: required when VEGA_SCAN_WORKER_EXECUTION_MODE=ecs", name)
			}
		}
		if len(c.ECS.Subnets) == 0 {
			bad("VEGA_ECS_SUBNETS: required when VEGA_SCAN_WORKER_EXECUTION_MODE=ecs")
		}
	}
	if c.FileStorageBackend == "s3" && (c.S3SourceBucket == "" || c.S3ArtifactsBucket == "") {
		bad("VEGA_S3_SOURCE_BUCKET and VEGA_S3_ARTIFACTS_BUCKET: both required when VEGA_FILE_STORAGE_BACKEND=s3")
	}
	if c.FileStorageBackend == "local" {
		// Set but ignored would be worse than refused: files would silently
		// stay on this machine, unencrypted by the key the operator chose.
		for _, name := range []string{"VEGA_S3_SOURCE_BUCKET", "VEGA_S3_ARTIFACTS_BUCKET", "VEGA_S3_KMS_KEY_ID", "VEGA_S3_ENDPOINT"} {
			if c.set[name] {
				bad("%s is set but VEGA_FILE_STORAGE_BACKEND=local keeps files under VEGA_DATA_DIR: set VEGA_FILE_STORAGE_BACKEND=s3, or unset %s", name, name)
			}
		}
	}
	for name, v := range map[string]string{"VEGA_S3_ENDPOINT": c.S3Endpoint, "VEGA_AWS_ENDPOINT_URL": c.AWSEndpointURL} {
		if u, err := url.Parse(v); v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			bad("%s: must be an http(s) URL such as http://127.0.0.1:4566 (got %q)", name, v)
		}
	}
	if c.AuthProvider == "cognito" {
		if c.Cognito.Issuer == "" {
			bad("VEGA_COGNITO_REGION and VEGA_COGNITO_USER_POOL_ID (or VEGA_COGNITO_ISSUER): required when VEGA_AUTH_PROVIDER=cognito")
		}
		if c.Cognito.AppClientID == "" {
			bad("VEGA_COGNITO_APP_CLIENT_ID: required when VEGA_AUTH_PROVIDER=cognito")
		}
		for name, v := range map[string]string{"VEGA_COGNITO_ROOT_GROUP": c.Cognito.RootGroup, "VEGA_COGNITO_OPERATOR_GROUP": c.Cognito.OperatorGroup} {
			if !validCognitoGroup(v) {
				bad("%s: must be a Cognito group name (1 to 128 characters, no spaces or control characters; got %q)", name, v)
			}
		}
	}
	// Only the api role signs tokens and seeds the debug user.
	if c.AuthProvider == "custom" && c.Role == RoleAPI {
		if c.DebugPassword == DefaultDebugPassword && !isLoopback(c.ListenAddr) {
			bad("VEGA_DEBUG_PASSWORD: the default debug password is only allowed on a loopback VEGA_LISTEN_ADDR (got %q); set a strong VEGA_DEBUG_PASSWORD or listen on 127.0.0.1", c.ListenAddr)
		}
		if c.AuthSecret == "" && c.PersistenceBackend != "bolt" {
			bad("VEGA_AUTH_SECRET: required for the api role outside local mode (it is generated into VEGA_DATA_DIR only with the bolt store)")
		}
	}
	if c.AuthSecret != "" && len(c.AuthSecret) < 32 {
		bad("VEGA_AUTH_SECRET: must be at least 32 characters")
	}
	switch c.Role {
	case RoleLLMProxy:
		if c.PersistenceBackend != "postgres" {
			bad("vega llm-proxy shares the database with the API, so it needs VEGA_PERSISTENCE_BACKEND=postgres; locally `vega serve` hosts the proxy in-process")
		}
		if c.LLMProxyAdminToken == "" {
			bad("VEGA_LLM_PROXY_ADMIN_TOKEN: required for the llm-proxy role (it guards token minting)")
		}
		if c.LLMProviderAPIKey == "" {
			bad("VEGA_LLM_PROVIDER_API_KEY: required for the llm-proxy role")
		}
	case RoleWorker:
		if c.ScanExecutionMode == "thread" {
			bad("vega worker needs VEGA_SCAN_EXECUTION_MODE=external (with VEGA_PERSISTENCE_BACKEND=postgres); in thread mode `vega serve` runs scans itself")
		}
	}
	if c.ScanHeartbeat >= c.ScanHeartbeatTTL {
		bad("VEGA_SCAN_HEARTBEAT_SECONDS: must be shorter than VEGA_SCAN_HEARTBEAT_TTL_SECONDS, or live scans would be recovered")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		bad("VEGA_PUBLIC_URL: want an absolute http(s) URL such as https://vega.example.com (got %q)", c.PublicURL)
	}
	for _, h := range c.AllowedHosts {
		if !hostNamePattern.MatchString(h) {
			bad("VEGA_ALLOWED_HOSTS: %q is not a host name; list names such as vega.example.com or .example.com (it and its subdomains), without scheme, port or *", h)
		}
	}
	// Every interface, and no name given: the API would answer only IP
	// addresses and localhost, so a load balancer or DNS name in front would
	// get 421 on everything. Say so now rather than at the first request.
	// Only the api role listens on VEGA_LISTEN_ADDR.
	if c.Role == RoleAPI && isUnspecified(c.ListenAddr) && !c.set["VEGA_PUBLIC_URL"] && len(c.AllowedHosts) == 0 {
		bad("VEGA_LISTEN_ADDR=%s listens on every interface, but the API only answers a Host header that is an IP address, localhost or a configured name (DNS rebinding protection): set VEGA_PUBLIC_URL to the URL users and git clients reach, or VEGA_ALLOWED_HOSTS to the names they use", c.ListenAddr)
	}
	for _, o := range c.CORSAllowedOrigins {
		// Credentialed CORS (the dashboard's refresh cookie) needs exact
		// origins; a wildcard would let any site use the cookie.
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			strings.Contains(u.Host, "*") || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			bad("VEGA_CORS_ALLOWED_ORIGINS: %q is not an origin like https://vega.example.com (no wildcard, no path)", o)
		}
	}
	for _, e := range c.ScanEngines {
		if e != "auto" && e != "secrets" && e != "codex" {
			bad("VEGA_SCAN_ENGINES: unknown engine %q (want auto, secrets, codex)", e)
		}
	}
	return errs
}

// hostNamePattern is one VEGA_ALLOWED_HOSTS entry: a DNS name, optionally
// with a leading dot for "and every subdomain".
var hostNamePattern = regexp.MustCompile(`^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// HostNames are the names the API answers to besides IP addresses and
// localhost: the listen host when it is a name, VEGA_PUBLIC_URL's host and
// VEGA_ALLOWED_HOSTS, lower-cased (README "DNS rebinding").
func (c *Config) HostNames() []string {
	var out []string
	if host, _, err := net.SplitHostPort(c.ListenAddr); err == nil && host != "" && net.ParseIP(host) == nil {
		out = append(out, strings.ToLower(host))
	}
	if u, err := url.Parse(c.PublicURL); err == nil && u.Hostname() != "" && net.ParseIP(u.Hostname()) == nil {
		out = append(out, strings.ToLower(u.Hostname()))
	}
	return append(out, c.AllowedHosts...)
}

// isUnspecified reports whether a listen address binds every interface
// (":8000", "0.0.0.0:8000", "[::]:8000").
func isUnspecified(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// isLoopback reports whether a listen address only accepts local connections.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parsers used by the variable table

func oneOf(options ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		for _, o := range options {
			if v == o {
				return v, nil
			}
		}
		return "", fmt.Errorf("must be one of %s (got %q)", strings.Join(options, ", "), v)
	}
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("must be true or false (got %q)", v)
}

func parseInt(min int64) func(string) (int64, error) {
	return func(v string) (int64, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("must be a whole number (got %q)", v)
		}
		if n < min {
			return 0, fmt.Errorf("must be at least %d (got %d)", min, n)
		}
		return n, nil
	}
}

func parseSeconds(v string) (time.Duration, error) {
	n, err := parseInt(1)(v)
	return time.Duration(n) * time.Second, err
}

func parseFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("must be a non-negative number (got %q)", v)
	}
	return f, nil
}

func parseList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseAddr(v string) (string, error) {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return "", fmt.Errorf("must be host:port (got %q)", v)
	}
	return v, nil
}

// validCognitoGroup follows Cognito's rule for group names: 1 to 128
// letters, marks, symbols, numbers or punctuation.
func validCognitoGroup(g string) bool {
	if g == "" || utf8.RuneCountInString(g) > 128 || !utf8.ValidString(g) {
		return false
	}
	for _, r := range g {
		if !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P) {
			return false
		}
	}
	return true
}
