// Package export writes findings in the formats users take elsewhere
// (downloads and scan artifacts): SARIF 2.1.0 for code-scanning tools, CSV for
// spreadsheets, JSON for scripts. Output is deterministic for a given input:
// findings are ordered by severity, path, line and title.
package export

import (
	"sort"
	"time"

	"github.com/vegasec/vega/store"
)

// ToolName is the SARIF tool.driver.name and the JSON generator name.
const ToolName = "Vega"

// Meta describes where the findings come from.
type Meta struct {
	// ToolVersion is Vega's version (build info).
	ToolVersion string
	// InformationURI links to the tool's documentation (optional, absolute URI).
	InformationURI string
	ScanID         string
	RepositoryID   string
	RepositoryName string
	// ProjectID and ProjectName are set for a project's export, which spans
	// its repositories; Repositories then maps each repository ID to its
	// name, and each finding's repository comes from it.
	ProjectID    string
	ProjectName  string
	Repositories map[string]string
	// RepositoryURI is the repository's clone URL, if it has one (optional,
	// absolute URI); with CommitSHA it becomes SARIF versionControlProvenance.
	RepositoryURI string
	CommitSHA     string
	// ScanStatus is the scan's final status; anything but completed (or
	// empty) marks the SARIF invocation as not successful.
	ScanStatus store.ScanStatus
	// GeneratedAt stamps the export (optional; zero leaves it out so
	// repeated exports of the same data are byte-identical).
	GeneratedAt time.Time
}

// Sorted returns findings in export order (a copy), for callers that print
// them in other forms (`vega scan`'s table).
func Sorted(findings []store.Finding) []store.Finding { return sorted(findings) }

// sorted returns findings ordered for export without modifying the input.
// It is never nil, so an empty export says "findings": [] (not null).
func sorted(findings []store.Finding) []store.Finding {
	out := append(make([]store.Finding, 0, len(findings)), findings...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := store.SeverityRank(a.Severity), store.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.FilePath != b.FilePath {
			return a.FilePath < b.FilePath
		}
		if a.StartLine != b.StartLine {
			return a.StartLine < b.StartLine
		}
		if a.Title != b.Title {
			return a.Title < b.Title
		}
		return a.ID < b.ID
	})
	return out
}

// repositoryName is the name of the repository f belongs to, as the export knows it.
func (m Meta) repositoryName(f store.Finding) string {
	if n, ok := m.Repositories[f.RepositoryID]; ok {
		return n
	}
	if f.RepositoryID == m.RepositoryID {
		return m.RepositoryName
	}
	return ""
}
