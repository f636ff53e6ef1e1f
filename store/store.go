package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns (wrapped or bare) so services can map
// them without knowing which database is underneath.
var (
	// ErrNotFound: no such object, or it belongs to someone else.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule or a conditional update did not hold.
	ErrConflict = errors.New("store: conflict")
	// ErrLimitReached: a create that checks a count (CreateScanWithin) found
	// no room left.
	ErrLimitReached = errors.New("store: limit reached")
)

// Scope says whose objects a call may see. The zero Scope sees nothing, so a
// forgotten owner fails closed instead of leaking another user's data.
type Scope struct {
	userID string
	system bool
}

// OwnedBy scopes a call to the objects of one user.
func OwnedBy(userID string) Scope { return Scope{userID: userID} }

// System is for internal callers (runners, recovery, ops) that act on any object.
func System() Scope { return Scope{system: true} }

// Allows reports whether an object owned by owner is visible in this scope.
func (s Scope) Allows(owner string) bool {
	return s.system || (s.userID != "" && s.userID == owner)
}

// IsSystem reports whether the scope is unrestricted.
func (s Scope) IsSystem() bool { return s.system }

// UserID is the owner this scope is restricted to ("" for System).
func (s Scope) UserID() string { return s.userID }

// Page asks for one page of a list. Lists are ordered newest first by ID
// (IDs are time-ordered), and Cursor is the last ID of the previous page.
type Page struct {
	Limit  int
	Cursor string
}

// DefaultLimit and MaxLimit bound every list (docs/architecture.md, "API conventions").
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Normalize clamps the limit to [1, MaxLimit], defaulting to DefaultLimit.
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultLimit
	}
	if p.Limit > MaxLimit {
		p.Limit = MaxLimit
	}
	return p
}

type UserStore interface {
	// CreateUser stores u; ErrConflict when its subject is taken or, for a
	// local user (no subject), its email is taken by another local user.
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByEmail finds the local user (no subject) with that email, ignoring case.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	GetUserBySubject(ctx context.Context, subject string) (*User, error)
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (*User, error)
	DeleteUser(ctx context.Context, id string) error
	ListUsers(ctx context.Context, p Page) ([]User, string, error)
}

type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	GetAPIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListAPIKeys(ctx context.Context, userID string, p Page) ([]APIKey, string, error)
	DeleteAPIKey(ctx context.Context, userID, id string) error
	// DeleteUserAPIKeys deletes every key of the user and says how many there were.
	DeleteUserAPIKeys(ctx context.Context, userID string) (int, error)
	// TouchAPIKeys records last use for many keys at once (coalesced by the caller).
	TouchAPIKeys(ctx context.Context, lastUsed map[string]time.Time) error
}

type RefreshSessionStore interface {
	CreateRefreshSession(ctx context.Context, s *RefreshSession) error
	GetRefreshSessionByHash(ctx context.Context, hash string) (*RefreshSession, error)
	// RotateRefreshSession revokes oldID and stores next in one step. It returns
	// ErrConflict when oldID was already revoked: the caller treats that as reuse.
	RotateRefreshSession(ctx context.Context, oldID string, next *RefreshSession, now time.Time) error
	RevokeRefreshFamily(ctx context.Context, family string, now time.Time) error
	// GetLiveRefreshSession returns the family's session that is not revoked
	// (there is at most one: rotation revokes the old one as it adds the new);
	// ErrNotFound when the family has none.
	GetLiveRefreshSession(ctx context.Context, family string) (*RefreshSession, error)
	// RevokeUserRefreshSessions revokes every live session of the user.
	RevokeUserRefreshSessions(ctx context.Context, userID string, now time.Time) error
	// GetSessionUser returns the user when family still has a live (not
	// revoked, not expired at now) session of that user, and ErrNotFound
	// otherwise. It runs on every request made with an access token, so it is
	// one indexed read.
	GetSessionUser(ctx context.Context, userID, family string, now time.Time) (*User, error)
	DeleteExpiredRefreshSessions(ctx context.Context, before time.Time) (int, error)
}

