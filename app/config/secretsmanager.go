package config

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// envOnly are variables a secret may not carry: they decide which secret is
// read and how, or which role reads it.
var envOnly = []string{"VEGA_SECRETS_MANAGER_SECRET_ID", "VEGA_AWS_ENDPOINT_URL", "VEGA_SERVICE_ROLE"}

// loadSecret reads the Secrets Manager secret named by the environment and
// returns the values this role takes from it. Values of secret variables
// reach only the roles listed for them (the provider key reaches llm-proxy
// alone), whoever else can read the secret. Errors name the secret and the
// keys, never a value.
func loadSecret(ctx context.Context, src Source, role string) (map[string]string, error) {
	id, _ := src.Env("VEGA_SECRETS_MANAGER_SECRET_ID")
	if id = strings.TrimSpace(id); id == "" {
		return nil, nil
	}
	if src.Secrets == nil {
		return nil, fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: this process cannot read Secrets Manager")
	}
	raw, err := src.Secrets.SecretString(ctx, id)
	if err != nil {
		return nil, err
	}
	return secretValues(id, raw, role)
}

// secretValues parses the secret (a JSON object of VEGA_* keys; strings,
// numbers and booleans) and keeps the keys role takes. Keys without the
// VEGA_ prefix are ignored, so one secret can serve other tools too; an
// unknown VEGA_ key is refused, because a misspelt key would otherwise be
// ignored in silence.
func secretValues(id, raw, role string) (map[string]string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil || obj == nil {
		// The decoder's message can quote the value; say only what is wrong.
		return nil, fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: secret %s is not a JSON object of VEGA_* keys", id)
	}
	byName := map[string]variable{}
	for _, v := range variables {
		byName[v.Name] = v
	}
	out := map[string]string{}
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !strings.HasPrefix(k, "VEGA_") {
			continue
		}
		v, known := byName[k]
		switch {
		case slices.Contains(envOnly, k):
			bad = append(bad, k+" must be set in the environment, not in the secret")
			continue
		case !known:
			bad = append(bad, k+" is not a Vega variable")
			continue
		}
		val, ok := scalar(obj[k])
		if !ok {
			bad = append(bad, k+" must be a string, number or boolean")
			continue
		}
		if v.takenBy(role) {
			out[k] = val
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("VEGA_SECRETS_MANAGER_SECRET_ID: secret %s: %s", id, strings.Join(bad, "; "))
	}
	return out, nil
}

func scalar(m json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(m, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(m, &n) == nil {
		return n.String(), true
	}
	var b bool
	if json.Unmarshal(m, &b) == nil {
		return fmt.Sprint(b), true
	}
	return "", false
}

// takenBy reports whether role takes this variable from the secret.
func (v variable) takenBy(role string) bool {
	return v.Roles == nil || slices.Contains(v.Roles, role)
}
