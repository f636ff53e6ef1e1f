package export

import (
	"encoding/json"
	"io"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/vegasec/vega/store"
)

// SARIF types: only what Vega emits, named as in the SARIF 2.1.0 spec
// (OASIS, sarif-v2.1.0). Optional members are omitempty so the document
// never carries an empty object where the schema expects content.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool                     sarifTool             `json:"tool"`
	AutomationDetails        *sarifAutomation      `json:"automationDetails,omitempty"`
	VersionControlProvenance []sarifVersionControl `json:"versionControlProvenance,omitempty"`
	Invocations              []sarifInvocation     `json:"invocations,omitempty"`
	ColumnKind               string                `json:"columnKind"`
	Results                  []sarifResult         `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string           `json:"id"`
	Name                 string           `json:"name,omitempty"`
	ShortDescription     *sarifText       `json:"shortDescription,omitempty"`
	Help                 *sarifText       `json:"help,omitempty"`
	DefaultConfiguration *sarifRuleConfig `json:"defaultConfiguration,omitempty"`
	Properties           map[string]any   `json:"properties,omitempty"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifAutomation struct {
	ID          string     `json:"id"`
	Description *sarifText `json:"description,omitempty"`
}

type sarifVersionControl struct {
	RepositoryURI string `json:"repositoryUri"`
	RevisionID    string `json:"revisionId,omitempty"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	EndTimeUTC          string `json:"endTimeUtc,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations,omitempty"`
	RelatedLocations    []sarifLocation    `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string  `json:"partialFingerprints,omitempty"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          map[string]any     `json:"properties,omitempty"`
}

type sarifLocation struct {
	ID               *int                  `json:"id,omitempty"`
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	Message          *sarifText            `json:"message,omitempty"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine int        `json:"startLine"`
	EndLine   int        `json:"endLine,omitempty"`
	Snippet   *sarifText `json:"snippet,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
	// Location is where an inSource suppression is written.
	Location *sarifLocation `json:"location,omitempty"`
}

const (
	sarifSchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"
	// srcRoot is the uriBaseId every path is relative to: the repository root.
	srcRoot = "SRCROOT"
	// fingerprintKey versions Vega's partial fingerprint so a future change
	// of the fingerprint recipe does not silently re-match old results.
	fingerprintKey = "vega/v1"
)

// Level maps a Vega severity to a SARIF result level.
func Level(severity string) string {
	switch severity {
	case store.SeverityCritical, store.SeverityHigh:
		return "error"
	case store.SeverityMedium:
		return "warning"
	case store.SeverityLow, store.SeverityInfo:
		return "note"
	}
	return "warning"
}

// securitySeverity is the CVSS-like score code-scanning UIs (GitHub) use to
// bucket security results.
func securitySeverity(severity string) string {
	switch severity {
	case store.SeverityCritical:
		return "9.5"
	case store.SeverityHigh:
		return "8.0"
	case store.SeverityMedium:
		return "5.5"
	case store.SeverityLow:
		return "3.0"
	}
	return "0.0"
}

// RuleID is the stable SARIF rule id of a finding: engine/category.
func RuleID(f store.Finding) string {
	engine := strings.TrimSpace(f.Engine)
	if engine == "" {
		engine = "vega"
	}
	cat := strings.TrimSpace(f.Category)
	if cat == "" {
		cat = "uncategorized"
	}
	return engine + "/" + cat
}

// SARIF writes findings as a SARIF 2.1.0 log with one run. Dismissed
// findings stay in the log, marked with an external, accepted suppression,
// so code-scanning tools show them as dismissed rather than new. A
// project's export (meta.Repositories set) has one run per repository, since
// a path only means something within its repository; each run's
// automationDetails.id names the repository.
func SARIF(w io.Writer, findings []store.Finding, meta Meta) error {
	var runs []sarifRun
	if meta.Repositories == nil {
		runs = []sarifRun{sarifRunOf(findings, meta, "")}
	} else {
		byRepo := map[string][]store.Finding{}
		for _, f := range findings {
			byRepo[f.RepositoryID] = append(byRepo[f.RepositoryID], f)
		}
		ids := make([]string, 0, len(byRepo))
		for id := range byRepo {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			runs = append(runs, sarifRunOf(byRepo[id], meta, id))
		}
		if runs == nil {
			runs = []sarifRun{sarifRunOf(nil, meta, "")}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: runs})
}

// sarifRunOf is one run over findings; repositoryID is set for a run of a
// project's export.
func sarifRunOf(findings []store.Finding, meta Meta, repositoryID string) sarifRun {
	ordered := sorted(findings)
	rules, ruleIndex := sarifRules(ordered)
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           ToolName,
			Version:        meta.ToolVersion,
			InformationURI: absoluteURI(meta.InformationURI),
			Rules:          rules,
		}},
		// Vega reports lines only; columnKind is stated because the spec
		// asks producers to say how columns would be counted.
		ColumnKind: "unicodeCodePoints",
		Results:    make([]sarifResult, 0, len(ordered)),
	}
	switch {
	case meta.ScanID != "":
		run.AutomationDetails = &sarifAutomation{ID: "vega/" + meta.ScanID}
	case repositoryID != "":
		run.AutomationDetails = &sarifAutomation{ID: "vega/" + meta.ProjectID + "/" + repositoryID,
			Description: &sarifText{Text: "Repository " + meta.Repositories[repositoryID] + " of project " + meta.ProjectName}}
	}
	if u := absoluteURI(meta.RepositoryURI); u != "" && repositoryID == "" {
		run.VersionControlProvenance = []sarifVersionControl{{RepositoryURI: u, RevisionID: meta.CommitSHA}}
	}
	if meta.ScanStatus != "" || !meta.GeneratedAt.IsZero() {
		inv := sarifInvocation{ExecutionSuccessful: meta.ScanStatus == "" || meta.ScanStatus == store.ScanCompleted}
		if !meta.GeneratedAt.IsZero() {
			inv.EndTimeUTC = meta.GeneratedAt.UTC().Format(time.RFC3339)
		}
		run.Invocations = []sarifInvocation{inv}
	}
	for _, f := range ordered {
		run.Results = append(run.Results, sarifResultOf(f, ruleIndex[RuleID(f)]))
	}
	return run
}

// sarifRules builds tool.driver.rules, one per engine/category, in id
// order, and the index of each id.
func sarifRules(findings []store.Finding) ([]sarifRule, map[string]int) {
	first := map[string]store.Finding{}
	cwes := map[string]map[string]bool{}
	for _, f := range findings {
		id := RuleID(f)
		if _, ok := first[id]; !ok {
			first[id] = f // highest severity first, thanks to sorted()
			cwes[id] = map[string]bool{}
		}
		for _, c := range f.CWE {
			cwes[id][c] = true
		}
	}
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	rules := make([]sarifRule, 0, len(ids))
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		f := first[id]
		tags := []string{"security", f.Engine}
		cweList := make([]string, 0, len(cwes[id]))
		for c := range cwes[id] {
			cweList = append(cweList, c)
		}
		sort.Strings(cweList)
		tags = append(tags, cweList...)
		r := sarifRule{
			ID:                   id,
			Name:                 f.Category,
			ShortDescription:     &sarifText{Text: ruleSummary(f, cweList)},
			DefaultConfiguration: &sarifRuleConfig{Level: Level(f.Severity)},
			Properties: map[string]any{
				"tags":              uniqueNonEmpty(tags),
				"security-severity": securitySeverity(f.Severity),
			},
		}
		if f.Recommendation != "" {
			r.Help = &sarifText{Text: f.Recommendation}
		}
		rules = append(rules, r)
		index[id] = i
	}
	return rules, index
}

func ruleSummary(f store.Finding, cwes []string) string {
	s := f.Engine + " finding: " + f.Category
	if f.Category == "" {
		s = f.Engine + " finding"
	}
	if len(cwes) > 0 {
		s += " (" + strings.Join(cwes, ", ") + ")"
	}
	return s
}

func sarifResultOf(f store.Finding, ruleIndex int) sarifResult {
	msg := f.Title
	if f.Description != "" {
		msg += "\n\n" + f.Description
	}
	if strings.TrimSpace(msg) == "" {
		msg = RuleID(f)
	}
	res := sarifResult{
		RuleID:    RuleID(f),
		RuleIndex: ruleIndex,
		Level:     Level(f.Severity),
		Message:   sarifText{Text: msg},
		Properties: map[string]any{
			"severity":          f.Severity,
			"confidence":        f.Confidence,
			"cwe":               nonNil(f.CWE),
			"status":            f.Status,
			"engine":            f.Engine,
			"security-severity": securitySeverity(f.Severity),
		},
	}
	if f.ID != "" {
		res.Properties["vega_finding_id"] = f.ID
	}
	if f.Recommendation != "" {
		res.Properties["recommendation"] = f.Recommendation
	}
	if f.Fingerprint != "" {
		res.PartialFingerprints = map[string]string{fingerprintKey: f.Fingerprint}
	}
	if f.FilePath != "" {
		res.Locations = []sarifLocation{physical(f.FilePath, f.StartLine, f.EndLine, f.Evidence, "")}
	}
	id := 1
	for _, l := range f.Locations {
		if l.FilePath == "" || (l.FilePath == f.FilePath && l.StartLine == f.StartLine && l.EndLine == f.EndLine) {
			continue // the primary location is already in locations
		}
		note := strings.Join(uniqueNonEmpty([]string{l.Role, l.Note}), ": ")
		loc := physical(l.FilePath, l.StartLine, l.EndLine, "", note)
		n := id
		loc.ID = &n
		id++
		res.RelatedLocations = append(res.RelatedLocations, loc)
	}
	if f.Status == store.FindingDismissed && f.DismissedReason == store.DismissSuppressedInSource && f.Suppression != nil {
		// Suppressed by a comment or .gitleaksignore entry in the code
		// (docs/findings.md): SARIF's inSource kind, with where it is.
		loc := physical(f.Suppression.FilePath, f.Suppression.Line, f.Suppression.Line, "", "")
		res.Suppressions = []sarifSuppression{{Kind: "inSource", Status: "accepted", Justification: f.Suppression.Text, Location: &loc}}
	} else if f.Status == store.FindingDismissed {
		just := f.DismissedReason
		if f.TriageNote != "" {
			if just != "" {
				just += ": "
			}
			just += f.TriageNote
		}
		res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted", Justification: just}}
	}
	return res
}

// physical is a location in the repository. SARIF wants a URI reference:
// the repository-relative path, slash-separated and percent-encoded.
func physical(path string, start, end int, snippet, note string) sarifLocation {
	loc := sarifLocation{PhysicalLocation: sarifPhysicalLocation{
		ArtifactLocation: sarifArtifactLocation{URI: relativeURI(path), URIBaseID: srcRoot},
	}}
	if start >= 1 {
		r := &sarifRegion{StartLine: start}
		if end >= start {
			r.EndLine = end
		}
		if snippet != "" {
			r.Snippet = &sarifText{Text: snippet}
		}
		loc.PhysicalLocation.Region = r
	}
	if note != "" {
		loc.Message = &sarifText{Text: note}
	}
	return loc
}

// relativeURI turns a repository path into a relative URI reference. Leading
// slashes and "./" are dropped so a path can never be read as absolute or
// as a network-path reference ("//host/...").
func relativeURI(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	p = strings.TrimLeft(p, "/")
	p = strings.TrimPrefix(p, "./")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	out := strings.Join(segs, "/")
	// A first segment containing ':' would parse as a scheme.
	if i := strings.IndexByte(segs[0], ':'); i >= 0 {
		out = "./" + out
	}
	return out
}

// absoluteURI returns s when it is an absolute URI, otherwise "".
func absoluteURI(s string) string {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" && u.Opaque == "" {
		return ""
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func uniqueNonEmpty(in []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
