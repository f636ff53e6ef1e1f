package config

import (
	"fmt"
	"strings"
	"time"
)

// variable is one environment variable: its documentation and how it lands in Config.
// The README's table is generated from this list (`vega env-docs`), so the two
// cannot drift.
type variable struct {
	Name    string
	Aliases []string
	Default string
	Doc     string
	Secret  bool // may come from NAME_FILE; never logged
	// Roles that take the variable from the Secrets Manager secret; nil is
	// every role. The environment is not filtered: it is set per process.
	Roles []string
	set   func(c *Config, raw string) error
}

// secretFor is a secret only the listed roles take from Secrets Manager.
func secretFor(name, doc string, field func(*Config) *string, roles ...string) variable {
	v := secret(name, doc, field)
	v.Roles = roles
	return v
}

func str(name, def, doc string, field func(*Config) *string) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error { *field(c) = v; return nil }}
}

func secret(name, doc string, field func(*Config) *string) variable {
	v := str(name, "", doc, field)
	v.Secret = true
	return v
}

func enum(name, def, doc string, field func(*Config) *string, options ...string) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error {
		got, err := oneOf(options...)(v)
		*field(c) = got
		return err
	}}
}

func boolean(name, def, doc string, field func(*Config) *bool) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error {
		b, err := parseBool(v)
		*field(c) = b
		return err
	}}
}

func integer(name, def, doc string, min int64, field func(*Config) *int) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error {
		n, err := parseInt(min)(v)
		*field(c) = int(n)
		return err
	}}
}

func integer64(name, def, doc string, min int64, field func(*Config) *int64) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error {
		n, err := parseInt(min)(v)
		*field(c) = n
		return err
	}}
}

func seconds(name, def, doc string, field func(*Config) *time.Duration) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error {
		d, err := parseSeconds(v)
		*field(c) = d
		return err
	}}
}

func float(name, def, doc string, field func(*Config) *float64) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error {
		f, err := parseFloat(v)
		*field(c) = f
		return err
	}}
}

func list(name, def, doc string, field func(*Config) *[]string) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error { *field(c) = parseList(v); return nil }}
}

func addr(name, def, doc string, field func(*Config) *string) variable {
	return variable{Name: name, Default: def, Doc: doc, set: func(c *Config, v string) error {
		a, err := parseAddr(v)
		*field(c) = a
		return err
	}}
}

