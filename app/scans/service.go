package scans

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/vegasec/vega/app/apperr"
	"github.com/vegasec/vega/app/events"
	"github.com/vegasec/vega/app/textsafe"
	"github.com/vegasec/vega/store"
	"github.com/vegasec/vega/store/blob"
)

// Queue is told about a scan that became queued (new, retried or
// re-queued by recovery): the thread dispatcher wakes a goroutine, the sqs
// dispatcher sends a message. The scan is in the store before Notify, so a
// lost notification only delays it until the next poll.
type Queue interface {
	Notify(ctx context.Context, scanID string) error
}

// EndedHook is told about a scan that reached completed or failed, after
// its terminal event was stored. It must not fail the lifecycle step: what
// goes wrong is its own to log. Webhooks enqueue their deliveries here
// (app/webhooks); no HTTP happens in this package.
type EndedHook interface {
	ScanEnded(ctx context.Context, scan *store.Scan)
}

// Options configure the service. Zero durations and counts take the
// defaults of the variables named beside them (README, "Configuration").
type Options struct {
	MaxActivePerUser int           // VEGA_MAX_ACTIVE_SCANS_PER_USER (4)
	MaxAttempts      int           // VEGA_SCAN_MAX_ATTEMPTS (2)
	HeartbeatTTL     time.Duration // VEGA_SCAN_HEARTBEAT_TTL_SECONDS (120s)
	RunningStale     time.Duration // VEGA_SCAN_RUNNING_STALE_SECONDS (6h)
	// DefaultEngines run when a request names none (VEGA_SCAN_ENGINES with
	// `auto` already resolved by the caller).
	DefaultEngines []string
	// KnownEngines are the engine names a request may ask for.
	KnownEngines []string
	// Unavailable are engines this installation knows of but cannot run,
	// with why (GET /v1/engines; a scan asking for one is refused with
	// the same text).
	Unavailable []EngineStatus
	Queue       Queue           // nil: nobody is told (scans wait for a poll)
	Events      events.Notifier // wakes live event streams (a Subscriber feeds them); may be nil
	Blobs       blob.Store      // artifacts, for downloads; nil answers 503
	// Ended hears about every scan that completed or failed (webhooks,
	// app/webhooks); nil: nobody.
	Ended  EndedHook
	Now    func() time.Time
	Logger *slog.Logger
}

// Service is the scan lifecycle (lifecycle.go) and the scan API's logic.
type Service struct {
	st  store.Store
	opt Options
}

// New returns the scan service.
func New(st store.Store, opt Options) *Service {
	opt.MaxActivePerUser = positiveOr(opt.MaxActivePerUser, 4)
	opt.MaxAttempts = positiveOr(opt.MaxAttempts, 2)
	opt.HeartbeatTTL = positiveOr(opt.HeartbeatTTL, 120*time.Second)
	opt.RunningStale = positiveOr(opt.RunningStale, 6*time.Hour)
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{st: st, opt: opt}
}

// positiveOr is v, or def where v is unset or not positive: one rule for
// every numeric option New fills in.
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// CreateInput is the body of POST /v1/repositories/:id/scans.
type CreateInput struct {
	Engines []string `json:"engines,omitempty"`
	Paths   []string `json:"paths,omitempty"`
}

const maxScopePaths = 100

// cleanScopePath validates one scope path: relative, inside the repository.
func cleanScopePath(p string) (string, bool) {
	p = strings.TrimSpace(p)
	if p == "" || len(p) > 1024 || strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
		return "", false
	}
	p = strings.TrimSuffix(strings.TrimPrefix(p, "./"), "/")
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "" {
			return "", false
		}
	}
	if p == "." {
		return "", false
	}
	return p, true
}

// EngineStatus is one engine as GET /v1/engines shows it: whether this
// installation can run it, whether a scan that names no engine runs it, and
// when it cannot run, why and how an operator enables it.
type EngineStatus struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Default   bool   `json:"default"`
	Reason    string `json:"reason,omitempty"`
	Enable    string `json:"enable,omitempty"`
}

