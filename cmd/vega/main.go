// Command vega is the single Vega binary: API server, worker, runner, LLM proxy
// and maintenance, selected by subcommand or, without one, VEGA_SERVICE_ROLE.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/vegasec/vega/app/awsconf"
	"github.com/vegasec/vega/app/awssecrets"
	"github.com/vegasec/vega/app/cli/scan"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `Usage: vega [command] [flags]

Commands:
  serve         run the API and dashboard (default; in thread mode also runs scans)
  worker        take queued scans from the store or SQS and run them
  runner        run one claimed scan and exit (--scan-id ID)
  llm-proxy     run the OpenAI-compatible LLM proxy
  migrate       apply pending database migrations and exit
  maintenance   migrations, stale-scan recovery and cleanup, then exit
  users         manage local users: users add|list|delete
  scan          scan a working tree, standalone or on a server (vega scan --help)
  backup        write a verified archive of the local store and blobs (--out FILE)
  restore       restore such an archive into VEGA_DATA_DIR (--from FILE)
  env-docs      print the environment variable table (Markdown)
  version       print the version

Configuration comes from VEGA_* environment variables; see README.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "vega", version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	case "env-docs":
		fmt.Fprint(stdout, config.Markdown())
		return 0
	case "scan":
		// A CI step, not a service role: it reads only the variables it needs
		// (app/cli/scan) and exits 0, 1 or 2 (README "Vega in CI").
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return scan.Main(ctx, args, scan.IO{Stdout: stdout, Stderr: stderr, StderrTTY: isTerminal(stderr), Version: version})
	case "backup", "restore":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return backupMain(ctx, cmd, args, stdout, stderr)
	}
	role, known := commandRole(cmd)
	if !known {
		fmt.Fprintf(stderr, "vega: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The role is known before the configuration is read: validation runs
	// once, for it, and only it takes its secrets from Secrets Manager.
	secrets := awssecrets.New(awsconf.Options{Endpoint: os.Getenv("VEGA_AWS_ENDPOINT_URL")})
	cfg, err := config.FromEnv(ctx, role, secrets, server.LocalSecret)
	if err != nil {
		fmt.Fprintf(stderr, "vega: invalid configuration:\n%v\n", err)
		return 2
	}
	if cmd == "" {
		cmd = roleCommand(cfg.Role)
	}
	log := server.NewLogger(cfg, stdout)
	if len(cfg.FromSecretsManager) > 0 {
		log.Info("configuration read from Secrets Manager", "secret_id", cfg.SecretsManagerSecretID, "variables", cfg.FromSecretsManager)
	}

	switch cmd {
	case "serve":
		err = withEnv(ctx, cfg, func(env *server.Env) error { return server.Serve(ctx, env, nil) })
	case "users":
		err = withEnv(ctx, cfg, func(env *server.Env) error { return usersCommand(ctx, env, args, stdout) })
	case "migrate":
		err = migrateCommand(ctx, cfg, stdout)
	case "maintenance":
		err = maintenanceCommand(ctx, cfg, stdout)
	case "worker":
		err = workerCommand(ctx, cfg)
	case "runner":
		err = runnerCommand(ctx, cfg, args)
	case "llm-proxy":
		err = llmProxyCommand(ctx, cfg)
	default:
		fmt.Fprintf(stderr, "vega: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "vega %s: %v\n", cmd, err)
			return 2
		}
		log.Error("exiting", "command", cmd, "err", err)
		fmt.Fprintf(stderr, "vega %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func withEnv(ctx context.Context, cfg *config.Config, f func(env *server.Env) error) error {
	env, err := server.Open(ctx, cfg, server.NewLogger(cfg, os.Stdout), version)
	if err != nil {
		return err
	}
	defer env.Close()
	return f(env)
}

func roleCommand(role string) string {
	switch role {
	case config.RoleAPI:
		return "serve"
	}
	return role
}

// commandRole is the role a command runs as; "" (no command) leaves it to
// VEGA_SERVICE_ROLE.
func commandRole(cmd string) (role string, known bool) {
	switch cmd {
	case "":
		return "", true
	case "serve", "users": // users acts on the api's accounts, with its settings
		return config.RoleAPI, true
	case "worker", "runner", "llm-proxy", "maintenance", "migrate":
		return cmd, true
	}
	return "", false
}

// usageError is a mistake in the command line (exit 2, no log line).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// isTerminal says w is a character device (a terminal), for progress bars.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
