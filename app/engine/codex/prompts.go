package codex

import (
	"bytes"
	"embed"
	"fmt"
	"text/template"

	"github.com/vegasec/vega/store"
)

// PromptVersion names the prompt and schema set in use; it is recorded in
// every call's artifacts so a finding can be traced to the prompt that made it.
const PromptVersion = "v1"

//go:embed prompts/v1/*.md
var promptFS embed.FS

//go:embed schemas/v1/*.json
var schemaFS embed.FS

var prompts = template.Must(template.New("").Option("missingkey=error").ParseFS(promptFS, "prompts/"+PromptVersion+"/*.md"))

// Stage names, also used to pick the prompt and the schema.
const (
	StagePlan     = "plan"
	StageAudit    = "audit"
	StageValidate = "validate"
	stageProfile  = "profile"
)

// DefaultExclusions are the classes a security audit of code should not
// report: noise that drowns real findings (the hard exclusions every prompt carries).
var DefaultExclusions = []string{
	"denial of service, resource exhaustion or algorithmic complexity issues",
	"missing rate limiting or brute-force protection",
	"theoretical race conditions without a concrete exploitable sequence",
	"issues only in test code, test fixtures, examples or documentation",
	"outdated or vulnerable third-party dependency versions",
	"missing security hardening headers (CSP, HSTS, X-Frame-Options and similar)",
	"missing audit logging or log verbosity",
	"memory safety issues in memory-safe languages",
	"secrets or credentials committed to the repository (a separate engine reports those)",
	"regular expression denial of service (ReDoS)",
}

type component struct {
	Name      string   `json:"name"`
	Paths     []string `json:"paths"`
	Rationale string   `json:"rationale"`
	Priority  string   `json:"priority"`
}

// validateItem is one finding as the validation prompt shows it.
type validateItem struct {
	ID                                                 string
	Title, Severity, Confidence, Category, Description string
	FilePath                                           string
	StartLine, EndLine                                 int
}

type promptData struct {
	Profile       *store.ThreatProfileContent
	Scope         []string
	Exclusions    []string
	MaxComponents int
	Component     component
	Findings      []validateItem
}

func renderPrompt(stage string, d promptData) (string, error) {
	var b bytes.Buffer
	if err := prompts.ExecuteTemplate(&b, stage+".md", d); err != nil {
		return "", fmt.Errorf("codex: rendering the %s prompt: %w", stage, err)
	}
	return b.String(), nil
}

func schemaFor(stage string) []byte {
	b, err := schemaFS.ReadFile("schemas/" + PromptVersion + "/" + stage + ".json")
	if err != nil {
		panic("codex: missing embedded schema " + stage) // a build defect, caught by tests
	}
	return b
}
