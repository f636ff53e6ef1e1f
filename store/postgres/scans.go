package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var scans = table[store.Scan]{name: "scans", owner: "owner_user_id",
	cols: `id, repository_id, project_id, owner_user_id, snapshot_id, requested_by, status, engines,
	paths, threat_profile, progress, stages, error, stop_reason, attempt, claimed_by, heartbeat_at,
	cancel_requested_at, cancel_requested_by, usage, finding_counts, artifacts, created_at, claimed_at, started_at, finished_at`,
	dests: func(x *store.Scan) []any {
		return []any{&x.ID, &x.RepositoryID, &x.ProjectID, &x.OwnerUserID, &x.SnapshotID, &x.RequestedBy,
			&x.Status, jsonCol{&x.Engines}, jsonCol{&x.Paths}, jsonCol{&x.ThreatProfile}, jsonCol{&x.Progress},
			jsonCol{&x.Stages}, jsonCol{&x.Error}, &x.StopReason, &x.Attempt, &x.ClaimedBy, &x.HeartbeatAt,
			&x.CancelRequestedAt, &x.CancelRequestedBy, jsonCol{&x.Usage}, jsonCol{&x.FindingCounts}, jsonCol{&x.Artifacts},
			&x.CreatedAt, &x.ClaimedAt, &x.StartedAt, &x.FinishedAt}
	}}

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

// stampScan fills what a new scan defaults to (queued when no status is
// given) and normalises its times.
func (s *Store) stampScan(x *store.Scan) {
	store.Stamp(&x.ID, &x.CreatedAt, store.PrefixScan, s.nowUTC())
	if x.Status == "" {
		x.Status = store.ScanQueued
	}
	normScan(x)
}

// CreateScan stores x (queued when no status is given); ErrNotFound when its
// repository does not exist.
func (s *Store) CreateScan(ctx context.Context, x *store.Scan) error {
	s.stampScan(x)
	return scans.create(ctx, s, "create scan", scanArgs(x)...)
}

func (s *Store) GetScan(ctx context.Context, sc store.Scope, id string) (*store.Scan, error) {
	return scans.get(ctx, s, "get scan", sc, id)
}

func (s *Store) ListScans(ctx context.Context, sc store.Scope, f store.ScanFilter, p store.Page) ([]store.Scan, string, error) {
	var q query
	q.scope(sc, scans.owner)
	if f.ProjectID != "" {
		q.and("project_id = " + q.arg(f.ProjectID))
	}
	if f.RepositoryID != "" {
		q.and("repository_id = " + q.arg(f.RepositoryID))
	}
	if len(f.Statuses) > 0 {
		q.and("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	return scans.list(ctx, s, "list scans", &q, p)
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

// CreateScanWithin counts and inserts in one transaction under a
// transaction-scoped advisory lock on the owner, so concurrent creates of one
// user (from any process) queue behind each other and each sees the count the
// previous one left. Status changes need no lock: they never add an active scan.
func (s *Store) CreateScanWithin(ctx context.Context, x *store.Scan, maxActive int) (int, error) {
	s.stampScan(x)
	ctx, cancel := s.op(ctx)
	defer cancel()
	var active int
	err := s.inTx(ctx, "create scan within quota", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('vega:active-scans:' || $1, 0))`, x.OwnerUserID); err != nil {
			return mapErr("lock active scans", err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM scans WHERE owner_user_id = $1 AND status IN (`+activeSQL+`)`, x.OwnerUserID).Scan(&active); err != nil {
			return mapErr("count active scans", err)
		}
		if active >= maxActive {
			return store.ErrLimitReached
		}
		return scans.insert(ctx, tx, "create scan", scanArgs(x)...)
	})
	return active, err
}

// UpdateScan locks the scan row for the whole read-modify-write, so no other
// UpdateScan or ClaimNextScan interleaves. last_event_seq is not written, so
// it never races with AppendEvents.
func (s *Store) UpdateScan(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) error) (*store.Scan, error) {
	return scans.update(ctx, s, "update scan", sc, id, fn, keepScanIdentity, saveScan("update scan"))
}

// UpdateScanEmit is UpdateScan plus fn's events, appended in the same
// transaction (the scan row is already locked, so the append's
// last_event_seq bump waits for nobody).
func (s *Store) UpdateScanEmit(ctx context.Context, sc store.Scope, id string, fn func(*store.Scan) ([]store.Event, error)) (*store.Scan, []store.Event, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	var out *store.Scan
	var evs []store.Event
	err := s.inTx(ctx, "update scan", func(tx pgx.Tx) error {
		old, err := scans.lock("update scan", sc, id)(ctx, tx)
		if err != nil {
			return err
		}
		cur := *old
		pending, err := fn(&cur)
		if err != nil {
			return err
		}
		keepScanIdentity(old, &cur)
		if err := saveScan("update scan")(ctx, tx, &cur); err != nil {
			return err
		}
		if evs, err = appendEvents(ctx, tx, s.nowUTC(), id, pending); err != nil {
			return err
		}
		out = &cur
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, evs, nil
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
			x, err := scans.scan(tx.QueryRow(ctx, `SELECT `+scans.cols+` FROM scans WHERE status = '`+string(store.ScanQueued)+`'
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
	return collect(ctx, s.pool, "list held scans", `SELECT `+scans.cols+` FROM scans
		WHERE status IN (`+heldSQL+`) ORDER BY id`, nil, scans.scan)
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
