package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

// MarkScanSent records when a queued scan's message went to the scan queue
// (migrations/0007_scan_queue_sent.sql).
func (s *Store) MarkScanSent(ctx context.Context, scanID string, at time.Time) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE scans SET queue_sent_at = $2 WHERE id = $1 AND status = '`+string(store.ScanQueued)+`'`, scanID, ts(at))
	return mapErr("mark scan sent", err)
}

// ListUnsentScans lists queued scans never sent (and created before
// createdBefore) or last sent before sentBefore, oldest first. The partial
// index scans_queued_idx keeps this to the queued rows.
func (s *Store) ListUnsentScans(ctx context.Context, createdBefore, sentBefore time.Time, limit int) ([]string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list unsent scans", `SELECT id FROM scans WHERE status = '`+string(store.ScanQueued)+`'
		AND ((queue_sent_at IS NULL AND created_at < $1) OR queue_sent_at < $2)
		ORDER BY created_at, id LIMIT $3`, []any{ts(createdBefore), ts(sentBefore), limit},
		func(r pgx.Row) (string, error) {
			var id string
			return id, r.Scan(&id)
		})
}

// QueuedScanStats counts queued scans and finds the oldest.
func (s *Store) QueuedScanStats(ctx context.Context) (int, time.Time, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var n int
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM scans WHERE status = '`+string(store.ScanQueued)+`'`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, mapErr("queued scan stats", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}
