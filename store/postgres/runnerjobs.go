package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

var errNegativeAttempt = errors.New("postgres: negative runner job attempt")

var runnerJobs = table[store.RunnerJob]{name: "runner_jobs",
	cols: `id, scan_id, attempt, idempotency_key, ecs_task_arn, status, stopped_reason, created_at`,
	dests: func(j *store.RunnerJob) []any {
		return []any{&j.ID, &j.ScanID, &j.Attempt, &j.IdempotencyKey, &j.ECSTaskARN, &j.Status, &j.StoppedReason, &j.CreatedAt}
	}}

// CreateRunnerJob stores j; ErrConflict when the scan attempt already has a
// job, ErrNotFound when the scan does not exist.
func (s *Store) CreateRunnerJob(ctx context.Context, j *store.RunnerJob) error {
	store.Stamp(&j.ID, &j.CreatedAt, store.PrefixJob, s.nowUTC())
	if j.Attempt < 0 {
		return errNegativeAttempt
	}
	j.CreatedAt = ts(j.CreatedAt)
	return runnerJobs.create(ctx, s, "create runner job",
		j.ID, j.ScanID, j.Attempt, j.IdempotencyKey, j.ECSTaskARN, j.Status, j.StoppedReason, j.CreatedAt)
}

func (s *Store) GetRunnerJob(ctx context.Context, scanID string, attempt int) (*store.RunnerJob, error) {
	return runnerJobs.getWhere(ctx, s, "get runner job", `scan_id = $1 AND attempt = $2`, scanID, attempt)
}

func (s *Store) UpdateRunnerJob(ctx context.Context, id string, fn func(*store.RunnerJob) error) (*store.RunnerJob, error) {
	return runnerJobs.update(ctx, s, "update runner job", store.System(), id, fn,
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
