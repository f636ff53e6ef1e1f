// Package ops is what operators see and do: workers and their heartbeats,
// queue depth, the limits in force (with the caller's use of the per-user
// quotas), stale-scan recovery and cleanup of what crashed or expired work
// left behind (stale staged uploads, partial writes, refresh sessions,
// orphaned blobs). `vega maintenance` and the /v1/ops routes share it.
package ops

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/vegasec/vega/app/quota"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// Recoverer re-queues or fails stale scans (app/scans).
type Recoverer interface {
	Recover(ctx context.Context, now time.Time) (scans.RecoverResult, error)
}

// Options configure the service; the composition root (app/server) fills
// them from the configuration.
type Options struct {
	// WorkerHeartbeatTTL is how old a worker's heartbeat may be before the
	// worker is shown as stale (VEGA_WORKER_HEARTBEAT_TTL_SECONDS).
	WorkerHeartbeatTTL time.Duration
	// InForce are the limits reported by Limits, as configured; PerUser and
	// Usage are filled per call from Quotas.
	InForce Limits
	Quotas  *quota.Checker
	Logger  *slog.Logger
}

type Service struct {
	st     store.Store
	blobs  blob.Store
	opt    Options
	rec    Recoverer
	quotas *quota.Checker
	now    func() time.Time
	log    *slog.Logger
}

func New(st store.Store, blobs blob.Store, rec Recoverer, opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{st: st, blobs: blobs, opt: opt, rec: rec, quotas: opt.Quotas, now: time.Now, log: opt.Logger}
}

// WorkerView is a registered worker with its staleness and, in the ecs
// mode, the runner tasks it watches.
type WorkerView struct {
	store.Worker
	Stale            bool         `json:"stale"`
	HeartbeatAgeSecs float64      `json:"heartbeat_age_seconds"`
	Tasks            []RunnerTask `json:"tasks"`
}

// RunnerTask is the ECS task of a scan a worker watches. TaskID is the last
// part of the task's ARN: what `aws ecs describe-tasks --tasks` and the
// runner's log stream (runner/runner/<task ID>) take; the account and
// cluster stay out of the API.
type RunnerTask struct {
	ScanID  string `json:"scan_id"`
	Attempt int    `json:"attempt"`
	TaskID  string `json:"task_id"`
	Status  string `json:"status"`
}

func (s *Service) Workers(ctx context.Context) ([]WorkerView, error) {
	ws, err := s.st.ListWorkers(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]WorkerView, 0, len(ws))
	for _, w := range ws {
		age := now.Sub(w.LastHeartbeatAt)
		out = append(out, WorkerView{Worker: w, Stale: age > s.opt.WorkerHeartbeatTTL, HeartbeatAgeSecs: age.Seconds(),
			Tasks: s.tasks(ctx, w.CurrentScanIDs)})
	}
	return out, nil
}

// Limits are the limits in force, as configured, with the caller's own use of
// the per-user quotas (0 = unlimited).
type Limits struct {
	ExecutionMode           string  `json:"execution_mode"`
	WorkerExecutionMode     string  `json:"worker_execution_mode"`
	ThreadConcurrency       int     `json:"thread_concurrency"`
	MaxActiveScansPerUser   int     `json:"max_active_scans_per_user"`
	ScanMaxAttempts         int     `json:"scan_max_attempts"`
	ScanHeartbeatSeconds    int     `json:"scan_heartbeat_seconds"`
	ScanHeartbeatTTLSeconds int     `json:"scan_heartbeat_ttl_seconds"`
	ScanRunningStaleSeconds int     `json:"scan_running_stale_seconds"`
	MaxSourceBytes          int64   `json:"max_source_bytes"`
	MaxArchiveEntries       int     `json:"max_archive_entries"`
	MaxArchiveFileBytes     int64   `json:"max_archive_file_bytes"`
	MaxArchiveUncompressed  int64   `json:"max_archive_uncompressed_bytes"`
	CodexConcurrency        int     `json:"codex_concurrency"`
	LLMMaxRequestsPerScan   int64   `json:"llm_max_requests_per_scan"`
	LLMMaxTokensPerScan     int64   `json:"llm_max_tokens_per_scan"`
	LLMMaxCostUSDPerScan    float64 `json:"llm_max_cost_usd_per_scan"`
	// PerUser are the quotas every user is held to and Usage what the
	// caller has against them now.
	PerUser quota.Limits      `json:"per_user"`
	Usage   store.OwnedTotals `json:"usage"`
}

