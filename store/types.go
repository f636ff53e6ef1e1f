// Package store holds Vega's domain types, the persistence interfaces and their
// implementations (bbolt for the local runtime, Postgres for the AWS runtime).
//
// Domain types double as the API's JSON shapes; fields that must never leave the
// server (hashes, internal keys) carry `json:"-"`.
package store

import "time"

// Groups a user can belong to.
const (
	GroupRoot     = "root"
	GroupOperator = "operator"
	GroupUser     = "user"
)

type User struct {
	ID string `json:"id"`
	// Email is how a local user (no AuthSubject) signs in, unique ignoring
	// case among local users. A user of an external identity provider
	// (Cognito) is identified by AuthSubject; their email is a copy of the
	// provider's verified address, shown only and not unique (docs/auth.md).
	Email        string     `json:"email"`
	DisplayName  string     `json:"display_name"`
	Groups       []string   `json:"groups"`
	AuthSubject  string     `json:"auth_subject,omitempty"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	LastLoginAt  *time.Time `json:"last_login_at"`
	// SessionGeneration is carried by every access and refresh token issued to
	// the user; bumping it (password change, "sign out everywhere") makes all of
	// them invalid at once. See docs/auth.md.
	SessionGeneration int64 `json:"-"`
	// SessionsEndedAt is the last "sign out everywhere". Cognito tokens cannot
	// carry the generation, so one from a sign-in at or before it is refused.
	SessionsEndedAt *time.Time `json:"-"`
}

// HasGroup reports whether the user is a member of g.
func (u *User) HasGroup(g string) bool {
	for _, x := range u.Groups {
		if x == g {
			return true
		}
	}
	return false
}

type APIKey struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
}

// RefreshSession is one refresh token. Tokens of one sign-in share a Family, so
// reuse of a rotated token revokes every descendant.
type RefreshSession struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	TokenHash string     `json:"-"`
	Family    string     `json:"family"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	CreatedAt time.Time  `json:"created_at"`
}

type Project struct {
	ID          string `json:"id"`
	OwnerUserID string `json:"owner_user_id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// IgnoreSuppressions turns the project setting honor_suppressions
	// (default on, hence stored inverted so the zero value is the default)
	// off: in-source suppressions are then not honoured and every suppressed
	// finding stays open (docs/findings.md). The API shows it as
	// honor_suppressions (app/projects).
	IgnoreSuppressions bool      `json:"-"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// OwnedTotals is what one user has stored, against the per-user quotas
// (docs/limits.md): projects, repositories and the stored bytes of their
// snapshots.
type OwnedTotals struct {
	Projects     int   `json:"projects"`
	Repositories int   `json:"repositories"`
	StoredBytes  int64 `json:"stored_bytes"`
}

// ProjectStats are the rollups shown on project cards and the project page.
type ProjectStats struct {
	RepositoryCount   int            `json:"repository_count"`
	ActiveScans       int            `json:"active_scans"`
	LastScanAt        *time.Time     `json:"last_scan_at"`
	OpenFindingCounts SeverityCounts `json:"open_finding_counts"`
}

// Repository source types.
const (
	SourceGit     = "git"
	SourceArchive = "archive"
	SourceGitPush = "git_push"
)

// Ingest statuses.
const (
	IngestPending   = "pending"
	IngestIngesting = "ingesting"
	IngestReady     = "ready"
	IngestFailed    = "failed"
)

// ErrorInfo is a machine code plus a human message, as stored on repositories and scans.
type ErrorInfo struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"` // e.g. archive_rejected's reason
}

