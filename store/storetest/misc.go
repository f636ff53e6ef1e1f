package storetest

import (
	"testing"
	"time"

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
	_, err = f.s.UpdateRunnerJob(f.ctx, j.ID, func(x *store.RunnerJob) error { x.Status = store.JobFailed; return errAbort })
	wantErr(t, err, errAbort, "UpdateRunnerJob callback error")
	got, err = f.s.GetRunnerJob(f.ctx, sc.ID, 1)
	must(t, err, "read back")
	if got.Status != store.JobStopped {
		t.Fatalf("aborted UpdateRunnerJob was saved")
	}
	_, err = f.s.UpdateRunnerJob(f.ctx, store.NewID(store.PrefixJob), func(*store.RunnerJob) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateRunnerJob missing")
}

func testUsageRecords(t *testing.T, f *fixture) {
	u, v := f.user(), f.user()
	base := f.tick()
	mk := func(user string, at time.Time, cost float64) *store.UsageRecord {
		r := &store.UsageRecord{ID: store.NewID(store.PrefixUsage), ScanID: "scan_x", ProjectID: "prj_x", UserID: user,
			Model: "gpt-5-codex", Usage: store.Usage{Requests: 1, InputTokens: 100, CachedInputTokens: 10, OutputTokens: 5, CostUSD: cost}, At: at}
		must(t, f.s.CreateUsageRecord(f.ctx, r), "CreateUsageRecord")
		return r
	}
	// Created out of time order on purpose: the list is ordered by At.
	late := mk(u.ID, base.Add(2*time.Hour), 0.3)
	early := mk(u.ID, base, 0.1)
	edge := mk(u.ID, base.Add(3*time.Hour), 0.4) // exactly To: excluded
	mid := mk(u.ID, base.Add(time.Hour), 0.2)
	mk(u.ID, base.Add(-time.Second), 9) // before From
	mk(v.ID, base.Add(time.Hour), 9)    // someone else

	got, err := f.s.ListUsageRecords(f.ctx, store.UsageFilter{UserID: u.ID, From: base, To: base.Add(3 * time.Hour)})
	must(t, err, "ListUsageRecords")
	sameOrder(t, []string{early.ID, mid.ID, late.ID}, ids(got, func(x store.UsageRecord) string { return x.ID }), "usage in [From, To)")
	assertSame(t, mid, &got[1], "usage record")
	got, err = f.s.ListUsageRecords(f.ctx, store.UsageFilter{UserID: u.ID, From: base.Add(3 * time.Hour), To: base.Add(4 * time.Hour)})
	must(t, err, "ListUsageRecords edge")
	sameOrder(t, []string{edge.ID}, ids(got, func(x store.UsageRecord) string { return x.ID }), "From is inclusive")
	got, err = f.s.ListUsageRecords(f.ctx, store.UsageFilter{UserID: store.NewID(store.PrefixUser), From: base, To: base.Add(time.Hour)})
	must(t, err, "ListUsageRecords unknown user")
	if len(got) != 0 {
		t.Fatalf("unknown user has %d usage records", len(got))
	}
}

func testWorkers(t *testing.T, f *fixture) {
	w := &store.Worker{ID: store.NewID(store.PrefixWorker), Hostname: "host-a", Role: "worker", Mode: "sqs+ecs", Version: "1.0.0",
		StartedAt: f.tick(), LastHeartbeatAt: f.tick(), CurrentScanIDs: []string{"scan_1"}}
	must(t, f.s.UpsertWorker(f.ctx, w), "UpsertWorker insert")
	w2 := &store.Worker{ID: store.NewID(store.PrefixWorker), Hostname: "host-b", Role: "api", Version: "1.0.0",
		StartedAt: f.tick(), LastHeartbeatAt: f.tick()}
	must(t, f.s.UpsertWorker(f.ctx, w2), "UpsertWorker insert second")

	beat := f.tick()
	w.LastHeartbeatAt, w.CurrentScanIDs = beat, []string{"scan_1", "scan_2"}
	must(t, f.s.UpsertWorker(f.ctx, w), "UpsertWorker update")
	got, err := f.s.ListWorkers(f.ctx)
	must(t, err, "ListWorkers")
	sameSet(t, []string{w.ID, w2.ID}, ids(got, func(x store.Worker) string { return x.ID }), "workers")
	for _, x := range got {
		if x.ID == w.ID {
			assertSame(t, w, &x, "upserted worker")
		}
	}
	must(t, f.s.DeleteWorker(f.ctx, w.ID), "DeleteWorker")
	wantErr(t, f.s.DeleteWorker(f.ctx, w.ID), store.ErrNotFound, "DeleteWorker twice")
	got, err = f.s.ListWorkers(f.ctx)
	must(t, err, "read back")
	sameSet(t, []string{w2.ID}, ids(got, func(x store.Worker) string { return x.ID }), "workers after delete")
}

func testGitUploads(t *testing.T, f *fixture) {
	u, v := f.user(), f.user()
	p := f.project(u.ID)
	g := &store.GitUpload{ID: store.NewID(store.PrefixGitUpload), UserID: u.ID, ProjectID: p.ID, RepositoryName: "svc",
		TokenHash: "sha256:push", ExpiresAt: f.tick().Add(time.Hour), Status: store.GitUploadWaiting, CreatedAt: f.tick()}
	must(t, f.s.CreateGitUpload(f.ctx, g), "CreateGitUpload")
	got, err := f.s.GetGitUploadByTokenHash(f.ctx, "sha256:push")
	must(t, err, "GetGitUploadByTokenHash")
	assertSame(t, g, got, "git upload (token hash must round-trip)")
	_, err = f.s.GetGitUploadByTokenHash(f.ctx, "sha256:other")
	wantErr(t, err, store.ErrNotFound, "GetGitUploadByTokenHash missing")
	got, err = f.s.GetGitUpload(f.ctx, store.OwnedBy(u.ID), g.ID)
	must(t, err, "GetGitUpload owner")
	assertSame(t, g, got, "GetGitUpload")
	_, err = f.s.GetGitUpload(f.ctx, store.OwnedBy(v.ID), g.ID)
	wantErr(t, err, store.ErrNotFound, "GetGitUpload other user")

	dup := &store.GitUpload{ID: store.NewID(store.PrefixGitUpload), UserID: v.ID, ProjectID: p.ID, RepositoryName: "x",
		TokenHash: "sha256:push", ExpiresAt: f.tick(), Status: store.GitUploadWaiting, CreatedAt: f.tick()}
	wantErr(t, f.s.CreateGitUpload(f.ctx, dup), store.ErrConflict, "CreateGitUpload duplicate token hash")

	r := f.repo(p)
	upd, err := f.s.UpdateGitUpload(f.ctx, g.ID, func(x *store.GitUpload) error {
		x.Status, x.RepositoryID = store.GitUploadReceived, r.ID
		return nil
	})
	must(t, err, "UpdateGitUpload")
	got, err = f.s.GetGitUploadByTokenHash(f.ctx, "sha256:push")
	must(t, err, "read back")
	assertSame(t, upd, got, "git upload after update")
	if got.Status != store.GitUploadReceived || got.RepositoryID != r.ID {
		t.Fatalf("git upload after update: %+v", got)
	}
	_, err = f.s.UpdateGitUpload(f.ctx, g.ID, func(x *store.GitUpload) error { x.Status = store.GitUploadExpired; return errAbort })
	wantErr(t, err, errAbort, "UpdateGitUpload callback error")
	_, err = f.s.UpdateGitUpload(f.ctx, store.NewID(store.PrefixGitUpload), func(*store.GitUpload) error { return nil })
	wantErr(t, err, store.ErrNotFound, "UpdateGitUpload missing")
}