// Limits reports the limits in force and userID's usage of the per-user quotas.
func (s *Service) Limits(ctx context.Context, userID string) (*Limits, error) {
	usage, err := s.quotas.Totals(ctx, userID)
	if err != nil {
		return nil, err
	}
	lim := s.opt.InForce
	lim.PerUser, lim.Usage = s.quotas.Limits(), usage
	return &lim, nil
}

// Queue is the depth of the scan queue.
type Queue struct {
	Counts                 map[store.ScanStatus]int `json:"counts"`
	OldestQueuedAt         *time.Time               `json:"oldest_queued_at"`
	OldestQueuedAgeSeconds float64                  `json:"oldest_queued_age_seconds"`
}

// Queue counts active scans by status (terminal scans are history, not queue).
func (s *Service) Queue(ctx context.Context) (*Queue, error) {
	q := &Queue{Counts: map[store.ScanStatus]int{}}
	for _, status := range store.ActiveScanStatuses {
		q.Counts[status] = 0
		for page := (store.Page{Limit: store.MaxLimit}); ; {
			items, next, err := s.st.ListScans(ctx, store.System(), store.ScanFilter{Statuses: []store.ScanStatus{status}}, page)
			if err != nil {
				return nil, err
			}
			q.Counts[status] += len(items)
			if status == store.ScanQueued {
				for _, sc := range items { // newest first: the last seen is the oldest
					t := sc.CreatedAt
					q.OldestQueuedAt = &t
				}
			}
			if next == "" {
				break
			}
			page.Cursor = next
		}
	}
	if q.OldestQueuedAt != nil {
		q.OldestQueuedAgeSeconds = s.now().Sub(*q.OldestQueuedAt).Seconds()
	}
	return q, nil
}

// Recover runs stale-scan recovery now.
func (s *Service) Recover(ctx context.Context) (scans.RecoverResult, error) {
	return s.rec.Recover(ctx, s.now())
}

// StagedUploadMaxAge is how long an upload staged under uploads/ may wait for
// a repository to point at it. One request stages and attaches it, and a
// request must arrive within the API's 10-minute read timeout, so an older
// upload no waiting repository points at is abandoned: a request that died
// between the two steps, or a crash (docs/limits.md). The same age applies
// to partial writes a killed process left behind.
const StagedUploadMaxAge = time.Hour

// CleanupResult says what Cleanup removed.
type CleanupResult struct {
	ExpiredRefreshSessions int `json:"expired_refresh_sessions"`
	// OrphanedBlobs are snapshots and scan artifacts whose rows are gone.
	OrphanedBlobs int `json:"orphaned_blobs"`
	// StaleUploads are staged uploads older than StagedUploadMaxAge that no
	// pending or ingesting repository points at.
	StaleUploads int `json:"stale_uploads"`
	// PartialWrites are unfinished blob writes (of a killed process) older
	// than StagedUploadMaxAge.
	PartialWrites int `json:"partial_writes"`
	// OldWebhookDeliveries are delivered or abandoned webhook deliveries
	// older than WebhookDeliveryRetention (docs/webhooks.md).
	OldWebhookDeliveries int      `json:"old_webhook_deliveries"`
	Errors               []string `json:"errors"`
}

// WebhookDeliveryRetention is how long the delivery log keeps a settled
// delivery.
const WebhookDeliveryRetention = 30 * 24 * time.Hour

// partialSweeper is a blob store whose interrupted writes leave files behind
// (blob.Local's temporary files). S3 needs none: an unfinished multipart
// upload is not an object, and a bucket lifecycle rule aborts it.
type partialSweeper interface {
	RemoveStalePartials(ctx context.Context, before time.Time) (int, error)
}

