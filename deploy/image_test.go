package deploy

import (
	"bytes"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vegasec/vega/testutil/apitest"
)

// The runtime stage of deploy/Dockerfile is distroless/static: no libc, no
// shell, nothing but CA certificates, a passwd entry for uid 65532 and the
// files we copy in. These tests prove the binary needs nothing more, by
// building it with the Dockerfile's own build script and running it in an
// empty root file system as that uid.

const (
	runtimeUID = 65532                                // distroless "nonroot", USER in deploy/Dockerfile
	dataDir    = "/var/lib/vega"                      // VEGA_DATA_DIR in deploy/Dockerfile
	caBundle   = "/etc/ssl/certs/ca-certificates.crt" // where distroless (and Go on Linux) keep them
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildLikeTheImage runs scripts/build-vega.sh, the one build definition the
// Dockerfile also runs, with a version only this test knows.
func buildLikeTheImage(t *testing.T) (bin, version string) {
	t.Helper()
	suffix := make([]byte, 4)
	rand.Read(suffix)
	version = "image-test-" + hex.EncodeToString(suffix)
	bin = filepath.Join(t.TempDir(), "vega")
	cmd := exec.Command("./scripts/build-vega.sh", bin)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/build-vega.sh: %v\n%s", err, out)
	}
	return bin, version
}

// emptyRoot is a root file system holding only the binary, the CA bundle and
// the data directory the image creates for uid 65532.
func emptyRoot(t *testing.T, bin string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil { // t.TempDir is 0700: uid 65532 must traverse it
		t.Fatal(err)
	}
	copyFile(t, bin, filepath.Join(root, "vega"), 0o755)
	copyFile(t, caBundle, filepath.Join(root, caBundle), 0o644)
	d := filepath.Join(root, dataDir)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(d, runtimeUID, runtimeUID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return root
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("%v (the test copies the host's CA bundle into the empty root)", err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}

// inRoot runs /vega inside root as the image's non-root user, with only the
// given environment (no PATH, no HOME: the image sets none).
func inRoot(root string, env []string, args ...string) *exec.Cmd {
	cmd := &exec.Cmd{Path: "/vega", Args: append([]string{"/vega"}, args...), Dir: "/", Env: env}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     root,
		Credential: &syscall.Credential{Uid: runtimeUID, Gid: runtimeUID},
	}
	return cmd
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	msg := "chroot and switching to uid 65532 need root"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: not skipping)")
	}
	t.Skip(msg)
}

func TestBinaryIsStatic(t *testing.T) {
	bin, _ := buildLikeTheImage(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary names a dynamic loader (PT_INTERP): CGO_ENABLED=0 did not take effect")
		}
	}
	if libs, err := f.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Fatalf("the binary links shared libraries %v", libs)
	}
}

// TestRuntimeImageAssumption: `vega version` and `vega serve` (with
// /v1/healthz and /v1/readyz answering) work in a root holding only the
// binary and the CA bundle, as uid 65532: no libc, no shell, no /tmp.
func TestRuntimeImageAssumption(t *testing.T) {
	requireRoot(t)
	bin, version := buildLikeTheImage(t)
	root := emptyRoot(t, bin)

	out, err := inRoot(root, nil, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("vega version in the empty root: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "vega "+version {
		t.Fatalf("vega version printed %q, want %q (the -X main.version stamp)", got, "vega "+version)
	}

	addr := apitest.FreeAddr(t)
	var logs bytes.Buffer
	serve := inRoot(root, []string{"VEGA_LISTEN_ADDR=" + addr, "VEGA_DATA_DIR=" + dataDir, "VEGA_ENVIRONMENT=dev"}, "serve")
	serve.Stdout, serve.Stderr = &logs, &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	t.Cleanup(func() {
		serve.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			serve.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("vega serve output:\n%s", logs.String())
		}
	})

	var health struct{ Status, Version string }
	if err := json.Unmarshal(waitOK(t, "http://"+addr+"/v1/healthz", exited, &logs), &health); err != nil {
		t.Fatalf("healthz: %v", err)
	}
	if health.Status != "ok" || health.Version != version {
		t.Fatalf("healthz = %+v, want status ok and version %s", health, version)
	}
	// Ready means the bolt store and the blob directory under the data dir work
	// as uid 65532 (readiness waits for the debug user to be seeded).
	waitOK(t, "http://"+addr+"/v1/readyz", exited, &logs)
	// JSON logs on stdout are what CloudWatch collects (VEGA_ENVIRONMENT=dev).
	if !strings.Contains(logs.String(), `"msg":`) {
		t.Fatalf("logs are not JSON:\n%s", logs.String())
	}
}

// waitOK polls url until it answers 200 and returns the body; it fails the
// test if the process exits first or 30 s pass.
func waitOK(t *testing.T, url string, exited <-chan error, logs *bytes.Buffer) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("vega serve exited in the empty root: %v\n%s", err, logs.String())
		default:
		}
		if res, err := http.Get(url); err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return body
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 30 s", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The Dockerfile must build with the shared script and keep the runtime
// stage's promises; these are the lines the empty-root test relies on.
func TestDockerfileMatchesTheTest(t *testing.T) {
	df := readRepoFile(t, "deploy/Dockerfile")
	for _, want := range []string{
		"scripts/build-vega.sh", // the flags live there, nowhere else
		"FROM gcr.io/distroless/static-debian12:nonroot AS runtime", // no libc, no shell
		fmt.Sprintf("USER %d:%d", runtimeUID, runtimeUID),
		"VEGA_DATA_DIR=" + dataDir,
		`ENTRYPOINT ["/vega"]`,
		"npm ci",
	} {
		if !strings.Contains(df, want) {
			t.Errorf("deploy/Dockerfile lacks %q", want)
		}
	}
	if regexp.MustCompile(`(?m)^\s*RUN\b.*\bgo build\b`).MatchString(df) {
		t.Error("deploy/Dockerfile runs `go build` itself; build with scripts/build-vega.sh so the flags stay in one place")
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if goVersion == nil || !strings.Contains(df, "ARG GO_VERSION="+goVersion[1]) {
		t.Errorf("deploy/Dockerfile's GO_VERSION does not match go.mod's go %v", goVersion)
	}
	mk := readRepoFile(t, "Makefile")
	if !strings.Contains(mk, "./scripts/build-vega.sh bin/vega") || strings.Contains(mk, "-ldflags") {
		t.Error("the Makefile must build bin/vega with scripts/build-vega.sh and carry no flags of its own")
	}
}

// TestCodexVersionPinnedOnce: the Codex CLI the tests run (.ci/codex.sh) is the
// one the runner images ship.
func TestCodexVersionPinnedOnce(t *testing.T) {
	ci := regexp.MustCompile(`(?m)^CODEX_VERSION="([^"]+)"`).FindStringSubmatch(readRepoFile(t, ".ci/codex.sh"))
	if ci == nil {
		t.Fatal(".ci/codex.sh: no CODEX_VERSION")
	}
	for _, f := range []string{"deploy/codex-runner/Dockerfile", "deploy/Dockerfile"} {
		img := regexp.MustCompile(`(?m)^ARG CODEX_VERSION=(\S+)`).FindStringSubmatch(readRepoFile(t, f))
		if img == nil {
			t.Errorf("%s: no ARG CODEX_VERSION", f)
			continue
		}
		if img[1] != ci[1] {
			t.Errorf("%s pins Codex %s, .ci/codex.sh tests %s", f, img[1], ci[1])
		}
	}
}
