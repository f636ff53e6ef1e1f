package findings

import (
	"context"
	"io"
	"strings"
	"unicode"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/export"
	"github.com/vegasec/vega/store"
)

// Export formats and their content types.
var exportTypes = map[string]string{
	"sarif": "application/sarif+json",
	"csv":   "text/csv; charset=utf-8",
	"json":  "application/json",
}

// ExportFormat validates a format name and returns its content type.
func ExportFormat(format string) (string, error) {
	if format == "" {
		format = "sarif"
	}
	ct, ok := exportTypes[format]
	if !ok {
		return "", apperr.Validation(map[string]string{"format": "must be sarif, csv or json"})
	}
	return ct, nil
}

// ExportTarget says which findings an export holds.
type ExportTarget struct {
	RepositoryID string // every finding of the repository (filtered by Query)
	ScanID       string // or: the findings one scan reported
	ProjectID    string // or: every finding of the project's repositories
	Query        Query
	Version      string // Vega's version for the report's tool metadata
}

// Export writes the selected findings in format (sarif, csv or json) and
// returns the file name to offer: repository name (the project's for a
// project), UTC date, "findings" (plus the scan ID for a scan), e.g.
// "shop-api-2026-12-02-findings.sarif".
func (s *Service) Export(ctx context.Context, sc store.Scope, w io.Writer, format string, t ExportTarget) (string, error) {
	meta, err := s.export(ctx, sc, w, format, t)
	if err != nil {
		return "", err
	}
	if format == "" {
		format = "sarif"
	}
	label := meta.RepositoryName
	if meta.ProjectID != "" {
		label = meta.ProjectName
	}
	name := fileSafe(label) + "-" + s.now().UTC().Format("2006-01-02")
	if meta.ScanID != "" {
		name += "-" + fileSafe(meta.ScanID)
	}
	return name + "-findings." + format, nil
}

// fileSafe keeps letters, digits, dot, dash and underscore of a name (at
// most 80 bytes), so it is safe in a Content-Disposition file name.
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 80 {
			break
		}
	}
	out := strings.Trim(b.String(), "._")
	if out == "" {
		return "vega"
	}
	return out
}

func (s *Service) export(ctx context.Context, sc store.Scope, w io.Writer, format string, t ExportTarget) (export.Meta, error) {
	if _, err := ExportFormat(format); err != nil {
		return export.Meta{}, err
	}
	if format == "" {
		format = "sarif"
	}
	f, err := t.Query.Filter()
	if err != nil {
		return export.Meta{}, err
	}
	meta := export.Meta{ToolVersion: t.Version}
	if t.ProjectID != "" {
		if err := s.projectMeta(ctx, sc, t.ProjectID, &meta); err != nil {
			return export.Meta{}, err
		}
		f.ProjectID = meta.ProjectID
		return meta, s.writeExport(ctx, sc, w, format, f, meta)
	}
	repoID := t.RepositoryID
	if t.ScanID != "" {
		scan, err := s.st.GetScan(ctx, sc, t.ScanID)
		if err != nil {
			return export.Meta{}, apperr.NotFoundAs("Scan", t.ScanID, err)
		}
		f.ScanID, repoID = scan.ID, scan.RepositoryID
		meta.ScanID, meta.ScanStatus = scan.ID, scan.Status
		if snap, err := s.st.GetSnapshot(ctx, sc, scan.SnapshotID); err == nil {
			meta.CommitSHA = snap.CommitSHA
		}
	}
	repo, err := s.st.GetRepository(ctx, sc, repoID)
	if err != nil {
		return export.Meta{}, apperr.NotFoundAs("Repository", repoID, err)
	}
	f.RepositoryID = repo.ID
	meta.RepositoryID, meta.RepositoryName = repo.ID, repo.Name
	return meta, s.writeExport(ctx, sc, w, format, f, meta)
}

// projectMeta fills meta with the project and the names of its repositories.
func (s *Service) projectMeta(ctx context.Context, sc store.Scope, projectID string, meta *export.Meta) error {
	p, err := s.st.GetProject(ctx, sc, projectID)
	if err != nil {
		return apperr.NotFoundAs("Project", projectID, err)
	}
	meta.ProjectID, meta.ProjectName, meta.Repositories = p.ID, p.Name, map[string]string{}
	repos, err := allPages(func(page store.Page) ([]store.Repository, string, error) {
		return s.st.ListRepositories(ctx, sc, p.ID, page)
	})
	if err != nil {
		return err
	}
	for _, r := range repos {
		meta.Repositories[r.ID] = r.Name
	}
	return nil
}

// writeExport lists every finding f selects and writes them in format.
func (s *Service) writeExport(ctx context.Context, sc store.Scope, w io.Writer, format string, f store.FindingFilter, meta export.Meta) error {
	all, err := allPages(func(p store.Page) ([]store.Finding, string, error) { return s.st.ListFindings(ctx, sc, f, p) })
	if err != nil {
		return err
	}
	switch format {
	case "csv":
		return export.CSV(w, all, meta)
	case "json":
		return export.JSON(w, all, meta)
	}
	return export.SARIF(w, all, meta)
}