var variables = []variable{
	enum("VEGA_SERVICE_ROLE", "api", "Role when no subcommand is given: `api`, `worker`, `runner`, `llm-proxy`, `maintenance`, `migrate` (so a container is configured by environment alone)", func(c *Config) *string { return &c.Role }, "api", "worker", "runner", "llm-proxy", "maintenance", "migrate"),
	addr("VEGA_LISTEN_ADDR", "127.0.0.1:8000", "API address (loopback by default: a double-clicked binary is not exposed to the network)", func(c *Config) *string { return &c.ListenAddr }),
	str("VEGA_DATA_DIR", "./data", "Local store file, local blobs, generated local secrets", func(c *Config) *string { return &c.DataDir }),
	enum("VEGA_ENVIRONMENT", "local", "Label in logs (`local`, `dev`, `prod`); anything but `local` switches logs to JSON", func(c *Config) *string { return &c.Environment }, "local", "dev", "staging", "prod"),
	enum("VEGA_LOG_FORMAT", "text", "`text` or `json` (default: `text` locally, `json` otherwise)", func(c *Config) *string { return &c.LogFormat }, "text", "json"),
	enum("VEGA_LOG_LEVEL", "info", "`debug`, `info`, `warn`, `error`", func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error"),

	enum("VEGA_PERSISTENCE_BACKEND", "bolt", "`bolt` (alias `json`: embedded file under the data dir) or `postgres`", func(c *Config) *string { return &c.PersistenceBackend }, "bolt", "json", "postgres"),
	{Name: "VEGA_DATABASE_URL", Aliases: []string{"DATABASE_URL"}, Secret: true, Doc: "Postgres DSN, required for `postgres` (also read from `DATABASE_URL`)", set: func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	boolean("VEGA_AUTO_MIGRATE", "", "Apply pending migrations at start (default: `true` for bolt, `false` for postgres)", func(c *Config) *bool { return &c.AutoMigrate }),

	enum("VEGA_FILE_STORAGE_BACKEND", "local", "`local` (under the data dir) or `s3`", func(c *Config) *string { return &c.FileStorageBackend }, "local", "s3"),
	str("VEGA_S3_SOURCE_BUCKET", "", "Bucket for snapshots", func(c *Config) *string { return &c.S3SourceBucket }),
	str("VEGA_S3_ARTIFACTS_BUCKET", "", "Bucket for scan artifacts and exports", func(c *Config) *string { return &c.S3ArtifactsBucket }),
	str("VEGA_S3_ENDPOINT", "", "S3-compatible endpoint (tests, emulators)", func(c *Config) *string { return &c.S3Endpoint }),
	boolean("VEGA_S3_FORCE_PATH_STYLE", "false", "Path-style S3 addressing", func(c *Config) *bool { return &c.S3ForcePathStyle }),
	str("VEGA_S3_KMS_KEY_ID", "", "KMS key (ID, ARN or alias) for SSE-KMS on every object; without it objects use SSE-S3 (`AES256`)", func(c *Config) *string { return &c.S3KMSKeyID }),
	integer64("VEGA_S3_CACHE_MAX_BYTES", "2147483648", "Local copies of snapshots kept under the data dir for browsing and scans (0 = none: ranged reads only)", 0, func(c *Config) *int64 { return &c.S3CacheMaxBytes }),

	enum("VEGA_SCAN_EXECUTION_MODE", "thread", "`thread` (in-process), `external` (`vega worker` polls Postgres), `sqs`", func(c *Config) *string { return &c.ScanExecutionMode }, "thread", "external", "sqs"),
	str("VEGA_SCAN_QUEUE_URL", "", "SQS queue URL, required for `sqs`", func(c *Config) *string { return &c.ScanQueueURL }),
	enum("VEGA_SCAN_WORKER_EXECUTION_MODE", "local", "`local` (worker runs the scan) or `ecs` (one Fargate task per scan)", func(c *Config) *string { return &c.ScanWorkerExecutionMode }, "local", "ecs"),
	integer("VEGA_THREAD_CONCURRENCY", "2", "Scans run at once by one api/worker process", 1, func(c *Config) *int { return &c.ThreadConcurrency }),
	seconds("VEGA_SCAN_HEARTBEAT_SECONDS", "10", "Runner heartbeat period", func(c *Config) *time.Duration { return &c.ScanHeartbeat }),
	seconds("VEGA_SCAN_HEARTBEAT_TTL_SECONDS", "120", "A claimed/running scan whose heartbeat is older is recovered", func(c *Config) *time.Duration { return &c.ScanHeartbeatTTL }),
	seconds("VEGA_SCAN_RUNNING_STALE_SECONDS", "21600", "Hard cap on a scan's running time", func(c *Config) *time.Duration { return &c.ScanRunningStale }),
	integer("VEGA_SCAN_MAX_ATTEMPTS", "2", "A recovered scan is re-queued until this many attempts, then failed", 1, func(c *Config) *int { return &c.ScanMaxAttempts }),
	seconds("VEGA_WORKER_HEARTBEAT_TTL_SECONDS", "60", "A worker is shown stale after this", func(c *Config) *time.Duration { return &c.WorkerHeartbeatTTL }),
	integer("VEGA_MAX_ACTIVE_SCANS_PER_USER", "4", "Queued+claimed+running scans per user", 1, func(c *Config) *int { return &c.MaxActiveScansPerUser }),
	integer("VEGA_MAX_PROJECTS_PER_USER", "100", "Projects per user (0 = unlimited)", 0, func(c *Config) *int { return &c.MaxProjectsPerUser }),
	integer("VEGA_MAX_REPOSITORIES_PER_USER", "1000", "Repositories per user, across their projects (0 = unlimited)", 0, func(c *Config) *int { return &c.MaxRepositoriesPerUser }),
	integer64("VEGA_MAX_STORED_BYTES_PER_USER", "53687091200", "Snapshot storage per user (zips + manifests, 50 GiB; 0 = unlimited): checked before an ingest, while an upload streams and before a snapshot is kept", 0, func(c *Config) *int64 { return &c.MaxStoredBytesPerUser }),

	integer64("VEGA_MAX_SOURCE_BYTES", "2147483648", "Upload/clone size cap, checked while streaming", 1, func(c *Config) *int64 { return &c.MaxSourceBytes }),
	integer("VEGA_MAX_ARCHIVE_ENTRIES", "50000", "Entries per archive", 1, func(c *Config) *int { return &c.MaxArchiveEntries }),
	integer64("VEGA_MAX_ARCHIVE_FILE_BYTES", "268435456", "Any one extracted file", 1, func(c *Config) *int64 { return &c.MaxArchiveFileBytes }),
	integer64("VEGA_MAX_ARCHIVE_UNCOMPRESSED_BYTES", "5368709120", "Total extracted bytes", 1, func(c *Config) *int64 { return &c.MaxArchiveUncompressedBytes }),

	boolean("VEGA_GIT_ALLOW_PRIVATE_HOSTS", "false", "Allow cloning from loopback/private addresses (link-local and metadata addresses never)", func(c *Config) *bool { return &c.GitAllowPrivateHosts }),
	boolean("VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS", "false", "Allow webhook URLs on loopback/private addresses, and plain http URLs (link-local and metadata addresses never; docs/webhooks.md)", func(c *Config) *bool { return &c.WebhookAllowPrivateHosts }),
	seconds("VEGA_GIT_CLONE_TIMEOUT_SECONDS", "600", "Clone time cap", func(c *Config) *time.Duration { return &c.GitCloneTimeout }),
	seconds("VEGA_GIT_UPLOAD_TTL_SECONDS", "3600", "Lifetime of a temporary push remote", func(c *Config) *time.Duration { return &c.GitUploadTTL }),

	enum("VEGA_AUTH_PROVIDER", "custom", "`custom` (debug + local users) or `cognito`", func(c *Config) *string { return &c.AuthProvider }, "custom", "cognito"),
	secretFor("VEGA_AUTH_SECRET", "Signs custom-provider tokens (≥ 32 chars); generated into the data dir locally, required for `api` otherwise", func(c *Config) *string { return &c.AuthSecret }, RoleAPI),
	str("VEGA_DEBUG_EMAIL", DefaultDebugEmail, "The seeded local user (a root)", func(c *Config) *string { return &c.DebugEmail }),
	{Name: "VEGA_DEBUG_PASSWORD", Default: DefaultDebugPassword, Secret: true, Roles: []string{RoleAPI}, Doc: "Its password; the default is refused on a non-loopback address", set: func(c *Config, v string) error { c.DebugPassword = v; return nil }},
	seconds("VEGA_ACCESS_TOKEN_TTL_SECONDS", "900", "Access token lifetime", func(c *Config) *time.Duration { return &c.AccessTokenTTL }),
	seconds("VEGA_REFRESH_TOKEN_TTL_SECONDS", "2592000", "Refresh token lifetime", func(c *Config) *time.Duration { return &c.RefreshTokenTTL }),
	str("VEGA_COGNITO_REGION", "", "Cognito region (required for `cognito`)", func(c *Config) *string { return &c.Cognito.Region }),
	str("VEGA_COGNITO_USER_POOL_ID", "", "Cognito user pool (required for `cognito`)", func(c *Config) *string { return &c.Cognito.UserPoolID }),
	str("VEGA_COGNITO_APP_CLIENT_ID", "", "Cognito app client (required for `cognito`)", func(c *Config) *string { return &c.Cognito.AppClientID }),
	str("VEGA_COGNITO_DOMAIN", "", "Hosted UI domain for the dashboard's sign-in", func(c *Config) *string { return &c.Cognito.Domain }),
	str("VEGA_COGNITO_ISSUER", "", "Overrides the issuer derived from region and pool (tests)", func(c *Config) *string { return &c.Cognito.Issuer }),
	str("VEGA_COGNITO_ROOT_GROUP", "root", "Cognito group whose members are Vega root (read from `cognito:groups` in every token)", func(c *Config) *string { return &c.Cognito.RootGroup }),
	str("VEGA_COGNITO_OPERATOR_GROUP", "operator", "Cognito group whose members are Vega operators", func(c *Config) *string { return &c.Cognito.OperatorGroup }),

	boolean("VEGA_SERVE_UI", "true", "`false` when CloudFront serves the dashboard", func(c *Config) *bool { return &c.ServeUI }),
	list("VEGA_CORS_ALLOWED_ORIGINS", "", "Comma list of origins allowed to call the API (dashboard on another origin)", func(c *Config) *[]string { return &c.CORSAllowedOrigins }),
	str("VEGA_PUBLIC_URL", "", "Base URL used in links such as git push remotes (default: from the listen address); its host is one the API answers to", func(c *Config) *string { return &c.PublicURL }),
	{Name: "VEGA_ALLOWED_HOSTS", Doc: "Comma list of more host names the API answers to (`.example.com` = it and its subdomains); IP addresses, `localhost`, the listen host and `VEGA_PUBLIC_URL`'s host always work, any other `Host` gets 421 (README, DNS rebinding)", set: func(c *Config, v string) error {
		c.AllowedHosts = parseList(strings.ToLower(v))
		return nil
	}},

	list("VEGA_SCAN_ENGINES", "auto", "Engines a scan runs when the request names none; `auto` = `secrets` plus `codex` when Codex is usable", func(c *Config) *[]string { return &c.ScanEngines }),
	str("VEGA_CODEX_BIN", "codex", "The Codex CLI (or a wrapper script)", func(c *Config) *string { return &c.CodexBin }),
	enum("VEGA_CODEX_SANDBOX", "auto", "`docker`, `none` (Codex's read-only sandbox on the host) or `auto` (docker when an engine answers)", func(c *Config) *string { return &c.CodexSandbox }, "auto", "docker", "none"),
	str("VEGA_CODEX_IMAGE", "vega-codex-runner:latest", "Runner image for the docker sandbox", func(c *Config) *string { return &c.CodexImage }),
	str("VEGA_CODEX_MODEL", "gpt-5-codex", "Model passed to Codex", func(c *Config) *string { return &c.CodexModel }),
	integer("VEGA_CODEX_CONCURRENCY", "2", "Component audits in parallel per scan", 1, func(c *Config) *int { return &c.CodexConcurrency }),
	seconds("VEGA_CODEX_CALL_TIMEOUT_SECONDS", "1800", "Per Codex call: wall clock", func(c *Config) *time.Duration { return &c.CodexCallTimeout }),
	seconds("VEGA_CODEX_IDLE_TIMEOUT_SECONDS", "300", "Per Codex call: longest time without output", func(c *Config) *time.Duration { return &c.CodexIdleTimeout }),
	boolean("VEGA_CODEX_VALIDATE", "true", "Run the false-positive validation pass", func(c *Config) *bool { return &c.CodexValidate }),

	str("VEGA_LLM_PROXY_URL", "", "Where runners send model traffic (default: in-process for `api`, `http://` + the proxy listen address otherwise)", func(c *Config) *string { return &c.LLMProxyURL }),
	addr("VEGA_LLM_PROXY_LISTEN_ADDR", "127.0.0.1:8001", "Listen address of `vega llm-proxy`", func(c *Config) *string { return &c.LLMProxyListenAddr }),
	secretFor("VEGA_LLM_PROXY_ADMIN_TOKEN", "Guards scan-token minting; generated locally, required for `llm-proxy`", func(c *Config) *string { return &c.LLMProxyAdminToken }, RoleAPI, RoleWorker, RoleRunner, RoleLLMProxy),
	str("VEGA_LLM_PROVIDER_BASE_URL", "https://api.openai.com/v1", "Upstream model provider", func(c *Config) *string { return &c.LLMProviderBaseURL }),
	secretFor("VEGA_LLM_PROVIDER_API_KEY", "Provider key; lives only in the proxy (from Secrets Manager, only `llm-proxy` takes it)", func(c *Config) *string { return &c.LLMProviderAPIKey }, RoleLLMProxy),
	seconds("VEGA_LLM_PROXY_TOKEN_TTL_SECONDS", "21600", "Scan-scoped token lifetime", func(c *Config) *time.Duration { return &c.LLMProxyTokenTTL }),
	integer64("VEGA_LLM_PROXY_MAX_REQUESTS_PER_SCAN", "0", "Per-scan request cap (0 = unlimited)", 0, func(c *Config) *int64 { return &c.LLMProxyMaxRequestsPerScan }),
	integer64("VEGA_LLM_PROXY_MAX_TOKENS_PER_SCAN", "0", "Per-scan token cap (0 = unlimited)", 0, func(c *Config) *int64 { return &c.LLMProxyMaxTokensPerScan }),
	float("VEGA_LLM_PROXY_MAX_COST_USD_PER_SCAN", "0", "Per-scan cost cap in USD (0 = unlimited)", func(c *Config) *float64 { return &c.LLMProxyMaxCostUSDPerScan }),
	float("VEGA_LLM_PROXY_PRICE_USD_PER_1K_TOKENS", "0.01", "Flat cost estimate", func(c *Config) *float64 { return &c.LLMProxyPriceUSDPer1K }),
	str("VEGA_LLM_PROXY_PRICES", "", "JSON: model → {input, cached, output} USD per 1M tokens; refines the flat estimate", func(c *Config) *string { return &c.LLMProxyPrices }),

	str("VEGA_ECS_CLUSTER", "", "ECS cluster (required for `ecs`)", func(c *Config) *string { return &c.ECS.Cluster }),
	str("VEGA_ECS_RUNNER_TASK_DEFINITION", "", "Runner task definition (required for `ecs`)", func(c *Config) *string { return &c.ECS.TaskDefinition }),
	str("VEGA_ECS_RUNNER_CONTAINER", "runner", "Container name in the task definition", func(c *Config) *string { return &c.ECS.Container }),
	list("VEGA_ECS_SUBNETS", "", "Comma list of subnets for runner tasks", func(c *Config) *[]string { return &c.ECS.Subnets }),
	list("VEGA_ECS_SECURITY_GROUPS", "", "Comma list of security groups for runner tasks", func(c *Config) *[]string { return &c.ECS.SecurityGroups }),
	secretFor("VEGA_LLM_SCAN_TOKEN", "Scan-scoped LLM proxy token of one runner task; its worker sets it as a RunTask override (never set it by hand)", func(c *Config) *string { return &c.ECS.ScanToken }, RoleRunner),
	str("VEGA_AWS_ENDPOINT_URL", "", "One override endpoint for all AWS clients (tests, emulators)", func(c *Config) *string { return &c.AWSEndpointURL }),
	str("VEGA_SECRETS_MANAGER_SECRET_ID", "", "Secrets Manager secret (name or ARN; JSON of `VEGA_*` keys) that fills values the environment does not set; each role takes only the secrets it needs (docs/aws.md)", func(c *Config) *string { return &c.SecretsManagerSecretID }),
}

// Markdown renders the variable table kept in the README.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range variables {
		def := "—"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		name := "`" + v.Name + "`"
		if v.Secret {
			name += " (or `_FILE`)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, def, v.Doc)
	}
	return b.String()
}

// SecretNames lists variables whose values must never be logged.
func SecretNames() []string {
	var out []string
	for _, v := range variables {
		if v.Secret {
			out = append(out, v.Name)
		}
	}
	return out
}