type Repository struct {
	ID               string     `json:"id"`
	ProjectID        string     `json:"project_id"`
	OwnerUserID      string     `json:"owner_user_id"`
	Name             string     `json:"name"`
	SourceType       string     `json:"source_type"`
	GitURL           string     `json:"git_url,omitempty"`
	GitRef           string     `json:"git_ref,omitempty"`
	IngestStatus     string     `json:"ingest_status"`
	IngestError      *ErrorInfo `json:"ingest_error"`
	LatestSnapshotID string     `json:"latest_snapshot_id"`
	// PendingUploadKey is the blob key of an uploaded archive waiting to be
	// ingested; internal bookkeeping so a restart can finish or clean it up.
	PendingUploadKey string    `json:"-"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// SkippedCounts counts entries an ingest deliberately did not materialise.
type SkippedCounts struct {
	Symlinks  int `json:"symlinks"`
	Ignored   int `json:"ignored"`
	Oversized int `json:"oversized"`
	Special   int `json:"special"`
}

type Snapshot struct {
	ID           string `json:"id"`
	RepositoryID string `json:"repository_id"`
	OwnerUserID  string `json:"-"`
	StorageKey   string `json:"storage_key"`
	ManifestKey  string `json:"manifest_key"`
	CommitSHA    string `json:"commit_sha,omitempty"`
	FileCount    int    `json:"file_count"`
	TotalBytes   int64  `json:"total_bytes"`
	// StoredBytes is what the snapshot takes in blob storage (zip plus
	// manifest); it counts toward the owner's stored-bytes quota.
	StoredBytes   int64            `json:"stored_bytes"`
	Languages     map[string]int64 `json:"languages"`
	Skipped       SkippedCounts    `json:"skipped"`
	ContentSHA256 string           `json:"content_sha256"`
	CreatedAt     time.Time        `json:"created_at"`
}

// Threat profile statuses and sources.
const (
	ProfileEmpty      = "empty"
	ProfileGenerating = "generating"
	ProfileReady      = "ready"
	ProfileFailed     = "failed"

	ProfileSourceGenerated = "generated"
	ProfileSourceEdited    = "edited"
	ProfileSourceRestored  = "restored"
)

// ThreatProfileContent steers scans: focus and out_of_scope shape prompts,
// severity_threshold filters what is reported.
type ThreatProfileContent struct {
	Summary           string   `json:"summary"`
	Assets            []string `json:"assets"`
	EntryPoints       []string `json:"entry_points"`
	TrustBoundaries   []string `json:"trust_boundaries"`
	Focus             []string `json:"focus"`
	OutOfScope        []string `json:"out_of_scope"`
	SeverityThreshold string   `json:"severity_threshold"`
}

type ThreatProfile struct {
	ID           string               `json:"id"`
	RepositoryID string               `json:"repository_id"`
	OwnerUserID  string               `json:"-"`
	Status       string               `json:"status"`
	Source       string               `json:"source"`
	Content      ThreatProfileContent `json:"content"`
	Error        *ErrorInfo           `json:"error"`
	UpdatedAt    time.Time            `json:"updated_at"`
	UpdatedBy    string               `json:"updated_by"`
}

// ThreatProfileVersion is a kept copy of a ready profile's content: every
// generation result, edit and restore stores one, so a later change can be
// undone (docs/threat-profile.md). The newest MaxProfileVersions are kept.
type ThreatProfileVersion struct {
	ID           string               `json:"id"`
	RepositoryID string               `json:"repository_id"`
	OwnerUserID  string               `json:"-"`
	Source       string               `json:"source"`
	Content      ThreatProfileContent `json:"content"`
	CreatedAt    time.Time            `json:"created_at"`
	CreatedBy    string               `json:"created_by"`
}

// MaxProfileVersions is how many versions a repository's profile keeps; older
// ones are dropped when a new one is stored.
const MaxProfileVersions = 50

// ScanProgress is how far a scan is. An engine reports its own Percent
// (0–100 of that engine's work) and, for the stage it is in, Done of Total
// Units; the runner turns that into the scan's progress: Percent of the
// whole scan, which never goes down, Engine naming the reporting engine and
// Engines the state of each (docs/scan-lifecycle.md, "Progress").
type ScanProgress struct {
	Percent         int    `json:"percent"`
	Message         string `json:"message"`
	Component       string `json:"component"`
	ComponentsDone  int    `json:"components_done"`
	ComponentsTotal int    `json:"components_total"`
	Engine          string `json:"engine,omitempty"`
	Stage           string `json:"stage,omitempty"`
	Done            int    `json:"done,omitempty"`
	Total           int    `json:"total,omitempty"`
	Unit            string `json:"unit,omitempty"`
	// Engines is each engine of the scan in run order (set by the runner).
	Engines []EngineProgress `json:"engines,omitempty"`
}

// EngineProgress is one engine's part of a scan's progress.
type EngineProgress struct {
	Engine  string `json:"engine"`
	State   string `json:"state"` // pending, running, done, failed, stopped or cancelled
	Stage   string `json:"stage,omitempty"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
	Unit    string `json:"unit,omitempty"`
	Percent int    `json:"percent"`
}

