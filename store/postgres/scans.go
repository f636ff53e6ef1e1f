package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

// ---- scans ----

const scanCols = `id, repository_id, project_id, owner_user_id, snapshot_id, requested_by, status, engines,
	paths, threat_profile, progress, stages, error, stop_reason, attempt, claimed_by, heartbeat_at,
	cancel_requested_at, cancel_requested_by, usage, finding_counts, artifacts, created_at, claimed_at, started_at, finished_at`

func scanScan(r pgx.Row) (store.Scan, error) {
	var x store.Scan
	var engines, paths, profile, progress, stages, serr, usage, counts, artifacts []byte
	if err := r.Scan(&x.ID, &x.RepositoryID, &x.ProjectID, &x.OwnerUserID, &x.SnapshotID, &x.RequestedBy,
		&x.Status, &engines, &paths, &profile, &progress, &stages, &serr, &x.StopReason, &x.Attempt,
		&x.ClaimedBy, &x.HeartbeatAt, &x.CancelRequestedAt, &x.CancelRequestedBy, &usage, &counts, &artifacts, &x.CreatedAt,
		&x.ClaimedAt, &x.StartedAt, &x.FinishedAt); err != nil {
		return x, err
	}
	for _, d := range []struct {
		b []byte
		v any
	}{
		{engines, &x.Engines}, {paths, &x.Paths}, {profile, &x.ThreatProfile}, {progress, &x.Progress},
		{stages, &x.Stages}, {serr, &x.Error}, {usage, &x.Usage}, {counts, &x.FindingCounts}, {artifacts, &x.Artifacts},
	} {
		if err := fromJSON(d.b, d.v); err != nil {
			return x, err
		}
	}
	return x, nil
}

func normScan(x *store.Scan) {
	x.CreatedAt = ts(x.CreatedAt)
	x.HeartbeatAt, x.CancelRequestedAt = tsp(x.HeartbeatAt), tsp(x.CancelRequestedAt)
	x.ClaimedAt, x.StartedAt, x.FinishedAt = tsp(x.ClaimedAt), tsp(x.StartedAt), tsp(x.FinishedAt)
}

// scanArgs lists x's values in scanCols order.
func scanArgs(x *store.Scan) []any {
	return []any{x.ID, x.RepositoryID, x.ProjectID, x.OwnerUserID, x.SnapshotID, x.RequestedBy, x.Status,
		toJSON(x.Engines), toJSON(x.Paths), toJSON(x.ThreatProfile), toJSON(x.Progress), toJSON(x.Stages),
		toJSON(x.Error), x.StopReason, x.Attempt, x.ClaimedBy, x.HeartbeatAt, x.CancelRequestedAt, x.CancelRequestedBy,
		toJSON(x.Usage), toJSON(x.FindingCounts), toJSON(x.Artifacts), x.CreatedAt, x.ClaimedAt, x.StartedAt, x.FinishedAt}
}

// CreateScan stores x (queued when no status is given); ErrNotFound when its
// repository does not exist.
func (s *Store) CreateScan(ctx context.Context, x *store.Scan) error {
	if x.ID == "" {
		x.ID = store.NewID(store.PrefixScan)
	}
	if x.CreatedAt.IsZero() {
		x.CreatedAt = s.nowUTC()
	}
	if x.Status == "" {
		x.Status = store.ScanQueued
	}
	normScan(x)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO scans (`+scanCols+`) VALUES
		($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26)`, scanArgs(x)...)
	return mapErr("create scan", err)
}

func (s *Store) GetScan(ctx context.Context, sc store.Scope, id string) (*store.Scan, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return selectOne(ctx, s.pool, "get scan", "scans", scanCols, "owner_user_id", sc, id, "", scanScan)
}

func (s *Store) ListScans(ctx context.Context, sc store.Scope, f store.ScanFilter, p store.Page) ([]store.Scan, string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var q query
	q.scope(sc, "owner_user_id")
	if f.ProjectID != "" {
		q.and("project_id = " + q.arg(f.ProjectID))
	}
	if f.RepositoryID != "" {
		q.and("repository_id = " + q.arg(f.RepositoryID))
	}
	if len(f.Statuses) > 0 {
		q.and("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	return listPage(ctx, s.pool, "list scans", scanCols, "scans", &q, p, scanScan, func(x *store.Scan) string { return x.ID })
}

// CountActiveScans counts the user's queued, claimed and running scans.
func (s *Store) CountActiveScans(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM scans WHERE owner_user_id = $1 AND status IN (`+activeSQL+`)`, userID).Scan(&n)
	return n, mapErr("count active scans", err)
}

// UpdateScan locks the scan row for the whole read-modify-write, so no other
// UpdateScan or ClaimNextScan interleaves. last_event_seq is not written, so
// it never races with AppendEvents.
func (s *Store) UpdateScan(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) error) (*store.Scan, error) {
	return updateLocked(ctx, s, "update scan",
		func(ctx context.Context, tx pgx.Tx) (*store.Scan, error) {
			return selectOne(ctx, tx, "update scan", "scans", scanCols, "owner_user_id", sc, id, " FOR UPDATE", scanScan)
		}, fn, keepScanIdentity, saveScan("update scan"))
}

func keepScanIdentity(old, x *store.Scan) { x.ID, x.OwnerUserID = old.ID, old.OwnerUserID }

