// Package ops is what operators see and do: workers and their heartbeats,
// queue depth, the limits in force, stale-scan recovery and cleanup of what
// crashed or expired work left behind (expired uploads, refresh sessions,
// orphaned blobs). `vega maintenance` and the /v1/ops routes share it.
package ops

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/vegasec/vega/app/config"
	"github.com/vegasec/vega/app/scans"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// Recoverer re-queues or fails stale scans (app/scans).
type Recoverer interface {
	Recover(ctx context.Context, now time.Time) (scans.RecoverResult, error)
}

type Service struct {
	st    store.Store
	blobs blob.Store
	cfg   *config.Config
	rec   Recoverer
	now   func() time.Time
	log   *slog.Logger
}

func New(st store.Store, blobs blob.Store, cfg *config.Config, rec Recoverer, log *slog.Logger) *Service {
	return &Service{st: st, blobs: blobs, cfg: cfg, rec: rec, now: time.Now, log: log}
}

// WorkerView is a registered worker with its staleness.
type WorkerView struct {
	store.Worker
	Stale            bool    `json:"stale"`
	HeartbeatAgeSecs float64 `json:"heartbeat_age_seconds"`
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
		out = append(out, WorkerView{Worker: w, Stale: age > s.cfg.WorkerHeartbeatTTL, HeartbeatAgeSecs: age.Seconds()})
	}
	return out, nil
}

// Limits are the limits in force, as configured.
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
}

func (s *Service) Limits() Limits {
	c := s.cfg
	return Limits{ExecutionMode: c.ScanExecutionMode, WorkerExecutionMode: c.ScanWorkerExecutionMode, ThreadConcurrency: c.ThreadConcurrency,
		MaxActiveScansPerUser: c.MaxActiveScansPerUser, ScanMaxAttempts: c.ScanMaxAttempts,
		ScanHeartbeatSeconds: int(c.ScanHeartbeat.Seconds()), ScanHeartbeatTTLSeconds: int(c.ScanHeartbeatTTL.Seconds()),
		ScanRunningStaleSeconds: int(c.ScanRunningStale.Seconds()), MaxSourceBytes: c.MaxSourceBytes, MaxArchiveEntries: c.MaxArchiveEntries,
		MaxArchiveFileBytes: c.MaxArchiveFileBytes, MaxArchiveUncompressed: c.MaxArchiveUncompressedBytes, CodexConcurrency: c.CodexConcurrency,
		LLMMaxRequestsPerScan: c.LLMProxyMaxRequestsPerScan, LLMMaxTokensPerScan: c.LLMProxyMaxTokensPerScan, LLMMaxCostUSDPerScan: c.LLMProxyMaxCostUSDPerScan}
}

// Queue is the depth of the scan queue.
type Queue struct {
	Counts                 map[string]int `json:"counts"`
	OldestQueuedAt         *time.Time     `json:"oldest_queued_at"`
	OldestQueuedAgeSeconds float64        `json:"oldest_queued_age_seconds"`
}

// Queue counts active scans by status (terminal scans are history, not queue).
func (s *Service) Queue(ctx context.Context) (*Queue, error) {
	q := &Queue{Counts: map[string]int{}}
	for _, status := range store.ActiveScanStatuses {
		q.Counts[status] = 0
		for page := (store.Page{Limit: store.MaxLimit}); ; {
			items, next, err := s.st.ListScans(ctx, store.System(), store.ScanFilter{Statuses: []string{status}}, page)
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

// CleanupResult says what Cleanup removed.
type CleanupResult struct {
	ExpiredRefreshSessions int      `json:"expired_refresh_sessions"`
	OrphanedBlobs          int      `json:"orphaned_blobs"`
	Errors                 []string `json:"errors"`
}

// Cleanup removes expired refresh sessions and the blobs whose rows are gone (left by
// a crash between deleting rows and deleting files, or by failed uploads).
func (s *Service) Cleanup(ctx context.Context) (*CleanupResult, error) {
	res := &CleanupResult{Errors: []string{}}
	now := s.now()
	n, err := s.st.DeleteExpiredRefreshSessions(ctx, now)
	if err != nil {
		return nil, err
	}
	res.ExpiredRefreshSessions = n
	if res.OrphanedBlobs, err = s.sweepBlobs(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// sweepBlobs deletes blobs under snapshots/, uploads/ and scans/ whose owner
// row no longer exists. An upload is kept while its repository still waits
// for it.
func (s *Service) sweepBlobs(ctx context.Context, res *CleanupResult) (int, error) {
	removed := 0
	note := func(key string, err error) {
		if err != nil {
			res.Errors = append(res.Errors, "delete "+key+": failed")
			s.log.Warn("cleanup: delete blob", "key", key, "err", err)
		} else {
			removed++
		}
	}
	repoGone := map[string]bool{}
	repoCheck := func(id string) (*store.Repository, bool, error) {
		if gone, ok := repoGone[id]; ok && gone {
			return nil, true, nil
		}
		r, err := s.st.GetRepository(ctx, store.System(), id)
		if errors.Is(err, store.ErrNotFound) {
			repoGone[id] = true
			return nil, true, nil
		}
		return r, false, err
	}
	keys, err := s.blobs.List(ctx, "snapshots/")
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		parts := strings.SplitN(strings.TrimPrefix(k, "snapshots/"), "/", 2)
		if _, gone, err := repoCheck(parts[0]); err != nil {
			return removed, err
		} else if gone {
			note(k, s.blobs.Delete(ctx, k))
		}
	}
	if keys, err = s.blobs.List(ctx, "uploads/"); err != nil {
		return removed, err
	}
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, "uploads/"), ".archive")
		r, gone, err := repoCheck(id)
		if err != nil {
			return removed, err
		}
		// A staged upload whose request died before the row was written is
		// an orphan too, but only once it is old enough not to be in flight.
		if gone && !s.recentUpload(ctx, k) || (!gone && r.PendingUploadKey != k) {
			note(k, s.blobs.Delete(ctx, k))
		}
	}
	if keys, err = s.blobs.List(ctx, "scans/"); err != nil {
		return removed, err
	}
	scanGone := map[string]bool{}
	for _, k := range keys {
		id := strings.SplitN(strings.TrimPrefix(k, "scans/"), "/", 2)[0]
		gone, seen := scanGone[id]
		if !seen {
			_, err := s.st.GetScan(ctx, store.System(), id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return removed, err
			}
			gone = errors.Is(err, store.ErrNotFound)
			scanGone[id] = gone
		}
		if gone {
			note(k, s.blobs.Delete(ctx, k))
		}
	}
	return removed, nil
}

// recentUpload reports whether a staged upload may still be in flight: its
// repository ID (a ULID) was minted less than an hour ago.
func (s *Service) recentUpload(ctx context.Context, key string) bool {
	id := strings.TrimSuffix(strings.TrimPrefix(key, "uploads/"), ".archive")
	t, ok := store.IDTime(id)
	return ok && s.now().Sub(t) < time.Hour
}