type ProjectStore interface {
	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, sc Scope, id string) (*Project, error)
	ListProjects(ctx context.Context, sc Scope, p Page) ([]Project, string, error)
	UpdateProject(ctx context.Context, sc Scope, id string, fn func(*Project) error) (*Project, error)
	// DeleteProject removes the project and every row under it. Blobs are the caller's job.
	DeleteProject(ctx context.Context, sc Scope, id string) error
	ProjectStats(ctx context.Context, sc Scope, id string) (ProjectStats, error)
}

type RepositoryStore interface {
	CreateRepository(ctx context.Context, r *Repository) error
	GetRepository(ctx context.Context, sc Scope, id string) (*Repository, error)
	ListRepositories(ctx context.Context, sc Scope, projectID string, p Page) ([]Repository, string, error)
	// ListRepositoriesByIngestStatus finds work left behind by a crash.
	ListRepositoriesByIngestStatus(ctx context.Context, statuses []string) ([]Repository, error)
	UpdateRepository(ctx context.Context, sc Scope, id string, fn func(*Repository) error) (*Repository, error)
	// DeleteRepository removes the repository and its snapshots, profile, scans,
	// events and findings. Blobs are the caller's job.
	DeleteRepository(ctx context.Context, sc Scope, id string) error
}

type SnapshotStore interface {
	CreateSnapshot(ctx context.Context, s *Snapshot) error
	GetSnapshot(ctx context.Context, sc Scope, id string) (*Snapshot, error)
	ListSnapshots(ctx context.Context, sc Scope, repositoryID string, p Page) ([]Snapshot, string, error)
}

type ThreatProfileStore interface {
	// GetThreatProfile returns ErrNotFound when the repository has none yet.
	GetThreatProfile(ctx context.Context, sc Scope, repositoryID string) (*ThreatProfile, error)
	// PutThreatProfile creates or replaces the profile. A ready profile is
	// also kept as a ThreatProfileVersion in the same write, and versions
	// beyond MaxProfileVersions are dropped, oldest first.
	PutThreatProfile(ctx context.Context, tp *ThreatProfile) error
	// ListThreatProfileVersions returns the kept versions, newest first.
	ListThreatProfileVersions(ctx context.Context, sc Scope, repositoryID string) ([]ThreatProfileVersion, error)
	// GetThreatProfileVersion returns ErrNotFound unless the version belongs
	// to the repository and sc may see it.
	GetThreatProfileVersion(ctx context.Context, sc Scope, repositoryID, versionID string) (*ThreatProfileVersion, error)
}

// ScanFilter narrows ListScans; empty fields match everything.
type ScanFilter struct {
	ProjectID    string
	RepositoryID string
	Statuses     []ScanStatus
}

