package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

const workerCols = `id, hostname, role, version, started_at, last_heartbeat_at, current_scan_ids, mode`

func (s *Store) UpsertWorker(ctx context.Context, w *store.Worker) error {
	if w.ID == "" {
		w.ID = store.NewID(store.PrefixWorker)
	}
	w.StartedAt, w.LastHeartbeatAt = ts(w.StartedAt), ts(w.LastHeartbeatAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO workers (`+workerCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
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
	return collect(ctx, s.pool, "list workers", `SELECT `+workerCols+` FROM workers ORDER BY id`, nil,
		func(r pgx.Row) (store.Worker, error) {
			var w store.Worker
			var ids []byte
			if err := r.Scan(&w.ID, &w.Hostname, &w.Role, &w.Version, &w.StartedAt, &w.LastHeartbeatAt, &ids, &w.Mode); err != nil {
				return w, err
			}
			return w, fromJSON(ids, &w.CurrentScanIDs)
		})
}

func (s *Store) DeleteWorker(ctx context.Context, id string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return deleteWhere(ctx, s.pool, "delete worker", "workers", "", store.System(), id)
}
