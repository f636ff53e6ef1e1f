package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

func (s *Store) CreateUsageRecord(ctx context.Context, r *store.UsageRecord) error {
	store.Stamp(&r.ID, &r.At, store.PrefixUsage, s.nowUTC())
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
