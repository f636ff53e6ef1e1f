package store

import "slices"

// ScanStatus is where a scan is in its lifecycle. The moves between statuses
// and what each move writes are app/scans' job (its state table and verbs);
// the store only keeps the value and indexes it.
type ScanStatus string

// Scan statuses, in lifecycle order.
const (
	ScanQueued    ScanStatus = "queued"
	ScanClaimed   ScanStatus = "claimed"
	ScanRunning   ScanStatus = "running"
	ScanCompleted ScanStatus = "completed"
	ScanFailed    ScanStatus = "failed"
	ScanCancelled ScanStatus = "cancelled"
)

// The status sets. Each is written here once; the Postgres queries build
// their IN lists from them, and a test checks the partial indexes of the
// migrations against them.
var (
	// ScanStatuses is every status.
	ScanStatuses = []ScanStatus{ScanQueued, ScanClaimed, ScanRunning, ScanCompleted, ScanFailed, ScanCancelled}
	// ActiveScanStatuses are the unfinished statuses; they count against a
	// user's quota and make up the queue depth.
	ActiveScanStatuses = []ScanStatus{ScanQueued, ScanClaimed, ScanRunning}
	// HeldScanStatuses are the statuses in which a runner holds the scan and
	// must heartbeat; only these can go stale.
	HeldScanStatuses = []ScanStatus{ScanClaimed, ScanRunning}
	// TerminalScanStatuses are final: no move leaves them.
	TerminalScanStatuses = []ScanStatus{ScanCompleted, ScanFailed, ScanCancelled}
)

// Valid reports whether s is a known status.
func (s ScanStatus) Valid() bool { return slices.Contains(ScanStatuses, s) }

// Active reports whether s is unfinished (queued, claimed or running).
func (s ScanStatus) Active() bool { return slices.Contains(ActiveScanStatuses, s) }

// Held reports whether a runner holds a scan in status s (claimed or running).
func (s ScanStatus) Held() bool { return slices.Contains(HeldScanStatuses, s) }

// Terminal reports whether s is final (completed, failed or cancelled).
func (s ScanStatus) Terminal() bool { return slices.Contains(TerminalScanStatuses, s) }

// Terminal reports whether the scan has reached a final status.
func (s *Scan) Terminal() bool { return s.Status.Terminal() }

// StopReason says why a finished scan stopped. A completed scan has none
// unless it ran out of budget.
type StopReason string

const (
	StopBudgetExceeded StopReason = "budget_exceeded"
	StopTimeout        StopReason = "timeout"
	StopCancelled      StopReason = "cancelled"
	StopError          StopReason = "error"
	StopInterrupted    StopReason = "interrupted"
)

// StageStatus is how one engine stage went.
type StageStatus string

const (
	StageSucceeded StageStatus = "succeeded"
	StageFailed    StageStatus = "failed"
	StageSkipped   StageStatus = "skipped"
	// StageCancelled: the stage stopped because a user cancelled the scan.
	StageCancelled StageStatus = "cancelled"
)

// Valid reports whether s is a known stage status.
func (s StageStatus) Valid() bool {
	return s == StageSucceeded || s == StageFailed || s == StageSkipped || s == StageCancelled
}

// ScanErrorCode is the machine-readable reason a scan failed; it is the
// scan's error.code and scan_failed's code.
type ScanErrorCode string

const (
	// ScanErrSnapshotMissing: the scan's snapshot no longer exists.
	ScanErrSnapshotMissing ScanErrorCode = "snapshot_missing"
	// ScanErrRunner: the runner could not prepare its working directory.
	ScanErrRunner ScanErrorCode = "runner_error"
	// ScanErrUnpackFailed: the snapshot could not be unpacked (limits, corruption).
	ScanErrUnpackFailed ScanErrorCode = "unpack_failed"
	// ScanErrLLMUnavailable: an engine needs a model and none could be reached.
	ScanErrLLMUnavailable ScanErrorCode = "llm_unavailable"
	// ScanErrStore: findings could not be saved.
	ScanErrStore ScanErrorCode = "store_error"
	// ScanErrEngineFailed: at least one engine failed.
	ScanErrEngineFailed ScanErrorCode = "engine_failed"
	// ScanErrInterrupted: the runner went away on the last attempt.
	ScanErrInterrupted ScanErrorCode = "interrupted"
	// ScanErrStorageFull: the runner's disk filled up (unpacking the
	// snapshot or an engine writing its files); its directory is removed.
	ScanErrStorageFull ScanErrorCode = "storage_full"
)

// ScanError is why a scan failed, as stored on the scan.
type ScanError struct {
	Code    ScanErrorCode `json:"code"`
	Message string        `json:"message"`
}