// saveScan writes every column of x but last_event_seq (AppendEvents' alone).
func saveScan(op string) func(context.Context, pgx.Tx, *store.Scan) error {
	return func(ctx context.Context, tx pgx.Tx, x *store.Scan) error {
		normScan(x)
		_, err := tx.Exec(ctx, `UPDATE scans SET repository_id=$2, project_id=$3, owner_user_id=$4,
			snapshot_id=$5, requested_by=$6, status=$7, engines=$8, paths=$9, threat_profile=$10,
			progress=$11, stages=$12, error=$13, stop_reason=$14, attempt=$15, claimed_by=$16,
			heartbeat_at=$17, cancel_requested_at=$18, cancel_requested_by=$19, usage=$20, finding_counts=$21,
			artifacts=$22, created_at=$23, claimed_at=$24, started_at=$25, finished_at=$26 WHERE id=$1`, scanArgs(x)...)
		return mapErr(op, err)
	}
}

// ClaimNextScan locks the oldest queued scan, runs claim on it and saves it in
// one transaction. SKIP LOCKED lets concurrent claimers pass over a row
// another claimer holds instead of queueing behind it; FOR UPDATE re-checks
// status = 'queued' on the latest row version under READ COMMITTED, so a
// scan is never claimed twice. The partial index scans_queued_idx serves the
// ORDER BY.
func (s *Store) ClaimNextScan(ctx context.Context, claim func(*store.Scan) error) (*store.Scan, error) {
	return updateLocked(ctx, s, "claim scan",
		func(ctx context.Context, tx pgx.Tx) (*store.Scan, error) {
			x, err := scanScan(tx.QueryRow(ctx, `SELECT `+scanCols+` FROM scans WHERE status = '`+string(store.ScanQueued)+`'
				ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`))
			if err != nil {
				return nil, mapErr("claim scan", err)
			}
			return &x, nil
		}, claim, keepScanIdentity, saveScan("claim scan"))
}

// ListHeldScans returns every claimed or running scan, oldest first.
func (s *Store) ListHeldScans(ctx context.Context) ([]store.Scan, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	return collect(ctx, s.pool, "list held scans", `SELECT `+scanCols+` FROM scans
		WHERE status IN (`+heldSQL+`) ORDER BY id`, nil, scanScan)
}

// The status sets of the store package as SQL lists. Written as literals
// (not parameters) so the planner can match the partial indexes of
// migrations/0001_init.sql, which TestStatusSetsMatchPartialIndexes checks
// against the same sets.
var (
	activeSQL = sqlList(store.ActiveScanStatuses)
	heldSQL   = sqlList(store.HeldScanStatuses)
)

// sqlList renders statuses as a quoted SQL list. Statuses are Go constants of
// lower-case letters, never user input.
func sqlList(statuses []store.ScanStatus) string {
	q := make([]string, len(statuses))
	for i, st := range statuses {
		q[i] = "'" + string(st) + "'"
	}
	return strings.Join(q, ", ")
}

// ---- events ----

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
	now := s.nowUTC()
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
	ctx, cancel := s.op(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `WITH bumped AS (
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
	for _, q := range seqs {
		first = min(first, q)
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

// ---- runner jobs ----

var errNegativeAttempt = errors.New("postgres: negative runner job attempt")

const jobCols = `id, scan_id, attempt, idempotency_key, ecs_task_arn, status, stopped_reason, created_at`

func scanJob(r pgx.Row) (store.RunnerJob, error) {
	var j store.RunnerJob
	err := r.Scan(&j.ID, &j.ScanID, &j.Attempt, &j.IdempotencyKey, &j.ECSTaskARN, &j.Status, &j.StoppedReason, &j.CreatedAt)
	return j, err
}

// CreateRunnerJob stores j; ErrConflict when the scan attempt already has a
// job, ErrNotFound when the scan does not exist.
func (s *Store) CreateRunnerJob(ctx context.Context, j *store.RunnerJob) error {
	if j.ID == "" {
		j.ID = store.NewID(store.PrefixJob)
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.nowUTC()
	}
	if j.Attempt < 0 {
		return errNegativeAttempt
	}
	j.CreatedAt = ts(j.CreatedAt)
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO runner_jobs (`+jobCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		j.ID, j.ScanID, j.Attempt, j.IdempotencyKey, j.ECSTaskARN, j.Status, j.StoppedReason, j.CreatedAt)
	return mapErr("create runner job", err)
}

func (s *Store) GetRunnerJob(ctx context.Context, scanID string, attempt int) (*store.RunnerJob, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobCols+` FROM runner_jobs WHERE scan_id = $1 AND attempt = $2`, scanID, attempt))
	if err != nil {
		return nil, mapErr("get runner job", err)
	}
	return &j, nil
}

func (s *Store) UpdateRunnerJob(ctx context.Context, id string, fn func(*store.RunnerJob) error) (*store.RunnerJob, error) {
	return updateLocked(ctx, s, "update runner job",
		func(ctx context.Context, tx pgx.Tx) (*store.RunnerJob, error) {
			return selectOne(ctx, tx, "update runner job", "runner_jobs", jobCols, "", store.System(), id, " FOR UPDATE", scanJob)
		}, fn,
		// The (scan, attempt) identity is unique; keep it fixed.
		func(old, j *store.RunnerJob) { j.ID, j.ScanID, j.Attempt = old.ID, old.ScanID, old.Attempt },
		func(ctx context.Context, tx pgx.Tx, j *store.RunnerJob) error {
			j.CreatedAt = ts(j.CreatedAt)
			_, err := tx.Exec(ctx, `UPDATE runner_jobs SET idempotency_key=$2, ecs_task_arn=$3, status=$4,
				stopped_reason=$5, created_at=$6 WHERE id=$1`,
				j.ID, j.IdempotencyKey, j.ECSTaskARN, j.Status, j.StoppedReason, j.CreatedAt)
			return mapErr("update runner job", err)
		})
}