type ScanStore interface {
	CreateScan(ctx context.Context, s *Scan) error
	GetScan(ctx context.Context, sc Scope, id string) (*Scan, error)
	ListScans(ctx context.Context, sc Scope, f ScanFilter, p Page) ([]Scan, string, error)
	CountActiveScans(ctx context.Context, userID string) (int, error)
	// CreateScanWithin is CreateScan when the owner has fewer than maxActive
	// active scans, checked and inserted atomically across every process
	// sharing the store: N concurrent calls against room for k create exactly
	// k. Otherwise it creates nothing and returns ErrLimitReached. It returns
	// the owner's active count seen before the insert either way.
	CreateScanWithin(ctx context.Context, s *Scan, maxActive int) (active int, err error)
	// UpdateScan runs fn on the current row and saves the result atomically: no
	// other UpdateScan or ClaimNextScan interleaves. An error from fn aborts the
	// update and is returned as is. The state machine lives in fn (app/scans).
	UpdateScan(ctx context.Context, sc Scope, id string, fn func(*Scan) error) (*Scan, error)
	// UpdateScanEmit is UpdateScan whose fn also returns the events the change
	// emits; the scan and its events are stored in one transaction, so a
	// crash never leaves a status without its event (a scan completed with no
	// scan_completed). The events get seqs as AppendEvents gives them and are
	// returned with them.
	UpdateScanEmit(ctx context.Context, sc Scope, id string, fn func(*Scan) ([]Event, error)) (*Scan, []Event, error)
	// ClaimNextScan picks the oldest queued scan (by created_at, then ID), runs
	// claim on it and saves the result, atomically: two concurrent calls never
	// pick the same scan, and a concurrent UpdateScan of it waits or is waited
	// for. What a claim writes is app/scans' rule, passed in as claim; an error
	// from claim aborts and is returned as is. ErrNotFound when none is queued.
	ClaimNextScan(ctx context.Context, claim func(*Scan) error) (*Scan, error)
	// ListHeldScans returns every claimed or running scan (HeldScanStatuses),
	// oldest first. Recovery picks the stale ones by app/scans' rule; there are
	// never more of them than runners.
	ListHeldScans(ctx context.Context) ([]Scan, error)
}

type EventStore interface {
	// AppendEvents assigns the next gap-free seqs of the scan to evs (in order),
	// stores them in one transaction and returns them with Seq and CreatedAt set.
	AppendEvents(ctx context.Context, scanID string, evs []Event) ([]Event, error)
	ListEvents(ctx context.Context, scanID string, afterSeq int64, limit int) ([]Event, error)
}

// FindingFilter narrows ListFindings and CountFindings; empty fields match everything.
type FindingFilter struct {
	ProjectID    string
	RepositoryID string
	ScanID       string // findings the scan reported (via ScanFinding)
	Severities   []string
	Statuses     []string
	Engines      []string
	Rules        []string // rule_id, exact
	PathPrefix   string
	CWE          string
	Query        string // case-insensitive substring of title, description, path or rule_id
	// AlsoInScanID and NotInScanID narrow further to findings that scan did
	// (or did not) report: a scan compared with the one before it.
	AlsoInScanID string
	NotInScanID  string
	// Sort orders ListFindings (the other calls ignore it); see FindingSort.
	Sort FindingSort
}

type FindingStore interface {
	CreateFinding(ctx context.Context, f *Finding) error
	GetFinding(ctx context.Context, sc Scope, id string) (*Finding, error)
	GetFindingByFingerprint(ctx context.Context, repositoryID, fingerprint string) (*Finding, error)
	UpdateFinding(ctx context.Context, sc Scope, id string, fn func(*Finding) error) (*Finding, error)
	ListFindings(ctx context.Context, sc Scope, f FindingFilter, p Page) ([]Finding, string, error)
	CountFindings(ctx context.Context, sc Scope, f FindingFilter) (SeverityCounts, error)
	// CountFindingsByStatus counts the findings matching f per status,
	// ignoring f.Statuses: the tabs of a list, each with the other filters.
	CountFindingsByStatus(ctx context.Context, sc Scope, f FindingFilter) (StatusCounts, error)
	// ListFindingRules groups the findings matching f by rule_id, ordered
	// as SortRuleGroups does.
	ListFindingRules(ctx context.Context, sc Scope, f FindingFilter) ([]RuleGroup, error)
	// FindingIDs returns the IDs of at most limit findings matching f, newest first.
	FindingIDs(ctx context.Context, sc Scope, f FindingFilter, limit int) ([]string, error)
	// TriageFindings runs fn on each listed finding sc may see and, in one
	// transaction, saves the triage fields (Status, DismissedReason,
	// TriageNote, UpdatedAt) of those for which fn returns a history entry,
	// and the entries. fn returning nil leaves the finding unchanged; other
	// fields fn edits are not saved. fn may be given only the finding's
	// scalar fields (bbolt patches the triage members of each record
	// without decoding CWE, locations, suppression, description, evidence
	// or recommendation). fn runs once per visible finding, inside the
	// transaction, on the finding as that transaction holds it (locked
	// against other writers): what fn reads before editing is what the saved
	// change replaces (a bulk triage's Undo data, app/findings/bulk.go). It
	// returns how many changed and the IDs that are missing or not visible
	// in sc.
	TriageFindings(ctx context.Context, sc Scope, ids []string, fn func(*Finding) *FindingHistory) (int, []string, error)
	// PutScanFinding records that a scan reported a finding under a key (idempotent).
	PutScanFinding(ctx context.Context, sf ScanFinding) error
	// GetScanFinding returns the finding ID a scan recorded under key, or ErrNotFound.
	GetScanFinding(ctx context.Context, scanID, key string) (string, error)
	AppendFindingHistory(ctx context.Context, h *FindingHistory) error
	ListFindingHistory(ctx context.Context, findingID string) ([]FindingHistory, error)
	// FindingTimelines returns every finding matching f (its repository,
	// severity and current status) with the status changes recorded at or
	// after since, oldest first: enough to tell the status each had at any
	// moment since then (docs/findings.md, "Trend"). f.Sort is ignored.
	FindingTimelines(ctx context.Context, sc Scope, f FindingFilter, since time.Time) ([]FindingTimeline, error)
}

