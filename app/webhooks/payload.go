package webhooks

import (
	"time"

	"github.com/vegasec/vega/store"
)

// PayloadSchemaVersion is the version of Event; fields are only ever added
// within a version (docs/webhooks.md).
const PayloadSchemaVersion = 1

// Event is the JSON body of a delivery of format json: one envelope for
// every event, with the event's data under its own key.
type Event struct {
	SchemaVersion int          `json:"schema_version"`
	ID            string       `json:"id"` // the delivery's ID; retries repeat it, so receivers can de-duplicate
	Event         string       `json:"event"`
	CreatedAt     time.Time    `json:"created_at"`
	Project       EventProject `json:"project"`
	Repository    *EventRepo   `json:"repository,omitempty"`
	Scan          *EventScan   `json:"scan,omitempty"`
	// Findings of finding.new: the new ones at or above the webhook's
	// min_severity, most severe first, at most MaxEventFindings of them;
	// FindingsTotal counts them all.
	Findings      []EventFinding `json:"findings,omitempty"`
	FindingsTotal int            `json:"findings_total,omitempty"`
}

type EventProject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type EventRepo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type EventScan struct {
	ID            string               `json:"id"`
	Status        store.ScanStatus     `json:"status"`
	Engines       []string             `json:"engines"`
	FindingCounts store.SeverityCounts `json:"finding_counts"`
	StopReason    store.StopReason     `json:"stop_reason,omitempty"`
	Error         *store.ScanError     `json:"error,omitempty"`
	CreatedAt     time.Time            `json:"created_at"`
	StartedAt     *time.Time           `json:"started_at"`
	FinishedAt    *time.Time           `json:"finished_at"`
}

// EventFinding is what a notification says about a finding: where and how
// bad, never its evidence.
type EventFinding struct {
	ID        string   `json:"id"`
	Severity  string   `json:"severity"`
	Title     string   `json:"title"`
	RuleID    string   `json:"rule_id"`
	Engine    string   `json:"engine"`
	CWE       []string `json:"cwe,omitempty"`
	FilePath  string   `json:"file_path"`
	StartLine int      `json:"start_line,omitempty"`
}

// MaxEventFindings bounds the findings one finding.new event lists.
const MaxEventFindings = 100

func eventScan(s *store.Scan) *EventScan {
	return &EventScan{ID: s.ID, Status: s.Status, Engines: s.Engines, FindingCounts: s.FindingCounts,
		StopReason: s.StopReason, Error: s.Error, CreatedAt: s.CreatedAt, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt}
}

func eventFinding(f *store.Finding) EventFinding {
	return EventFinding{ID: f.ID, Severity: f.Severity, Title: f.Title, RuleID: f.RuleID, Engine: f.Engine,
		CWE: f.CWE, FilePath: f.FilePath, StartLine: f.StartLine}
}