// Engines lists every engine: the runnable ones first (sorted), then the
// unavailable ones with their reason.
func (s *Service) Engines() []EngineStatus {
	out := make([]EngineStatus, 0, len(s.opt.KnownEngines)+len(s.opt.Unavailable))
	known := slices.Clone(s.opt.KnownEngines)
	slices.Sort(known)
	for _, n := range known {
		out = append(out, EngineStatus{Name: n, Available: true, Default: slices.Contains(s.opt.DefaultEngines, n)})
	}
	for _, u := range s.opt.Unavailable {
		u.Available, u.Default = false, false
		out = append(out, u)
	}
	return out
}

func (s *Service) unavailable(name string) (EngineStatus, bool) {
	for _, u := range s.opt.Unavailable {
		if u.Name == name {
			return u, true
		}
	}
	return EngineStatus{}, false
}

func (s *Service) validate(in CreateInput) (engines, paths []string, err error) {
	problems := map[string]string{}
	seen := map[string]bool{}
	for _, e := range in.Engines {
		e = strings.ToLower(strings.TrimSpace(e))
		if !slices.Contains(s.opt.KnownEngines, e) {
			if u, ok := s.unavailable(e); ok {
				problems["engines"] = textsafe.Sprintf("engine %q is not available: %s; to enable it: %s", e, u.Reason, u.Enable)
				break
			}
			problems["engines"] = textsafe.Sprintf("unknown engine %q; available: %s", e, strings.Join(s.opt.KnownEngines, ", "))
			break
		}
		if !seen[e] {
			seen[e] = true
			engines = append(engines, e)
		}
	}
	if len(in.Engines) == 0 {
		engines = append(engines, s.opt.DefaultEngines...)
		if len(engines) == 0 {
			problems["engines"] = "no engine is available in this installation"
		}
	}
	if len(in.Paths) > maxScopePaths {
		problems["paths"] = fmt.Sprintf("at most %d paths", maxScopePaths)
	}
	seenPath := map[string]bool{}
	for _, p := range in.Paths {
		c, ok := cleanScopePath(p)
		if !ok {
			problems["paths"] = "each path must be relative to the repository root, without '..'"
			break
		}
		if !seenPath[c] {
			seenPath[c] = true
			paths = append(paths, c)
		}
	}
	if len(problems) > 0 {
		return nil, nil, apperr.Validation(problems)
	}
	if paths == nil {
		paths = []string{}
	}
	return engines, paths, nil
}

// Create queues a scan of the repository's latest snapshot with its current
// threat profile, then tells the queue. It never waits for the scan.
func (s *Service) Create(ctx context.Context, sc store.Scope, userID, repoID string, in CreateInput) (*store.Scan, error) {
	engines, paths, err := s.validate(in)
	if err != nil {
		return nil, err
	}
	repo, err := s.st.GetRepository(ctx, sc, repoID)
	if err != nil {
		return nil, apperr.NotFoundAs("Repository", repoID, err)
	}
	if repo.IngestStatus != store.IngestReady || repo.LatestSnapshotID == "" {
		return nil, apperr.Conflictf("Repository %s is %s; scans need a ready repository", repo.ID, repo.IngestStatus).
			WithDetails(map[string]any{"ingest_status": repo.IngestStatus})
	}
	profile, err := s.currentProfile(ctx, sc, repo.ID)
	if err != nil {
		return nil, err
	}
	scan := &store.Scan{RepositoryID: repo.ID, ProjectID: repo.ProjectID, OwnerUserID: repo.OwnerUserID,
		SnapshotID: repo.LatestSnapshotID, RequestedBy: userID, Engines: engines, Paths: paths, ThreatProfile: profile}
	return s.enqueue(ctx, scan)
}

