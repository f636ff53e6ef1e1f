package storetest

import (
	"testing"

	"github.com/vegasec/vega/store"
)

func testRunnerJobs(t *testing.T, f *fixture) {
	u := f.user()
	sc := f.scan(f.repo(f.project(u.ID)), store.ScanClaimed)
	j := &store.RunnerJob{ID: store.NewID(store.PrefixJob), ScanID: sc.ID, Attempt: 1, IdempotencyKey: sc.ID + "-1",
		Status: store.JobPending, CreatedAt: f.tick()}
	must(t, f.s.CreateRunnerJob(f.ctx, j), "CreateRunnerJob")
	got, err := f.s.GetRunnerJob(f.ctx, sc.ID, 1)
	must(t, err, "GetRunnerJob")
	assertSame(t, j, got, "GetRunnerJob")
	_, err = f.s.GetRunnerJob(f.ctx, sc.ID, 2)
	wantErr(t, err, store.ErrNotFound, "GetRunnerJob other attempt")

	dup := &store.RunnerJob{ID: store.NewID(store.PrefixJob), ScanID: sc.ID, Attempt: 1, IdempotencyKey: "x",
		Status: store.JobPending, CreatedAt: f.tick()}
	wantErr(t, f.s.CreateRunnerJob(f.ctx, dup), store.ErrConflict, "second job for the same attempt")
	j2 := &store.RunnerJob{ID: store.NewID(store.PrefixJob), ScanID: sc.ID, Attempt: 2, IdempotencyKey: sc.ID + "-2",
		Status: store.JobPending, CreatedAt: f.tick()}
	must(t, f.s.CreateRunnerJob(f.ctx, j2), "CreateRunnerJob attempt 2")

	upd, err := f.s.UpdateRunnerJob(f.ctx, j.ID, func(x *store.RunnerJob) error {
		x.Status, x.ECSTaskARN, x.StoppedReason = store.JobStopped, "arn:aws:ecs:eu-west-1:1:task/c/abc", "Essential container exited"
		return nil
	})
	must(t, err, "UpdateRunnerJob")
	got, err = f.s.GetRunnerJob(f.ctx, sc.ID, 1)
	must(t, err, "read back")
	assertSame(t, upd, got, "runner job after update")
	checkAbortedUpdate(t, "UpdateRunnerJob", func() (*store.RunnerJob, error) { return f.s.GetRunnerJob(f.ctx, sc.ID, 1) },
		func(fn func(*store.RunnerJob) error) (*store.RunnerJob, error) {
			return f.s.UpdateRunnerJob(f.ctx, j.ID, fn)
		},
		func(x *store.RunnerJob) { x.Status = store.JobFailed })
	_, err = f.s.UpdateRunnerJob(f.ctx, store.NewID(store.PrefixJob), func(*store.RunnerJob) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateRunnerJob missing")
}
