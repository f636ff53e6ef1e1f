package store

import (
	"context"
	"time"
)

// ScanQueueStore records when each queued scan was last sent to the scan
// queue (VEGA_SCAN_EXECUTION_MODE=sqs). The database is the source of truth
// and the queue only wakes workers, so a scan whose message was never sent
// (the queue was unreachable) or has waited too long since it was sent is
// found here and sent again (docs/aws.md, "SQS dispatch").
type ScanQueueStore interface {
	// MarkScanSent records that a message for the scan went to the queue at
	// at. A scan that is not queued any more is left alone (no error).
	MarkScanSent(ctx context.Context, scanID string, at time.Time) error
	// ListUnsentScans returns the IDs of queued scans, oldest first, that
	// were never sent and were created before createdBefore, or were last
	// sent before sentBefore; at most limit.
	ListUnsentScans(ctx context.Context, createdBefore, sentBefore time.Time, limit int) ([]string, error)
	// QueuedScanStats counts queued scans and returns the creation time of
	// the oldest (zero when none is queued).
	QueuedScanStats(ctx context.Context) (queued int, oldest time.Time, err error)
}
