package export

import (
	"encoding/json"
	"io"
	"time"

	"github.com/vegasec/vega/store"
)

// JSONSchemaVersion is bumped when the JSON export's shape changes incompatibly.
const JSONSchemaVersion = 1

type jsonReport struct {
	SchemaVersion int                  `json:"schema_version"`
	Generator     jsonGenerator        `json:"generator"`
	GeneratedAt   *time.Time           `json:"generated_at,omitempty"`
	ScanID        string               `json:"scan_id,omitempty"`
	RepositoryID  string               `json:"repository_id,omitempty"`
	Repository    string               `json:"repository,omitempty"`
	ProjectID     string               `json:"project_id,omitempty"`
	Project       string               `json:"project,omitempty"`
	Repositories  map[string]string    `json:"repositories,omitempty"`
	CommitSHA     string               `json:"commit_sha,omitempty"`
	Counts        store.SeverityCounts `json:"finding_counts"`
	Findings      []store.Finding      `json:"findings"`
}

type jsonGenerator struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

// JSON writes findings as one JSON document: the API's finding shape plus
// the scan context and per-severity counts (the scan's report.json artifact).
func JSON(w io.Writer, findings []store.Finding, meta Meta) error {
	rep := jsonReport{
		SchemaVersion: JSONSchemaVersion,
		Generator:     jsonGenerator{Name: ToolName, Version: meta.ToolVersion},
		ScanID:        meta.ScanID,
		RepositoryID:  meta.RepositoryID,
		Repository:    meta.RepositoryName,
		ProjectID:     meta.ProjectID,
		Project:       meta.ProjectName,
		Repositories:  meta.Repositories,
		CommitSHA:     meta.CommitSHA,
		Findings:      sorted(findings),
	}
	if !meta.GeneratedAt.IsZero() {
		t := meta.GeneratedAt.UTC()
		rep.GeneratedAt = &t
	}
	for i := range rep.Findings {
		rep.Counts.Inc(rep.Findings[i].Severity)
		if rep.Findings[i].CWE == nil {
			rep.Findings[i].CWE = []string{}
		}
		if rep.Findings[i].Locations == nil {
			rep.Findings[i].Locations = []store.Location{}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