// Cleanup removes expired refresh sessions, stale staged uploads, partial
// writes, and the blobs whose rows are gone (left by a crash between deleting
// rows and deleting files).
func (s *Service) Cleanup(ctx context.Context) (*CleanupResult, error) {
	res := &CleanupResult{Errors: []string{}}
	now := s.now()
	n, err := s.st.DeleteExpiredRefreshSessions(ctx, now)
	if err != nil {
		return nil, err
	}
	res.ExpiredRefreshSessions = n
	if res.OldWebhookDeliveries, err = s.st.DeleteSettledWebhookDeliveries(ctx, now.Add(-WebhookDeliveryRetention)); err != nil {
		return nil, err
	}
	if err := s.sweepBlobs(ctx, res); err != nil {
		return nil, err
	}
	if err := s.sweepUploads(ctx, res); err != nil {
		return nil, err
	}
	if ps, ok := s.blobs.(partialSweeper); ok {
		if res.PartialWrites, err = ps.RemoveStalePartials(ctx, now.Add(-StagedUploadMaxAge)); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// deleteBlob deletes one key for a sweep, counting it or noting the failure.
func (s *Service) deleteBlob(ctx context.Context, res *CleanupResult, key string, count *int) {
	if err := s.blobs.Delete(ctx, key); err != nil {
		res.Errors = append(res.Errors, "delete "+key+": failed")
		s.log.Warn("cleanup: delete blob", "key", key, "err", err)
		return
	}
	*count++
}

// sweepBlobs deletes blobs under snapshots/ and scans/ whose owner row no
// longer exists.
func (s *Service) sweepBlobs(ctx context.Context, res *CleanupResult) error {
	repoGone := map[string]bool{}
	repoCheck := func(id string) (bool, error) {
		if gone, ok := repoGone[id]; ok {
			return gone, nil
		}
		_, err := s.st.GetRepository(ctx, store.System(), id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		repoGone[id] = err != nil
		return err != nil, nil
	}
	keys, err := s.blobs.List(ctx, blob.SnapshotsPrefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if gone, err := repoCheck(blob.ParseKey(k).ID); err != nil {
			return err
		} else if gone {
			s.deleteBlob(ctx, res, k, &res.OrphanedBlobs)
		}
	}
	if keys, err = s.blobs.List(ctx, blob.ScansPrefix); err != nil {
		return err
	}
	scanGone := map[string]bool{}
	for _, k := range keys {
		id := blob.ParseKey(k).ID
		gone, seen := scanGone[id]
		if !seen {
			_, err := s.st.GetScan(ctx, store.System(), id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			gone = errors.Is(err, store.ErrNotFound)
			scanGone[id] = gone
		}
		if gone {
			s.deleteBlob(ctx, res, k, &res.OrphanedBlobs)
		}
	}
	return nil
}

// sweepUploads deletes staged uploads that no pending or ingesting
// repository points at, once they are older than StagedUploadMaxAge: an
// upload refused after it was staged, a request that died before its
// repository was written, or a process killed in between. An upload still
// streaming is a partial write, not a key, and one being ingested is pointed
// at, so neither is touched.
func (s *Service) sweepUploads(ctx context.Context, res *CleanupResult) error {
	waiting, err := s.st.ListRepositoriesByIngestStatus(ctx, []string{store.IngestPending, store.IngestIngesting})
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	for _, r := range waiting {
		wanted[r.PendingUploadKey] = true
	}
	keys, err := s.blobs.List(ctx, blob.UploadsPrefix)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if !wanted[k] && !s.recentUpload(k) {
			s.deleteBlob(ctx, res, k, &res.StaleUploads)
		}
	}
	return nil
}

// recentUpload reports whether a staged upload may still be about to be
// attached: the ID it was staged under (a ULID, minted when its request began
// streaming) is younger than StagedUploadMaxAge.
func (s *Service) recentUpload(key string) bool {
	t, ok := store.IDTime(blob.ParseKey(key).ID)
	return ok && s.now().Sub(t) < StagedUploadMaxAge
}

// tasks lists the recorded runner tasks of the scans a worker holds.
func (s *Service) tasks(ctx context.Context, scanIDs []string) []RunnerTask {
	out := []RunnerTask{}
	for _, id := range scanIDs {
		scan, err := s.st.GetScan(ctx, store.System(), id)
		if err != nil {
			continue
		}
		j, err := s.st.GetRunnerJob(ctx, id, scan.Attempt)
		if err != nil {
			continue
		}
		task := j.ECSTaskARN
		if i := strings.LastIndexByte(task, '/'); i >= 0 {
			task = task[i+1:]
		}
		out = append(out, RunnerTask{ScanID: id, Attempt: j.Attempt, TaskID: task, Status: j.Status})
	}
	return out
}