// Engine progress states.
const (
	EnginePending   = "pending"
	EngineRunning   = "running"
	EngineDone      = "done"
	EngineFailed    = "failed"
	EngineStopped   = "stopped"
	EngineCancelled = "cancelled"
)

type Usage struct {
	Requests          int64   `json:"requests"`
	InputTokens       int64   `json:"input_tokens"`
	CachedInputTokens int64   `json:"cached_input_tokens"`
	OutputTokens      int64   `json:"output_tokens"`
	CostUSD           float64 `json:"cost_usd"`
}

// Add accumulates o into u.
func (u *Usage) Add(o Usage) {
	u.Requests += o.Requests
	u.InputTokens += o.InputTokens
	u.CachedInputTokens += o.CachedInputTokens
	u.OutputTokens += o.OutputTokens
	u.CostUSD += o.CostUSD
}

// Severities, highest first.
const (
	SeverityCritical = "critical"
	SeverityHigh     = "high"
	SeverityMedium   = "medium"
	SeverityLow      = "low"
	SeverityInfo     = "info"
)

// Severities lists every severity from highest to lowest.
var Severities = []string{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// FindingEngines are the engines that report findings (the Name of each
// app/engine package; a test in app/server checks they agree). A findings
// filter by engine takes only these names: an unknown one is a 400, not an
// empty list that looks like good news.
var FindingEngines = []string{"codex", "secrets"}

// SeverityRank orders severities: critical is 4, info is 0, unknown is -1.
func SeverityRank(s string) int {
	for i, x := range Severities {
		if x == s {
			return len(Severities) - 1 - i
		}
	}
	return -1
}

type SeverityCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Inc adds one to the counter of severity s (unknown severities are ignored).
func (c *SeverityCounts) Inc(s string) {
	switch s {
	case SeverityCritical:
		c.Critical++
	case SeverityHigh:
		c.High++
	case SeverityMedium:
		c.Medium++
	case SeverityLow:
		c.Low++
	case SeverityInfo:
		c.Info++
	}
}

// Total is the sum over all severities.
func (c SeverityCounts) Total() int { return c.Critical + c.High + c.Medium + c.Low + c.Info }

type Artifact struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Key  string `json:"key"`
}

// StageResult records how one engine stage went, so a stage never fails silently.
type StageResult struct {
	Engine  string      `json:"engine"`
	Stage   string      `json:"stage"`
	Status  StageStatus `json:"status"`
	Message string      `json:"message,omitempty"`
}

