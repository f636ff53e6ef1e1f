package secrets

import (
	"strings"

	"github.com/vegasec/vega/store"
	"github.com/zricethezav/gitleaks/v8/config"
)

// Severity and confidence by gitleaks rule (this table is the documentation):
//
//   - critical: keys that open a cloud account, source host, package registry
//     or payment provider on their own (private keys, AWS/GCP/Azure/Alibaba,
//     GitHub/GitLab tokens, Stripe, npm/PyPI/RubyGems publish tokens, ...).
//   - high: every other vendor-specific credential (the default).
//   - medium: generic-api-key and material that may be a credential but is
//     often test data or short-lived (JWTs, credentials in curl commands,
//     incoming webhooks).
//   - low: identifiers and public keys that are only sensitive together with
//     a secret (client IDs, publishable keys, test-mode keys).
//
// Confidence: a rule anchored on a vendor token prefix (AKIA…, ghp_…,
// "-----BEGIN … PRIVATE KEY-----") is high; a rule that only matches a vendor
// keyword next to an assignment is medium; generic-api-key is low.
var criticalRules = setOf(
	"private-key", "pkcs12-file", "age-secret-key",
	"aws-access-token", "aws-amazon-bedrock-api-key-long-lived",
	"gcp-api-key", "azure-ad-client-secret",
	"alibaba-access-key-id", "alibaba-secret-key",
	"yandex-aws-access-token", "yandex-api-key", "yandex-access-token",
	"digitalocean-access-token", "digitalocean-pat", "digitalocean-refresh-token",
	"heroku-api-key", "heroku-api-key-v2", "flyio-access-token",
	"cloudflare-global-api-key", "cloudflare-api-key", "cloudflare-origin-ca-key",
	"github-pat", "github-fine-grained-pat", "github-app-token", "github-oauth", "github-refresh-token",
	"gitlab-pat", "gitlab-pat-routable", "gitlab-deploy-token", "gitlab-runner-authentication-token",
	"gitlab-runner-authentication-token-routable", "gitlab-oauth-app-secret",
	"npm-access-token", "pypi-upload-token", "rubygems-api-token", "clojars-api-token",
	"stripe-access-token", "square-access-token", "plaid-secret-key", "coinbase-access-token",
	"hashicorp-tf-api-token", "vault-service-token", "vault-batch-token",
	"openai-api-key", "anthropic-api-key", "anthropic-admin-api-key",
	"1password-secret-key", "1password-service-account-token", "doppler-api-token",
	"databricks-api-token", "shopify-access-token", "shopify-custom-access-token",
	"shopify-private-app-access-token", "shopify-shared-secret",
	"slack-bot-token", "slack-user-token", "slack-app-token", "slack-legacy-token",
	"slack-legacy-bot-token", "slack-legacy-workspace-token",
)

var mediumRules = setOf(
	"generic-api-key", "jwt", "jwt-base64", "curl-auth-header", "curl-auth-user",
	"slack-webhook-url", "microsoft-teams-webhook", "sidekiq-sensitive-url",
	"kubernetes-secret-yaml", "nuget-config-password", "aws-amazon-bedrock-api-key-short-lived",
)

var lowRules = setOf(
	"flutterwave-public-key", "lob-pub-api-key", "mailgun-pub-key", "easypost-test-api-token",
	"new-relic-browser-api-token", "sumologic-access-id", "sendbird-access-id",
)

func setOf(ids ...string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// ruleRating is how Vega rates findings of one gitleaks rule.
type ruleRating struct {
	Severity   string
	Confidence string
}

// rate maps a gitleaks rule to a severity and confidence (see the table above).
func rate(rule config.Rule) ruleRating {
	id := rule.RuleID
	r := ruleRating{Severity: store.SeverityHigh, Confidence: confidenceFor(rule)}
	switch {
	case id == "generic-api-key":
		return ruleRating{Severity: store.SeverityMedium, Confidence: "low"}
	case criticalRules[id]:
		r.Severity = store.SeverityCritical
	case mediumRules[id]:
		r.Severity = store.SeverityMedium
	case lowRules[id], strings.HasSuffix(id, "-client-id"):
		r.Severity = store.SeverityLow
	}
	return r
}

// keywordContextPrefix starts every gitleaks rule that recognises a secret
// by a vendor keyword next to an assignment ("zendesk_key = ...") rather
// than by a distinctive token format; such matches are less certain.
const keywordContextPrefix = `(?i)[\w.-]{0,50}?(?:`

func confidenceFor(rule config.Rule) string {
	if rule.Regex != nil && strings.HasPrefix(rule.Regex.String(), keywordContextPrefix) {
		return "medium"
	}
	return "high"
}

// ruleLabels are human names for the most common rules; others are derived
// from the rule id by humanize.
var ruleLabels = map[string]string{
	"aws-access-token":        "AWS access key",
	"private-key":             "Private key",
	"pkcs12-file":             "PKCS#12 key store",
	"github-pat":              "GitHub personal access token",
	"github-fine-grained-pat": "GitHub fine-grained access token",
	"github-oauth":            "GitHub OAuth token",
	"github-app-token":        "GitHub App token",
	"github-refresh-token":    "GitHub refresh token",
	"gitlab-pat":              "GitLab personal access token",
	"gcp-api-key":             "Google Cloud API key",
	"azure-ad-client-secret":  "Azure AD client secret",
	"generic-api-key":         "Possible API key or secret",
	"jwt":                     "JSON Web Token",
	"slack-webhook-url":       "Slack webhook URL",
	"stripe-access-token":     "Stripe API key",
	"openai-api-key":          "OpenAI API key",
	"npm-access-token":        "npm access token",
	"kubernetes-secret-yaml":  "Kubernetes Secret manifest",
}

var acronyms = map[string]string{
	"api": "API", "aws": "AWS", "gcp": "GCP", "jwt": "JWT", "pat": "personal access token",
	"url": "URL", "id": "ID", "ad": "AD", "ca": "CA", "ci": "CI", "cicd": "CI/CD",
	"oauth": "OAuth", "yaml": "YAML", "tf": "Terraform", "1password": "1Password",
	"github": "GitHub", "gitlab": "GitLab", "openai": "OpenAI", "npm": "npm", "pypi": "PyPI",
}

// label is the human name of what a rule detects, used in finding titles.
func label(ruleID string) string {
	if l, ok := ruleLabels[ruleID]; ok {
		return l
	}
	return humanize(ruleID)
}

// humanize turns "digitalocean-refresh-token" into "Digitalocean refresh token".
func humanize(ruleID string) string {
	words := strings.Split(ruleID, "-")
	for i, w := range words {
		if a, ok := acronyms[w]; ok {
			words[i] = a
			continue
		}
		if i == 0 && w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// recommendation is what to do about a finding of ruleID.
func recommendation(ruleID string) string {
	const rotate = "Treat the credential as compromised: anyone who can read this repository or its history has it. " +
		"Revoke or rotate it at the issuer now, then remove it from the code and load it at run time from a secret manager or the environment. " +
		"Rewriting git history does not un-leak it, but do purge it if the repository is shared."
	switch ruleID {
	case "private-key", "pkcs12-file", "age-secret-key":
		return "Treat the key as compromised: generate a new key pair, replace the public half wherever it is trusted (servers, certificates, deploy keys) and revoke the old one. " +
			"Keep private keys out of the repository; mount them at run time from a secret manager."
	case "generic-api-key":
		return "Check whether this value is a real credential (not a placeholder, hash or test fixture). If it is, " + strings.ToLower(rotate[:1]) + rotate[1:]
	}
	return rotate
}
