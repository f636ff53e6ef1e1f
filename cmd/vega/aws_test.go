package main

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store/postgres/pgtest"
	"github.com/vegasec/vega/testutil/apitest"
	"github.com/vegasec/vega/testutil/awsemu"
	"github.com/vegasec/vega/testutil/srctree"
)

const providerKeyInSecret = "sk-provider-key-held-in-secrets-manager"

// awsEnv is a deployment whose files are in S3 and whose secrets (database
// URL included) are only in Secrets Manager, all against the emulator. Every
// process gets its own data directory: nothing is shared on local disk.
func awsEnv(t *testing.T, e *awsemu.Emulator) []string {
	src, art := awsemu.Unique("vega-source"), awsemu.Unique("vega-artifacts")
	e.CreateBucket(t, src)
	e.CreateBucket(t, art)
	secret := awsemu.Unique("vega/prod")
	e.CreateSecret(t, secret, `{"VEGA_DATABASE_URL":"`+pgtest.NewDatabase(t)+`","VEGA_AUTH_SECRET":"`+strings.Repeat("s", 40)+
		`","VEGA_LLM_PROXY_ADMIN_TOKEN":"admin-token-in-secret","VEGA_LLM_PROVIDER_API_KEY":"`+providerKeyInSecret+`"}`)
	env := []string{
		"VEGA_PERSISTENCE_BACKEND=postgres", "VEGA_SCAN_EXECUTION_MODE=external", "VEGA_SCAN_ENGINES=secrets",
		"VEGA_FILE_STORAGE_BACKEND=s3", "VEGA_S3_SOURCE_BUCKET=" + src, "VEGA_S3_ARTIFACTS_BUCKET=" + art,
		"VEGA_SECRETS_MANAGER_SECRET_ID=" + secret, "VEGA_LOG_LEVEL=info",
		// Whatever the developer's shell holds must not reach the processes.
		"VEGA_DATABASE_URL=", "DATABASE_URL=", "VEGA_AUTH_SECRET=", "VEGA_LLM_PROVIDER_API_KEY=",
	}
	for k, v := range e.Env() {
		env = append(env, k+"="+v)
	}
	return env
}

func withDataDir(t *testing.T, env []string) []string {
	return append(append([]string{}, env...), "VEGA_DATA_DIR="+t.TempDir())
}

// TestAWSRuntimeProcesses runs the real binary as an operator would on AWS
// (minus SQS and ECS): migrate, serve, a worker and the LLM proxy, files in
// S3, every secret in Secrets Manager. The worker runs the scan from the
// snapshot in S3 and stores artifacts the API then serves; each role took
// only its own secrets.
func TestAWSRuntimeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	e := awsemu.Start(t)
	env := awsEnv(t, e)
	migrateDB(t, withDataDir(t, env))
	api := startAPI(t, withDataDir(t, env))
	worker := start(t, withDataDir(t, env), "worker")
	proxyAddr := apitest.FreeAddr(t)
	proxy := start(t, withDataDir(t, append(env, "VEGA_LLM_PROXY_LISTEN_ADDR="+proxyAddr)), "llm-proxy")
	apitest.WaitOK(t, "http://"+proxyAddr+"/healthz", 30*time.Second)

	repo := api.readyRepository(map[string]string{"app/settings.py": srctree.AWSKeyLine(3), "app/main.py": "print(1)\n"})
	var s scanView
	api.call("POST", "/v1/repositories/"+repo+"/scans", map[string]any{}, &s)
	deadline := time.Now().Add(2 * time.Minute)
	for s = api.scan(s.ID); s.Status != "completed"; s = api.scan(s.ID) {
		if time.Now().After(deadline) || s.Status == "failed" {
			t.Fatalf("scan: %+v", s)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var report []byte
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := authGet(api, "/v1/scans/"+s.ID+"/artifacts/report.json")
		if err == nil && res.StatusCode == 200 {
			report, _ = io.ReadAll(res.Body)
			res.Body.Close()
			break
		}
		if res != nil {
			res.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("report.json never became downloadable: %v", err)
		}
	}
	if !strings.Contains(string(report), "settings.py") {
		t.Fatalf("report: %s", report)
	}

	// Roles took what they need: the provider key reached the proxy only.
	for name, p := range map[string]*proc{"worker": worker, "llm-proxy": proxy} {
		out := p.output()
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "configuration read from Secrets Manager") {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, "VEGA_DATABASE_URL") {
			t.Fatalf("%s did not log what it read from Secrets Manager:\n%s", name, apitest.Tail(out, 2000))
		}
		if strings.Contains(line, "VEGA_LLM_PROVIDER_API_KEY") != (name == "llm-proxy") {
			t.Fatalf("%s: %s", name, line)
		}
		if strings.Contains(out, providerKeyInSecret) {
			t.Fatalf("%s logged the provider key", name)
		}
	}
}

func authGet(c *client, path string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	return http.DefaultClient.Do(req)
}

// A secret that is missing or may not be read stops start-up with a sentence
// naming the secret, never its value.
func TestSecretsManagerRefusalsStopStartUp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	e := awsemu.Start(t)
	env := awsEnv(t, e)
	run := func(extra ...string) (int, string) {
		cmd := exec.Command(apitest.VegaBinary(t), "serve")
		cmd.Env = append(cmd.Environ(), withDataDir(t, append(env, extra...))...)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return code, string(out)
	}
	code, out := run("VEGA_SECRETS_MANAGER_SECRET_ID=vega/does-not-exist", "VEGA_LISTEN_ADDR="+apitest.FreeAddr(t))
	if code != 2 || !strings.Contains(out, "VEGA_SECRETS_MANAGER_SECRET_ID: secret vega/does-not-exist does not exist") {
		t.Fatalf("missing secret: exit %d\n%s", code, out)
	}
	e.Inject(t, awsemu.AccessDenied(awsemu.Target("secretsmanager.GetSecretValue")))
	code, out = run("VEGA_LISTEN_ADDR=" + apitest.FreeAddr(t))
	if code != 2 || !strings.Contains(out, "this process may not read secret vega/prod") || strings.Contains(out, providerKeyInSecret) {
		t.Fatalf("denied: exit %d\n%s", code, out)
	}
}
