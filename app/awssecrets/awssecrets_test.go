package awssecrets_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vegasec/vega/app/awssecrets"
	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/testutil/awsemu"
)

const providerKey = "sk-live-provider-key-never-in-errors"

func env(m map[string]string) config.Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// The secret fills what the environment leaves unset, through the real SDK
// against the emulator, by name and by ARN.
func TestLoadFromSecretsManager(t *testing.T) {
	e := awsemu.Start(t)
	name := awsemu.Unique("vega/prod")
	arn := e.CreateSecret(t, name, `{"VEGA_DATABASE_URL":"postgres://db/vega","VEGA_AUTH_SECRET":"`+strings.Repeat("a", 40)+
		`","VEGA_LLM_PROXY_ADMIN_TOKEN":"admin","VEGA_LLM_PROVIDER_API_KEY":"`+providerKey+`"}`)
	src := awssecrets.New(e.Options())
	for _, id := range []string{name, arn} {
		vars := map[string]string{"VEGA_SECRETS_MANAGER_SECRET_ID": id, "VEGA_PERSISTENCE_BACKEND": "postgres", "VEGA_SCAN_EXECUTION_MODE": "external"}
		api, err := config.Load(context.Background(), config.Source{Role: config.RoleAPI, Env: env(vars), Secrets: src})
		if err != nil {
			t.Fatal(err)
		}
		if api.DatabaseURL != "postgres://db/vega" || api.AuthSecret != strings.Repeat("a", 40) || api.LLMProviderAPIKey != "" {
			t.Fatalf("api from %s: db %q, provider key present %v", id, api.DatabaseURL, api.LLMProviderAPIKey != "")
		}
		proxy, err := config.Load(context.Background(), config.Source{Role: config.RoleLLMProxy, Env: env(vars), Secrets: src})
		if err != nil {
			t.Fatal(err)
		}
		if proxy.LLMProviderAPIKey != providerKey || proxy.AuthSecret != "" {
			t.Fatalf("llm-proxy: provider key %v, auth secret %v", proxy.LLMProviderAPIKey != "", proxy.AuthSecret != "")
		}
	}
}

// A missing secret or a missing permission stops start-up with a sentence
// naming the secret, never its value.
func TestStartUpRefusals(t *testing.T) {
	e := awsemu.Start(t)
	name := awsemu.Unique("vega/prod")
	e.CreateSecret(t, name, `{"VEGA_LLM_PROVIDER_API_KEY":"`+providerKey+`"}`)
	load := func(id string) error {
		_, err := config.Load(context.Background(), config.Source{Role: config.RoleLLMProxy,
			Env: env(map[string]string{"VEGA_SECRETS_MANAGER_SECRET_ID": id}), Secrets: awssecrets.New(e.Options())})
		return err
	}
	check := func(err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want %q", err, want)
		}
		if strings.Contains(err.Error(), providerKey) {
			t.Fatalf("the error shows the secret's value: %v", err)
		}
	}
	check(load("vega/missing"), "VEGA_SECRETS_MANAGER_SECRET_ID: secret vega/missing does not exist in region us-east-1")
	e.Inject(t, awsemu.AccessDenied(awsemu.Target("secretsmanager.GetSecretValue")))
	check(load(name), "VEGA_SECRETS_MANAGER_SECRET_ID: this process may not read secret "+name+": its role needs secretsmanager:GetSecretValue")
}