type Scan struct {
	ID                string                `json:"id"`
	RepositoryID      string                `json:"repository_id"`
	ProjectID         string                `json:"project_id"`
	OwnerUserID       string                `json:"-"`
	SnapshotID        string                `json:"snapshot_id"`
	RequestedBy       string                `json:"requested_by"`
	Status            ScanStatus            `json:"status"`
	Engines           []string              `json:"engines"`
	Paths             []string              `json:"paths"`
	ThreatProfile     *ThreatProfileContent `json:"threat_profile"`
	Progress          ScanProgress          `json:"progress"`
	Stages            []StageResult         `json:"stages"`
	Error             *ScanError            `json:"error"`
	StopReason        StopReason            `json:"stop_reason,omitempty"`
	Attempt           int                   `json:"attempt"`
	ClaimedBy         string                `json:"claimed_by,omitempty"`
	HeartbeatAt       *time.Time            `json:"heartbeat_at"`
	CancelRequestedAt *time.Time            `json:"cancel_requested_at"`
	// CancelRequestedBy is the user who asked to cancel (scan_cancelled's user_id).
	CancelRequestedBy string         `json:"cancel_requested_by,omitempty"`
	Usage             Usage          `json:"usage"`
	FindingCounts     SeverityCounts `json:"finding_counts"`
	Artifacts         []Artifact     `json:"artifacts"`
	CreatedAt         time.Time      `json:"created_at"`
	ClaimedAt         *time.Time     `json:"claimed_at"`
	StartedAt         *time.Time     `json:"started_at"`
	FinishedAt        *time.Time     `json:"finished_at"`
}

// Finding statuses and dismissal reasons.
const (
	FindingOpen      = "open"
	FindingConfirmed = "confirmed"
	FindingDismissed = "dismissed"
	FindingFixed     = "fixed"

	DismissFalsePositive = "false_positive"
	DismissWontFix       = "wont_fix"
	DismissAcceptedRisk  = "accepted_risk"
	DismissUsedInTests   = "used_in_tests"
	// DismissSuppressedInSource is set by Vega, never by a user: the code
	// carries a suppression (docs/findings.md, "In-source suppressions").
	DismissSuppressedInSource = "suppressed_in_source"
)

// Location is one place a finding points at. When Secret is set, the span
// from StartLine:StartColumn to EndLine:EndColumn (1-based Unicode code
// points, end inclusive) holds a detected secret, and every code view masks
// it until a logged Reveal (docs/redaction.md, "Code views").
type Location struct {
	FilePath    string `json:"file_path"`
	StartLine   int    `json:"start_line"`
	EndLine     int    `json:"end_line"`
	StartColumn int    `json:"start_column,omitempty"`
	EndColumn   int    `json:"end_column,omitempty"`
	Secret      bool   `json:"secret,omitempty"`
	Role        string `json:"role,omitempty"`
	Note        string `json:"note,omitempty"`
}

