package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

// AppendEvents stores evs as the scan's next seqs in a single statement (so
// a single round trip and a single implicit transaction): the UPDATE bumps the
// scan's last_event_seq by len(evs) and holds the scan row lock until commit,
// which serialises appenders of one scan and keeps seqs gap-free; the INSERT
// numbers the batch from the old value. A missing scan updates no row,
// inserts nothing and is reported as ErrNotFound.
func (s *Store) AppendEvents(ctx context.Context, scanID string, evs []store.Event) ([]store.Event, error) {
	if len(evs) == 0 {
		return []store.Event{}, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return appendEvents(ctx, s.pool, s.nowUTC(), scanID, evs)
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// appendEvents is AppendEvents on q (the pool, or UpdateScanEmit's transaction).
func appendEvents(ctx context.Context, q querier, now time.Time, scanID string, evs []store.Event) ([]store.Event, error) {
	if len(evs) == 0 {
		return []store.Event{}, nil
	}
	kinds := make([]string, len(evs))
	payloads := make([]*string, len(evs))
	created := make([]time.Time, len(evs))
	for i, ev := range evs {
		kinds[i] = string(ev.Kind)
		if len(ev.Payload) > 0 {
			p := string(ev.Payload)
			payloads[i] = &p
		}
		created[i] = now
		if !ev.CreatedAt.IsZero() {
			created[i] = ts(ev.CreatedAt)
		}
	}
	rows, err := q.Query(ctx, `WITH bumped AS (
			UPDATE scans SET last_event_seq = last_event_seq + $2 WHERE id = $1
			RETURNING last_event_seq - $2 AS base)
		INSERT INTO events (scan_id, seq, kind, payload, created_at)
		SELECT $1, bumped.base + e.ord, e.kind, e.payload::json, e.created_at
		FROM bumped, unnest($3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY AS e(kind, payload, created_at, ord)
		RETURNING seq`, scanID, int64(len(evs)), kinds, payloads, created)
	if err != nil {
		return nil, mapErr("append events", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, mapErr("append events", err)
	}
	if len(seqs) == 0 {
		return nil, store.ErrNotFound
	}
	// RETURNING order is not guaranteed by SQL; seqs are consecutive, so the
	// smallest one belongs to evs[0].
	first := seqs[0]
	for _, seq := range seqs {
		first = min(first, seq)
	}
	out := make([]store.Event, len(evs))
	for i, ev := range evs {
		ev.ScanID, ev.Seq, ev.CreatedAt = scanID, first+int64(i), created[i]
		out[i] = ev
	}
	return out, nil
}

// ListEvents returns up to limit events with seq > afterSeq in seq order.
// limit <= 0 means store.DefaultLimit; it is capped at store.MaxLimit.
func (s *Store) ListEvents(ctx context.Context, scanID string, afterSeq int64, limit int) ([]store.Event, error) {
	limit = store.Page{Limit: limit}.Normalize().Limit
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list events", `SELECT scan_id, seq, kind, payload, created_at FROM events
		WHERE scan_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, []any{scanID, max(afterSeq, 0), limit},
		func(r pgx.Row) (store.Event, error) {
			var ev store.Event
			var payload []byte
			err := r.Scan(&ev.ScanID, &ev.Seq, &ev.Kind, &payload, &ev.CreatedAt)
			if payload != nil {
				ev.Payload = json.RawMessage(payload)
			}
			return ev, err
		})
}
