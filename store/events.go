package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// Event is one append-only entry of a scan's log; Seq is gap-free per scan.
// Payload holds the JSON of the kind's payload type below.
type Event struct {
	ScanID    string          `json:"scan_id"`
	Seq       int64           `json:"seq"`
	Kind      EventKind       `json:"kind"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
}

// EventKind names what an event reports. Each kind has exactly one payload
// type (EventPayload); docs/scan-lifecycle.md lists them with their fields.
type EventKind string

const (
	EventScanStarted    EventKind = "scan_started"
	EventScanProgress   EventKind = "scan_progress"
	EventScanLog        EventKind = "scan_log"
	EventFindingUpdated EventKind = "finding_updated"
	EventUsage          EventKind = "usage"
	EventScanCompleted  EventKind = "scan_completed"
	EventScanFailed     EventKind = "scan_failed"
	EventScanCancelled  EventKind = "scan_cancelled"
)

// EventKinds is every kind, in the order a scan emits them.
var EventKinds = []EventKind{EventScanStarted, EventScanProgress, EventScanLog, EventFindingUpdated,
	EventUsage, EventScanCompleted, EventScanFailed, EventScanCancelled}

// Terminal reports whether k ends a scan's log: nothing is appended after
// it, and live streams close on it.
func (k EventKind) Terminal() bool {
	return k == EventScanCompleted || k == EventScanFailed || k == EventScanCancelled
}

// EventPayload is the body of one kind of event. The interface is sealed:
// the payload types are the ones below, so every event written has the
// documented shape, and the kind can never disagree with the payload.
type EventPayload interface {
	EventKind() EventKind
	eventPayload()
}

// NewEventPayload returns a pointer to a zero payload of kind's type, to
// decode into; false for a kind this version does not know.
func NewEventPayload(kind EventKind) (EventPayload, bool) {
	switch kind {
	case EventScanStarted:
		return &ScanStartedPayload{}, true
	case EventScanProgress:
		return &ScanProgressPayload{}, true
	case EventScanLog:
		return &ScanLogPayload{}, true
	case EventFindingUpdated:
		return &FindingUpdatedPayload{}, true
	case EventUsage:
		return &UsagePayload{}, true
	case EventScanCompleted:
		return &ScanCompletedPayload{}, true
	case EventScanFailed:
		return &ScanFailedPayload{}, true
	case EventScanCancelled:
		return &ScanCancelledPayload{}, true
	}
	return nil, false
}

// DecodePayload decodes the event's payload into a pointer to its kind's
// type (e.g. *ScanFailedPayload). Events stored by earlier versions decode
// too: fields they lack stay zero.
func (ev Event) DecodePayload() (EventPayload, error) {
	p, ok := NewEventPayload(ev.Kind)
	if !ok {
		return nil, fmt.Errorf("store: unknown event kind %q", ev.Kind)
	}
	if err := json.Unmarshal(ev.Payload, p); err != nil {
		return nil, fmt.Errorf("store: decode %s payload: %w", ev.Kind, err)
	}
	return p, nil
}

// ScanStartedPayload: a runner began an attempt of the scan.
type ScanStartedPayload struct {
	Engines    []string `json:"engines"`
	SnapshotID string   `json:"snapshot_id"`
	FileCount  int      `json:"file_count"`
	Attempt    int      `json:"attempt"`
}

// ScanProgressPayload is the scan's progress as an engine reports it.
type ScanProgressPayload ScanProgress

// LogLevel is the severity of a scan_log line.
type LogLevel string

const (
	LogDebug LogLevel = "debug"
	LogInfo  LogLevel = "info"
	LogWarn  LogLevel = "warn"
	LogError LogLevel = "error"
)

// Valid reports whether l is a known level.
func (l LogLevel) Valid() bool { return l == LogDebug || l == LogInfo || l == LogWarn || l == LogError }

// ScanLogPayload is one log line; Engine is "" for lines of the runner or
// of the lifecycle itself.
type ScanLogPayload struct {
	Level   LogLevel `json:"level"`
	Message string   `json:"message"`
	Engine  string   `json:"engine"`
}

// FindingUpdatedPayload is the stored finding (IDs included, so the
// dashboard can link it) under the engine-local key it was reported with.
type FindingUpdatedPayload struct {
	Key string `json:"key,omitempty"`
	Finding
}

// UsagePayload is the model usage of one LLM call.
type UsagePayload struct {
	Model string `json:"model"`
	Usage
}

// ScanCompletedPayload ends a completed scan's log. StopReason is set when
// the scan stopped early but kept its findings (budget_exceeded).
type ScanCompletedPayload struct {
	FindingCounts SeverityCounts `json:"finding_counts"`
	DurationMS    int64          `json:"duration_ms"`
	StopReason    StopReason     `json:"stop_reason,omitempty"`
}

// ScanFailedPayload ends a failed scan's log with the scan's error.
type ScanFailedPayload struct {
	Code    ScanErrorCode `json:"code"`
	Message string        `json:"message"`
}

// CancelActor says who cancelled a scan: scan_cancelled's "by".
type CancelActor string

const (
	// CancelledByUser: a user asked to cancel (POST /v1/scans/:id/cancel);
	// user_id names them (absent for a request stored before Vega recorded it).
	CancelledByUser CancelActor = "user"
	// CancelledBySystem: Vega stopped the scan on its own; reason says why.
	// No path does this today; the value is reserved so that "by" keeps one
	// meaning when one appears. Events from before this vocabulary carry a
	// user ID or "system" in "by".
	CancelledBySystem CancelActor = "system"
)

// ScanCancelledPayload ends a cancelled scan's log.
type ScanCancelledPayload struct {
	By     CancelActor `json:"by"`
	UserID string      `json:"user_id,omitempty"`
	Reason string      `json:"reason,omitempty"`
}

func (ScanStartedPayload) EventKind() EventKind    { return EventScanStarted }
func (ScanProgressPayload) EventKind() EventKind   { return EventScanProgress }
func (ScanLogPayload) EventKind() EventKind        { return EventScanLog }
func (FindingUpdatedPayload) EventKind() EventKind { return EventFindingUpdated }
func (UsagePayload) EventKind() EventKind          { return EventUsage }
func (ScanCompletedPayload) EventKind() EventKind  { return EventScanCompleted }
func (ScanFailedPayload) EventKind() EventKind     { return EventScanFailed }
func (ScanCancelledPayload) EventKind() EventKind  { return EventScanCancelled }

func (ScanStartedPayload) eventPayload()    {}
func (ScanProgressPayload) eventPayload()   {}
func (ScanLogPayload) eventPayload()        {}
func (FindingUpdatedPayload) eventPayload() {}
func (UsagePayload) eventPayload()          {}
func (ScanCompletedPayload) eventPayload()  {}
func (ScanFailedPayload) eventPayload()     {}
func (ScanCancelledPayload) eventPayload()  {}
