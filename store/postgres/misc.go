package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

// ---- usage records ----

func (s *Store) CreateUsageRecord(ctx context.Context, r *store.UsageRecord) error {
	if r.ID == "" {
		r.ID = store.NewID(store.PrefixUsage)
	}
	if r.At.IsZero() {
		r.At = s.nowUTC()
	}
	r.At = ts(r.At)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO usage_records (id, scan_id, project_id, user_id, model, requests,
		input_tokens, cached_input_tokens, output_tokens, cost_usd, at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		r.ID, r.ScanID, r.ProjectID, r.UserID, r.Model, r.Requests, r.InputTokens, r.CachedInputTokens,
		r.OutputTokens, r.CostUSD, r.At)
	return mapErr("create usage record", err)
}

// ListUsageRecords returns the user's records with From <= At < To, oldest
// first. A zero From or To leaves that side open.
func (s *Store) ListUsageRecords(ctx context.Context, f store.UsageFilter) ([]store.UsageRecord, error) {
	if f.UserID == "" {
		return []store.UsageRecord{}, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.and("user_id = " + q.arg(f.UserID))
	if !f.From.IsZero() {
		q.and("at >= " + q.arg(f.From))
	}
	if !f.To.IsZero() {
		q.and("at < " + q.arg(f.To))
	}
	return collect(ctx, s.pool, "list usage records", `SELECT id, scan_id, project_id, user_id, model, requests,
		input_tokens, cached_input_tokens, output_tokens, cost_usd, at FROM usage_records`+q.whereSQL()+` ORDER BY at, id`,
		q.args, func(row pgx.Row) (store.UsageRecord, error) {
			var r store.UsageRecord
			err := row.Scan(&r.ID, &r.ScanID, &r.ProjectID, &r.UserID, &r.Model, &r.Requests, &r.InputTokens,
				&r.CachedInputTokens, &r.OutputTokens, &r.CostUSD, &r.At)
			return r, err
		})
}

// ---- workers ----

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
	return s.deleteOne(ctx, "delete worker", "workers", "", store.System(), id)
}

// ---- git uploads ----

const gitUploadCols = `id, user_id, project_id, repository_name, token_hash, expires_at, status, repository_id, created_at`

func scanGitUpload(r pgx.Row) (store.GitUpload, error) {
	var g store.GitUpload
	err := r.Scan(&g.ID, &g.UserID, &g.ProjectID, &g.RepositoryName, &g.TokenHash, &g.ExpiresAt, &g.Status, &g.RepositoryID, &g.CreatedAt)
	return g, err
}

func (s *Store) CreateGitUpload(ctx context.Context, g *store.GitUpload) error {
	if g.ID == "" {
		g.ID = store.NewID(store.PrefixGitUpload)
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = s.nowUTC()
	}
	if g.TokenHash == "" {
		return errors.New("postgres: git upload token hash is required")
	}
	g.CreatedAt, g.ExpiresAt = ts(g.CreatedAt), ts(g.ExpiresAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO git_uploads (`+gitUploadCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
		g.ID, g.UserID, g.ProjectID, g.RepositoryName, g.TokenHash, g.ExpiresAt, g.Status, g.RepositoryID, g.CreatedAt)
	return mapErr("create git upload", err)
}

func (s *Store) GetGitUpload(ctx context.Context, sc store.Scope, id string) (*store.GitUpload, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get git upload", "git_uploads", gitUploadCols, "user_id", sc, id, "", scanGitUpload)
}

func (s *Store) GetGitUploadByTokenHash(ctx context.Context, hash string) (*store.GitUpload, error) {
	if hash == "" {
		return nil, store.ErrNotFound
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	g, err := scanGitUpload(s.pool.QueryRow(ctx, `SELECT `+gitUploadCols+` FROM git_uploads WHERE token_hash = $1`, hash))
	if err != nil {
		return nil, mapErr("get git upload", err)
	}
	return &g, nil
}

func (s *Store) UpdateGitUpload(ctx context.Context, id string, fn func(*store.GitUpload) error) (*store.GitUpload, error) {
	return updateLocked(ctx, s, "update git upload",
		func(ctx context.Context, tx pgx.Tx) (*store.GitUpload, error) {
			return selectOne(ctx, tx, "update git upload", "git_uploads", gitUploadCols, "", store.System(), id, " FOR UPDATE", scanGitUpload)
		}, fn,
		// The token hash is unique and the owner scopes reads; keep both fixed.
		func(old, g *store.GitUpload) { g.ID, g.TokenHash, g.UserID = old.ID, old.TokenHash, old.UserID },
		func(ctx context.Context, tx pgx.Tx, g *store.GitUpload) error {
			g.CreatedAt, g.ExpiresAt = ts(g.CreatedAt), ts(g.ExpiresAt)
			_, err := tx.Exec(ctx, `UPDATE git_uploads SET project_id=$2, repository_name=$3, expires_at=$4,
				status=$5, repository_id=$6, created_at=$7 WHERE id=$1`,
				g.ID, g.ProjectID, g.RepositoryName, g.ExpiresAt, g.Status, g.RepositoryID, g.CreatedAt)
			return mapErr("update git upload", err)
		})
}
