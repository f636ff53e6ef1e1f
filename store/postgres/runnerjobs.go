package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/vegasec/vega/store"
)

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
	store.Stamp(&j.ID, &j.CreatedAt, store.PrefixJob, s.nowUTC())
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
