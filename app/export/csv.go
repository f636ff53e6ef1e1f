package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vegasec/vega/store"
)

var csvHeader = []string{
	"id", "severity", "confidence", "status", "dismissed_reason", "engine", "category", "cwe",
	"title", "file_path", "start_line", "end_line", "description", "evidence", "recommendation",
	"triage_note", "fingerprint", "first_seen_scan_id", "last_seen_scan_id", "created_at", "updated_at",
	"repository_id", "repository",
}

// CSV writes one header row and one row per finding. Every cell passes
// through safeCell, because titles, paths and evidence come from scanned
// code and model output and a spreadsheet would otherwise run them as
// formulas. Each row names its repository (meta supplies the names), so a
// project's export reads on its own.
func CSV(w io.Writer, findings []store.Finding, meta Meta) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, f := range sorted(findings) {
		row := []string{
			f.ID, f.Severity, f.Confidence, f.Status, f.DismissedReason, f.Engine, f.Category,
			strings.Join(f.CWE, ";"), f.Title, f.FilePath, strconv.Itoa(f.StartLine), strconv.Itoa(f.EndLine),
			f.Description, f.Evidence, f.Recommendation, f.TriageNote, f.Fingerprint,
			f.FirstSeenScanID, f.LastSeenScanID, csvTime(f.CreatedAt), csvTime(f.UpdatedAt),
			f.RepositoryID, meta.repositoryName(f),
		}
		for i := range row {
			row[i] = safeCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// safeCell defuses CSV formula injection (OWASP): a cell that a spreadsheet
// would evaluate — starting with = + - @, or a tab or carriage return that
// some importers strip before evaluating — gets a leading single quote,
// which spreadsheets show as text.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
