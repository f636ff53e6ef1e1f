package server

import (
	"strings"
	"testing"
	"time"

	"github.com/vegasec/vega/store"
)

// /v1/ops/workers shows each worker's mode and the runner tasks it watches,
// by task ID: the account and cluster in the ARN stay out of the API.
func TestOpsWorkersShowModeAndTasks(t *testing.T) {
	h, root := scanHarness(t)
	repoID := h.ingestedRepo(root, "ops", "app", map[string]string{"main.py": "print(1)\n"})
	scanID := h.startScan(root, repoID, map[string]any{"engines": []string{"secrets"}})
	// Settled, so its attempt no longer moves.
	h.waitScan(root, scanID, 3*time.Minute)
	ctx := t.Context()
	scan, err := h.env.Store.GetScan(ctx, store.System(), scanID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	w := &store.Worker{ID: store.NewID(store.PrefixWorker), Hostname: "ip-10-0-1-2", Role: "worker", Mode: "sqs+ecs",
		StartedAt: now, LastHeartbeatAt: now, CurrentScanIDs: []string{scanID}}
	if err := h.env.Store.UpsertWorker(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := h.env.Store.CreateRunnerJob(ctx, &store.RunnerJob{ScanID: scanID, Attempt: scan.Attempt, IdempotencyKey: scanID + "-x",
		ECSTaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/vega-prod/0f1e2d3c4b5a", Status: store.JobRunning}); err != nil {
		t.Fatal(err)
	}
	r := h.do("GET", "/v1/ops/workers", root, nil)
	if r.Status != 200 || strings.Contains(string(r.Body), "arn:aws") || strings.Contains(string(r.Body), "123456789012") {
		t.Fatalf("workers: %d %s", r.Status, r.Body)
	}
	for _, it := range r.JSON(t)["items"].([]any) {
		v := it.(map[string]any)
		if v["id"] != w.ID {
			continue
		}
		tasks := v["tasks"].([]any)
		if v["mode"] != "sqs+ecs" || len(tasks) != 1 {
			t.Fatalf("worker: %v", v)
		}
		task := tasks[0].(map[string]any)
		if task["scan_id"] != scanID || task["task_id"] != "0f1e2d3c4b5a" || task["status"] != "running" || task["attempt"] != float64(scan.Attempt) {
			t.Fatalf("task: %v", task)
		}
		return
	}
	t.Fatalf("worker %s not listed: %s", w.ID, r.Body)
}