// Finding is one issue in one repository. The row is shared by every scan that
// reports the same fingerprint, so triage carries over; ScanID is the latest
// scan that reported it and ScanFinding records membership per scan.
type Finding struct {
	ID           string `json:"id"`
	ScanID       string `json:"scan_id"`
	RepositoryID string `json:"repository_id"`
	ProjectID    string `json:"project_id"`
	OwnerUserID  string `json:"-"`
	Fingerprint  string `json:"fingerprint"`
	Engine       string `json:"engine"`
	Title        string `json:"title"`
	Severity     string `json:"severity"`
	Confidence   string `json:"confidence"`
	Category     string `json:"category"`
	// RuleID is what reported it: the gitleaks rule for the secrets engine,
	// the category for Codex (docs/findings.md).
	RuleID          string     `json:"rule_id"`
	CWE             []string   `json:"cwe"`
	FilePath        string     `json:"file_path"`
	StartLine       int        `json:"start_line"`
	EndLine         int        `json:"end_line"`
	Description     string     `json:"description"`
	Evidence        string     `json:"evidence"`
	Recommendation  string     `json:"recommendation"`
	Locations       []Location `json:"locations"`
	Status          string     `json:"status"`
	DismissedReason string     `json:"dismissed_reason,omitempty"`
	TriageNote      string     `json:"triage_note,omitempty"`
	// Suppression is the in-source suppression covering the finding in its
	// latest scan, nil when there is none (docs/findings.md).
	Suppression     *Suppression `json:"suppression,omitempty"`
	FirstSeenScanID string       `json:"first_seen_scan_id"`
	LastSeenScanID  string       `json:"last_seen_scan_id"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
}

// Suppression kinds (docs/findings.md, "In-source suppressions").
const (
	SuppressGitleaksAllow  = "gitleaks_allow" // "gitleaks:allow" on the line
	SuppressGitleaksIgnore = "gitleaksignore" // an entry in the root .gitleaksignore
	SuppressVegaIgnore     = "vega_ignore"    // "vega:ignore" on or directly above the line
)

// Suppression is where the scanned source asks for a finding to be ignored.
// Text is the comment or entry, redacted and capped like evidence.
type Suppression struct {
	Kind     string `json:"kind"`
	FilePath string `json:"file_path"`
	Line     int    `json:"line"`
	Text     string `json:"text"`
	RuleID   string `json:"rule_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// ScanFinding says that scan ScanID reported finding FindingID under the
// engine-local Key (within a scan, a later report under the same key updates the same
// finding; docs/findings.md).
type ScanFinding struct {
	ScanID    string `json:"scan_id"`
	Key       string `json:"key"`
	FindingID string `json:"finding_id"`
}

type FindingHistory struct {
	ID         string    `json:"id"`
	FindingID  string    `json:"finding_id"`
	Actor      string    `json:"actor"`
	FromStatus string    `json:"from_status"`
	ToStatus   string    `json:"to_status"`
	Reason     string    `json:"reason,omitempty"`
	Note       string    `json:"note,omitempty"`
	At         time.Time `json:"at"`
}

// FindingTimeline is a finding's current state and its recent status
// changes (FindingStore.FindingTimelines).
type FindingTimeline struct {
	ID           string         `json:"id"`
	RepositoryID string         `json:"repository_id"`
	Severity     string         `json:"severity"`
	Status       string         `json:"status"`
	Changes      []StatusChange `json:"changes"`
}

// StatusChange is one status change of a finding; From is "" for the entry
// that created it.
type StatusChange struct {
	From string    `json:"from"`
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

// Runner job statuses.
const (
	JobPending = "pending"
	JobRunning = "running"
	JobStopped = "stopped"
	JobFailed  = "failed"
)

type RunnerJob struct {
	ID             string    `json:"id"`
	ScanID         string    `json:"scan_id"`
	Attempt        int       `json:"attempt"`
	IdempotencyKey string    `json:"idempotency_key"`
	ECSTaskARN     string    `json:"ecs_task_arn"`
	Status         string    `json:"status"`
	StoppedReason  string    `json:"stopped_reason"`
	CreatedAt      time.Time `json:"created_at"`
}

type UsageRecord struct {
	ID        string    `json:"id"`
	ScanID    string    `json:"scan_id"`
	ProjectID string    `json:"project_id"`
	UserID    string    `json:"user_id"`
	Model     string    `json:"model"`
	Usage               // requests, tokens, cost
	At        time.Time `json:"at"`
}

type Worker struct {
	ID              string    `json:"id"`
	Hostname        string    `json:"hostname"`
	Role            string    `json:"role"`
	Version         string    `json:"version"`
	StartedAt       time.Time `json:"started_at"`
	LastHeartbeatAt time.Time `json:"last_heartbeat_at"`
	CurrentScanIDs  []string  `json:"current_scan_ids"`
	// Mode is how the worker takes and runs scans: the execution mode, and
	// where runs happen ("thread+local", "external+local", "sqs+ecs", …).
	Mode string `json:"mode"`
}

// Git upload statuses.
const (
	GitUploadWaiting  = "waiting"
	GitUploadReceived = "received"
	GitUploadExpired  = "expired"
)

type GitUpload struct {
	ID             string    `json:"id"`
	UserID         string    `json:"user_id"`
	ProjectID      string    `json:"project_id"`
	RepositoryName string    `json:"repository_name"`
	TokenHash      string    `json:"-"`
	ExpiresAt      time.Time `json:"expires_at"`
	Status         string    `json:"status"`
	RepositoryID   string    `json:"repository_id"`
	CreatedAt      time.Time `json:"created_at"`
}