// currentProfile copies the repository's threat profile content, so a later
// edit does not rewrite what this scan ran with. No profile yet is fine.
func (s *Service) currentProfile(ctx context.Context, sc store.Scope, repoID string) (*store.ThreatProfileContent, error) {
	tp, err := s.st.GetThreatProfile(ctx, sc, repoID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case tp.Status != store.ProfileReady:
		return nil, nil
	}
	c := tp.Content
	return &c, nil
}

// Get returns a scan the scope may see.
func (s *Service) Get(ctx context.Context, sc store.Scope, id string) (*store.Scan, error) {
	scan, err := s.st.GetScan(ctx, sc, id)
	return scan, apperr.NotFoundAs("Scan", id, err)
}

// ListForRepository lists a repository's scans, newest first.
func (s *Service) ListForRepository(ctx context.Context, sc store.Scope, repoID string, statuses []string, p store.Page) ([]store.Scan, string, error) {
	_, err := s.st.GetRepository(ctx, sc, repoID)
	return s.listScans(ctx, sc, apperr.NotFoundAs("Repository", repoID, err), store.ScanFilter{RepositoryID: repoID}, statuses, p)
}

// ListForProject lists the scans of every repository of a project.
func (s *Service) ListForProject(ctx context.Context, sc store.Scope, projectID string, statuses []string, p store.Page) ([]store.Scan, string, error) {
	_, err := s.st.GetProject(ctx, sc, projectID)
	return s.listScans(ctx, sc, apperr.NotFoundAs("Project", projectID, err), store.ScanFilter{ProjectID: projectID}, statuses, p)
}

// listScans is the tail both listings share: fail with lookupErr (the parent
// could not be read), else list the scans matching f and the ?status= filter.
func (s *Service) listScans(ctx context.Context, sc store.Scope, lookupErr error, f store.ScanFilter, statuses []string, p store.Page) ([]store.Scan, string, error) {
	if lookupErr != nil {
		return nil, "", lookupErr
	}
	st, err := parseStatuses(statuses)
	if err != nil {
		return nil, "", err
	}
	f.Statuses = st
	return s.st.ListScans(ctx, sc, f, p)
}

// parseStatuses reads a ?status= filter.
func parseStatuses(statuses []string) ([]store.ScanStatus, error) {
	out := make([]store.ScanStatus, 0, len(statuses))
	for _, st := range statuses {
		if !store.ScanStatus(st).Valid() {
			names := make([]string, len(store.ScanStatuses))
			for i, x := range store.ScanStatuses {
				names[i] = string(x)
			}
			return nil, apperr.Validation(map[string]string{"status": "must be a comma list of " + strings.Join(names, ", ")})
		}
		out = append(out, store.ScanStatus(st))
	}
	return out, nil
}

// Retry queues a new scan with the parameters of a finished one: the same
// snapshot, engines, scope and threat profile content, so the retry
// reproduces the original rather than scanning something else.
func (s *Service) Retry(ctx context.Context, sc store.Scope, userID, id string) (*store.Scan, error) {
	old, err := s.st.GetScan(ctx, sc, id)
	if err != nil {
		return nil, apperr.NotFoundAs("Scan", id, err)
	}
	if !old.Terminal() {
		return nil, apperr.Conflictf("Scan %s is still %s; only a finished scan can be retried", old.ID, old.Status)
	}
	if _, err := s.st.GetRepository(ctx, sc, old.RepositoryID); err != nil {
		return nil, apperr.NotFoundAs("Scan", id, err)
	}
	scan := &store.Scan{RepositoryID: old.RepositoryID, ProjectID: old.ProjectID, OwnerUserID: old.OwnerUserID,
		SnapshotID: old.SnapshotID, RequestedBy: userID, Engines: append([]string(nil), old.Engines...),
		Paths: append([]string{}, old.Paths...), ThreatProfile: old.ThreatProfile}
	return s.enqueue(ctx, scan)
}
