package codex

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Invocation is one Codex call as the engine sees it, independent of where
// the process runs.
type Invocation struct {
	Bin        string // the Codex CLI on the host (host sandbox)
	Model      string
	ProxyURL   string // proxy root, without /v1
	Token      string // scan-scoped proxy token; the only credential the child gets
	SourceDir  string // the scanned tree (working directory, read-only)
	SchemaFile string // --output-schema file on the host
	HomeDir    string // private, empty HOME: no user or repository config is loaded
	Prompt     string
}

// Command is a fully built process: argv, environment and working directory.
type Command struct {
	Path string
	Args []string // argv without Path
	Env  []string
	Dir  string
}

// Sandbox turns an invocation into a command. HostSandbox runs Codex directly
// with its own read-only sandbox; DockerSandbox wraps the same codex argv in
// `docker run` with the source mounted read-only.
type Sandbox interface {
	Command(inv Invocation) Command
}

// codexArgs is the exact `codex exec` argv; its flags decide what Codex may
// read and where its traffic goes (README, "Decisions"). The provider points
// at the proxy and reads its key from VEGA_SCAN_TOKEN;
// project_doc_max_bytes=0 stops Codex from reading the scanned repository's
// AGENTS.md, which is attacker-controlled.
func codexArgs(model, proxyURL, schemaFile, prompt string) []string {
	return []string{
		"exec", "--json", "--sandbox", "read-only", "--skip-git-repo-check", "--ephemeral",
		"-m", model,
		"-c", "model_provider=vega",
		"-c", `model_providers.vega.name="vega"`,
		"-c", `model_providers.vega.base_url="` + proxyURL + `/v1"`,
		"-c", `model_providers.vega.wire_api="responses"`,
		"-c", `model_providers.vega.env_key="VEGA_SCAN_TOKEN"`,
		"-c", "project_doc_max_bytes=0",
		"--output-schema", schemaFile,
		prompt, // prompts come from Vega's templates and never start with "-"
	}
}

// minimalEnv is everything the child may see: no host credentials, no
// provider key, no CODEX_* or OPENAI_* overrides from the parent.
func minimalEnv(inv Invocation) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	return []string{"PATH=" + path, "HOME=" + inv.HomeDir, "VEGA_SCAN_TOKEN=" + inv.Token}
}

// HostSandbox runs the Codex CLI on the host with `--sandbox read-only`.
type HostSandbox struct{}

func (HostSandbox) Command(inv Invocation) Command {
	return Command{
		Path: inv.Bin,
		Args: codexArgs(inv.Model, inv.ProxyURL, inv.SchemaFile, inv.Prompt),
		Env:  minimalEnv(inv),
		Dir:  inv.SourceDir,
	}
}

// DockerSandbox runs Codex inside the runner image. The source is mounted
// read-only at /src, the schema's directory read-only at /vega, and the
// container joins Network, which should only reach the proxy.
type DockerSandbox struct {
	Docker  string // docker CLI, default "docker"
	Image   string
	Network string
	// ProxyURL, when set, replaces the proxy URL inside the container (the
	// proxy's name on the proxy-only network differs from the host's view).
	ProxyURL string
}

func (d DockerSandbox) Command(inv Invocation) Command {
	docker := d.Docker
	if docker == "" {
		docker = "docker"
	}
	proxy := inv.ProxyURL
	if d.ProxyURL != "" {
		proxy = d.ProxyURL
	}
	schema := "/vega/" + filepath.Base(inv.SchemaFile)
	args := []string{
		"run", "--rm",
		"--network", d.Network,
		"--read-only", "--tmpfs", "/tmp", "--tmpfs", "/home/codex",
		"--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"-v", inv.SourceDir + ":/src:ro",
		"-v", filepath.Dir(inv.SchemaFile) + ":/vega:ro",
		"-w", "/src",
		"-e", "HOME=/home/codex",
		"-e", "VEGA_SCAN_TOKEN", // value comes from docker's own environment, never argv
		d.Image, "codex",
	}
	args = append(args, codexArgs(inv.Model, proxy, schema, inv.Prompt)...)
	return Command{Path: docker, Args: args, Env: minimalEnv(inv), Dir: inv.SourceDir}
}

// DockerAvailable reports whether a Docker engine answers (for
// VEGA_CODEX_SANDBOX=auto). It gives up after a few seconds.
func DockerAvailable(ctx context.Context, docker string) bool {
	if docker == "" {
		docker = "docker"
	}
	if _, err := exec.LookPath(docker); err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, docker, "version", "--format", "{{.Server.Version}}").Run() == nil
}