type RunnerJobStore interface {
	CreateRunnerJob(ctx context.Context, j *RunnerJob) error
	GetRunnerJob(ctx context.Context, scanID string, attempt int) (*RunnerJob, error)
	UpdateRunnerJob(ctx context.Context, id string, fn func(*RunnerJob) error) (*RunnerJob, error)
}

// UsageFilter selects usage records of one user in [From, To).
type UsageFilter struct {
	UserID string
	From   time.Time
	To     time.Time
}

type UsageStore interface {
	CreateUsageRecord(ctx context.Context, r *UsageRecord) error
	ListUsageRecords(ctx context.Context, f UsageFilter) ([]UsageRecord, error)
}

type WorkerStore interface {
	UpsertWorker(ctx context.Context, w *Worker) error
	ListWorkers(ctx context.Context) ([]Worker, error)
	DeleteWorker(ctx context.Context, id string) error
}

type QuotaStore interface {
	// OwnedTotals counts the user's projects and repositories and sums the
	// StoredBytes of their snapshots. It reads only that user's index entries,
	// so quota checks stay cheap however many other users there are.
	OwnedTotals(ctx context.Context, userID string) (OwnedTotals, error)
}

type GitUploadStore interface {
	CreateGitUpload(ctx context.Context, g *GitUpload) error
	GetGitUpload(ctx context.Context, sc Scope, id string) (*GitUpload, error)
	GetGitUploadByTokenHash(ctx context.Context, hash string) (*GitUpload, error)
	UpdateGitUpload(ctx context.Context, id string, fn func(*GitUpload) error) (*GitUpload, error)
}

// Store is everything Vega persists. One implementation per database.
type Store interface {
	UserStore
	APIKeyStore
	RefreshSessionStore
	ProjectStore
	RepositoryStore
	SnapshotStore
	ThreatProfileStore
	ScanStore
	EventStore
	FindingStore
	RunnerJobStore
	ScanQueueStore
	UsageStore
	WorkerStore
	GitUploadStore
	QuotaStore
	WebhookStore

	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// ScanIDs lists the IDs of every scan matching f, page by page (for cleanup
// of what a deletion leaves in blob storage).
func ScanIDs(ctx context.Context, st ScanStore, sc Scope, f ScanFilter) ([]string, error) {
	scans, err := All(ctx, func(ctx context.Context, p Page) ([]Scan, string, error) { return st.ListScans(ctx, sc, f, p) })
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range scans {
		ids = append(ids, s.ID)
	}
	return ids, nil
}
