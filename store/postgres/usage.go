package postgres

import (
	"context"

	"github.com/vegasec/vega/store"
)

var usageRecords = table[store.UsageRecord]{name: "usage_records", owner: "user_id",
	cols: `id, scan_id, project_id, user_id, model, requests, input_tokens, cached_input_tokens, output_tokens, cost_usd, at`,
	dests: func(r *store.UsageRecord) []any {
		return []any{&r.ID, &r.ScanID, &r.ProjectID, &r.UserID, &r.Model, &r.Requests, &r.InputTokens,
			&r.CachedInputTokens, &r.OutputTokens, &r.CostUSD, &r.At}
	}}

func (s *Store) CreateUsageRecord(ctx context.Context, r *store.UsageRecord) error {
	store.Stamp(&r.ID, &r.At, store.PrefixUsage, s.nowUTC())
	r.At = ts(r.At)
	return usageRecords.create(ctx, s, "create usage record", r.ID, r.ScanID, r.ProjectID, r.UserID, r.Model, r.Requests,
		r.InputTokens, r.CachedInputTokens, r.OutputTokens, r.CostUSD, r.At)
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
	return collect(ctx, s.pool, "list usage records",
		`SELECT `+usageRecords.cols+` FROM usage_records`+q.whereSQL()+` ORDER BY at, id`, q.args, usageRecords.scan)
}
