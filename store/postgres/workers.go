package postgres

import (
	"context"

	"github.com/vegasec/vega/store"
)

var workers = table[store.Worker]{name: "workers",
	cols: `id, hostname, role, version, started_at, last_heartbeat_at, current_scan_ids, mode`,
	dests: func(w *store.Worker) []any {
		return []any{&w.ID, &w.Hostname, &w.Role, &w.Version, &w.StartedAt, &w.LastHeartbeatAt, jsonCol{&w.CurrentScanIDs}, &w.Mode}
	}}

func (s *Store) UpsertWorker(ctx context.Context, w *store.Worker) error {
	if w.ID == "" {
		w.ID = store.NewID(store.PrefixWorker)
	}
	w.StartedAt, w.LastHeartbeatAt = ts(w.StartedAt), ts(w.LastHeartbeatAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO workers (`+workers.cols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, role = EXCLUDED.role, mode = EXCLUDED.mode,
			version = EXCLUDED.version, started_at = EXCLUDED.started_at,
			last_heartbeat_at = EXCLUDED.last_heartbeat_at, current_scan_ids = EXCLUDED.current_scan_ids`,
		w.ID, w.Hostname, w.Role, w.Version, w.StartedAt, w.LastHeartbeatAt, toJSON(w.CurrentScanIDs), w.Mode)
	return mapErr("upsert worker", err)
}

// ListWorkers returns every registered worker ordered by ID.
func (s *Store) ListWorkers(ctx context.Context) ([]store.Worker, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list workers", `SELECT `+workers.cols+` FROM workers ORDER BY id`, nil, workers.scan)
}

func (s *Store) DeleteWorker(ctx context.Context, id string) error {
	return workers.delete(ctx, s, "delete worker", store.System(), id)
}
