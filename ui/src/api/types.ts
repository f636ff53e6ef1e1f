// JSON shapes of the Vega API. They mirror store/types.go (the domain types are
// the API's wire format) plus the few response envelopes of docs/architecture.md, "API conventions".
// Timestamps are RFC 3339 strings; optional server fields are `| null`.

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

export type Confidence = 'high' | 'medium' | 'low';

export interface User {
  id: string;
  email: string;
  display_name: string;
  groups: string[];
  auth_subject?: string;
  created_at: string;
  last_login_at: string | null;
}

export interface ApiKey {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
}

/** POST /v1/api-keys answers the key plus its secret, shown exactly once. */
export interface CreatedApiKey extends ApiKey {
  secret: string;
}

export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  info: number;
}

export interface Project {
  id: string;
  owner_user_id: string;
  name: string;
  description: string;
  created_at: string;
  updated_at: string;
  // In-source suppressions are recorded as dismissals (default true);
  // false, suppressed findings stay open (docs/findings.md).
  honor_suppressions: boolean;
  // ProjectStats, added by GET /v1/projects/:id and on list items.
  repository_count?: number;
  active_scans?: number;
  last_scan_at?: string | null;
  open_finding_counts?: SeverityCounts;
}

export type SourceType = 'git' | 'archive' | 'git_push';
export type IngestStatus = 'pending' | 'ingesting' | 'ready' | 'failed';

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface Repository {
  id: string;
  project_id: string;
  owner_user_id: string;
  name: string;
  source_type: SourceType;
  git_url?: string;
  git_ref?: string;
  ingest_status: IngestStatus;
  ingest_error: ErrorInfo | null;
  latest_snapshot_id: string;
  created_at: string;
  updated_at: string;
}

export interface SkippedCounts {
  symlinks: number;
  ignored: number;
  oversized: number;
  special: number;
}

export interface Snapshot {
  id: string;
  repository_id: string;
  storage_key: string;
  manifest_key: string;
  commit_sha?: string;
  file_count: number;
  total_bytes: number;
  /** Bytes the snapshot takes in storage (zip + manifest); counts toward the owner's quota. */
  stored_bytes: number;
  languages: Record<string, number> | null;
  skipped: SkippedCounts;
  content_sha256: string;
  created_at: string;
}

export type ProfileStatus = 'empty' | 'generating' | 'ready' | 'failed';

export interface ThreatProfileContent {
  summary: string;
  assets: string[] | null;
  entry_points: string[] | null;
  trust_boundaries: string[] | null;
  focus: string[] | null;
  out_of_scope: string[] | null;
  severity_threshold: string;
}

export interface ThreatProfile {
  id: string;
  repository_id: string;
  status: ProfileStatus;
  source: ProfileSource;
  content: ThreatProfileContent;
  error: ErrorInfo | null;
  updated_at: string;
  updated_by: string;
}

export type ProfileSource = 'generated' | 'edited' | 'restored' | '';

/** A kept copy of a ready profile: every generation result, edit and restore (newest 50). */
export interface ThreatProfileVersion {
  id: string;
  repository_id: string;
  source: ProfileSource;
  content: ThreatProfileContent;
  created_at: string;
  created_by: string;
}

/** One scan engine as GET /v1/engines reports it. */
export interface EngineStatus {
  name: string;
  /** Whether this installation can run the engine. */
  available: boolean;
  /** Whether a scan that names no engine runs it. */
  default: boolean;
  /** Why the engine cannot run (only when available is false). */
  reason?: string;
  /** What an operator sets or installs to enable it (only when available is false). */
  enable?: string;
}

export type ScanStatus = 'queued' | 'claimed' | 'running' | 'completed' | 'failed' | 'cancelled';
export const ACTIVE_SCAN_STATUSES: readonly ScanStatus[] = ['queued', 'claimed', 'running'];

export type StopReason = 'budget_exceeded' | 'timeout' | 'cancelled' | 'error' | 'interrupted';

/** One engine's part of a scan's progress (docs/scan-lifecycle.md, "Progress"). */
export interface EngineProgress {
  engine: string;
  state: 'pending' | 'running' | 'done' | 'failed' | 'stopped' | string;
  stage?: string;
  done: number;
  total: number;
  unit?: string;
  percent: number;
}

export interface ScanProgress {
  /** The whole scan, 0–100; never goes down. */
  percent: number;
  message: string;
  component: string;
  components_done: number;
  components_total: number;
  /** The engine that reported last, its stage and done / total units. */
  engine?: string;
  stage?: string;
  done?: number;
  total?: number;
  unit?: string;
  engines?: EngineProgress[];
}

/** What a scan changed since the previous complete scan of its repository. */
export interface ScanChanges {
  /** Absent when there is no previous complete scan: everything is new. */
  base_scan_id?: string;
  new: number;
  fixed: number;
  unchanged: number;
}

export interface TrendDay {
  date: string;
  counts: SeverityCounts;
}

export interface RepositoryRollup {
  id: string;
  name: string;
  open_counts: SeverityCounts;
  last_scan: { id: string; status: ScanStatus; created_at: string; finished_at: string | null } | null;
}

/** GET /v1/projects/:id/overview and /v1/repositories/:id/overview. */
export interface Overview {
  open_counts: SeverityCounts;
  trend: TrendDay[];
  repositories: RepositoryRollup[];
}

export interface Usage {
  requests: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

export interface Artifact {
  name: string;
  size: number;
  key: string;
  /** Download link added by GET /v1/scans/:id; may be absent. */
  url?: string;
}

export interface StageResult {
  engine: string;
  stage: string;
  status: 'succeeded' | 'failed' | 'skipped' | string;
  message?: string;
}

export interface Scan {
  id: string;
  repository_id: string;
  project_id: string;
  snapshot_id: string;
  requested_by: string;
  status: ScanStatus;
  engines: string[] | null;
  paths: string[] | null;
  threat_profile: ThreatProfileContent | null;
  progress: ScanProgress;
  stages: StageResult[] | null;
  error: ErrorInfo | null;
  stop_reason?: StopReason | '';
  attempt: number;
  claimed_by?: string;
  heartbeat_at: string | null;
  cancel_requested_at: string | null;
  /** The user who asked to cancel (docs/scan-lifecycle.md). */
  cancel_requested_by?: string;
  usage: Usage;
  finding_counts: SeverityCounts;
  artifacts: Artifact[] | null;
  /** Download links for the artifacts (GET /v1/scans/:id): an API path locally, a presigned URL on S3. */
  downloads?: { name: string; size: number; url: string }[];
  /** GET /v1/scans/:id and a repository's scan list. */
  changes?: ScanChanges;
  created_at: string;
  claimed_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export function isTerminal(status: ScanStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

export type EventKind =
  | 'scan_started'
  | 'scan_progress'
  | 'scan_log'
  | 'finding_updated'
  | 'usage'
  | 'scan_completed'
  | 'scan_failed'
  | 'scan_cancelled';

export const EVENT_KINDS: readonly EventKind[] = [
  'scan_started',
  'scan_progress',
  'scan_log',
  'finding_updated',
  'usage',
  'scan_completed',
  'scan_failed',
  'scan_cancelled',
];

export interface ScanEvent {
  scan_id: string;
  seq: number;
  kind: EventKind | string;
  payload: Record<string, unknown>;
  created_at: string;
}

export type FindingStatus = 'open' | 'confirmed' | 'dismissed' | 'fixed';
export const FINDING_STATUSES: readonly FindingStatus[] = ['open', 'confirmed', 'dismissed', 'fixed'];

export type DismissedReason = 'false_positive' | 'wont_fix' | 'accepted_risk' | 'used_in_tests';
export const DISMISSED_REASONS: readonly DismissedReason[] = [
  'false_positive',
  'wont_fix',
  'accepted_risk',
  'used_in_tests',
];

// Set by Vega, never chosen by a user: the code suppresses the finding.
export type SystemDismissedReason = 'suppressed_in_source';

export type SuppressionKind = 'gitleaks_allow' | 'gitleaksignore' | 'vega_ignore';

// Where the scanned source suppresses a finding (docs/findings.md).
export interface Suppression {
  kind: SuppressionKind;
  file_path: string;
  line: number;
  text: string;
  rule_id?: string;
  reason?: string;
}

export interface Location {
  file_path: string;
  start_line: number;
  end_line: number;
  /** With secret: the detected secret's span, 1-based code point columns, end inclusive. */
  start_column?: number;
  end_column?: number;
  /** The span holds a detected secret: every code view masks it (docs/redaction.md). */
  secret?: boolean;
  role?: string;
  note?: string;
}

/** A secret's place in shown lines (file line numbers, code point columns, end inclusive). */
export interface SecretSpan {
  start_line: number;
  start_column: number;
  end_line: number;
  end_column: number;
  /** The text there is already the server's mask: style it, do not mask again. */
  masked?: boolean;
}

/** One location of a finding with the code around it (GET /v1/findings/:id/occurrences). */
export interface Occurrence extends Location {
  index: number;
  from_line: number;
  lines: string[];
  spans: SecretSpan[];
  masked: boolean;
  truncated?: boolean;
  missing?: 'not_in_snapshot' | 'binary' | 'out_of_range' | string;
}

export interface OccurrencePage {
  items: Occurrence[];
  total: number;
  offset: number;
  limit: number;
  snapshot_id: string;
}

export interface OccurrenceQuery {
  offset?: number;
  limit?: number;
  context?: number;
}

/** A finding's place in one file (GET /v1/repositories/:id/findings/in-file). */
export interface FileMark extends Location {
  finding_id: string;
  title: string;
  severity: Severity;
  status: FindingStatus;
}

export interface FileMarks {
  path: string;
  items: FileMark[];
  complete: boolean;
}

export interface Finding {
  id: string;
  scan_id: string;
  repository_id: string;
  project_id: string;
  fingerprint: string;
  engine: string;
  title: string;
  severity: Severity;
  confidence: Confidence | string;
  category: string;
  /** gitleaks rule ID for the secrets engine, the category for Codex. */
  rule_id: string;
  cwe: string[] | null;
  file_path: string;
  start_line: number;
  end_line: number;
  description: string;
  evidence: string;
  recommendation: string;
  locations: Location[] | null;
  status: FindingStatus;
  dismissed_reason?: DismissedReason | SystemDismissedReason | '';
  triage_note?: string;
  suppression?: Suppression;
  first_seen_scan_id: string;
  last_seen_scan_id: string;
  created_at: string;
  updated_at: string;
}

export interface FindingHistory {
  id: string;
  finding_id: string;
  actor: string;
  from_status: string;
  to_status: string;
  reason?: string;
  note?: string;
  at: string;
}

export interface Worker {
  id: string;
  hostname: string;
  role: string;
  version: string;
  started_at: string;
  last_heartbeat_at: string;
  current_scan_ids: string[] | null;
}

/** Per-user caps (VEGA_MAX_*_PER_USER); 0 means unlimited. */
export interface PerUserLimits {
  max_projects: number;
  max_repositories: number;
  max_stored_bytes: number;
}

/** What one user has against the per-user caps. */
export interface OwnedTotals {
  projects: number;
  repositories: number;
  stored_bytes: number;
}

/** GET /v1/ops/limits: modes and limits in force (the rest varies by runtime), the per-user caps and the caller's usage. */
export interface OpsLimits {
  per_user: PerUserLimits;
  usage: OwnedTotals;
  [setting: string]: unknown;
}

export interface GitUpload {
  id: string;
  remote_url: string;
  expires_at: string;
  status?: 'waiting' | 'received' | 'expired';
  repository_id?: string;
  project_id?: string;
  repository_name?: string;
}

// ---- envelopes and request/response bodies (docs/architecture.md) ----

export interface ListPage<T> {
  items: T[];
  next_cursor: string | null;
  total?: number;
}

export interface ErrorEnvelope {
  schema_version: number;
  error: {
    code: string;
    message: string;
    retryable: boolean;
    details?: Record<string, unknown> | null;
    request_id?: string;
  };
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  user: User;
}

/** Public sign-in settings; they never carry a credential. */
export type AuthConfig =
  | { provider: 'custom' }
  | { provider: 'cognito'; cognito: { domain: string; client_id: string; region: string } };

/** /config.json: where the API is ('' = same origin) and, optionally, how to sign in (else GET /v1/auth/config). */
export interface RuntimeConfig {
  api_base_url: string;
  auth?: AuthConfig;
}

export interface TreeEntry {
  name: string;
  path: string;
  type: 'file' | 'dir';
  size: number;
}

export interface TreeListing {
  path: string;
  entries: TreeEntry[];
}

export interface FileContent {
  path: string;
  size: number;
  content: string;
  truncated: boolean;
  language: string;
}

export interface UsageRow extends Usage {
  key: string;
  label: string;
}

export interface UsageReport {
  totals: Usage;
  rows: UsageRow[];
}

export type UsageGroupBy = 'day' | 'project' | 'scan';

export interface TriageRequest {
  status: FindingStatus;
  dismissed_reason?: DismissedReason;
  note?: string;
}

/** Keys of ?sort=; prefix "-" for descending (default "-severity", then path). */
export type FindingSortKey = 'severity' | 'path' | 'rule' | 'first_seen' | 'last_seen' | 'status';
export type FindingSort = FindingSortKey | `-${FindingSortKey}`;
export type FindingChange = 'new' | 'fixed' | 'unchanged';

/** Query parameters of a findings list; severity, status, engine and rule are comma lists. */
export interface FindingFilters {
  severity?: string;
  status?: string;
  engine?: string;
  rule?: string;
  path_prefix?: string;
  cwe?: string;
  q?: string;
  scan_id?: string;
  sort?: FindingSort;
}

/** Findings per status for the filter without its status: the numbers on the status tabs. */
export interface FindingStatusCounts {
  open: number;
  confirmed: number;
  dismissed: number;
  fixed: number;
}

/** One page of a findings list (sorted on the server before paging). */
export interface FindingListPage extends ListPage<Finding> {
  total: number;
  counts: FindingStatusCounts;
  /** For ?change=: the previous complete scan compared with (absent: none, all is new). */
  base_scan_id?: string;
}

/** A findings list grouped by rule. */
export interface RuleGroup {
  rule_id: string;
  /** Highest severity among the rule's findings. */
  severity: Severity;
  count: number;
  counts: Record<Severity, number>;
}

export interface RuleGroupList {
  items: RuleGroup[];
  total: number;
}

/** Scope plus the list's filters: what POST /v1/findings/bulk-triage applies to. */
export interface BulkTriageFilter extends FindingFilters {
  repository_id?: string;
  project_id?: string;
  change?: FindingChange;
}

/**
 * Findings a bulk triage changed that had the same triage before it, read in
 * the transaction that changed them. Sent back as a bulk triage by `ids`, a
 * restorable group undoes the change; an unrestorable one had a state only
 * Vega sets (fixed, or dismissed as suppressed_in_source).
 */
export type BulkTriagePrevious =
  | { ids: string[]; restorable: true; status: FindingStatus; dismissed_reason?: DismissedReason; note?: string }
  | { ids: string[]; restorable: false; status: FindingStatus; dismissed_reason?: DismissedReason | SystemDismissedReason; note?: string };

export interface BulkTriageResult {
  matched: number;
  changed: number;
  unchanged: number;
  not_found: string[];
  /** The changed findings grouped by what they had before (note only when the request set one): what Undo sends back. */
  previous: BulkTriagePrevious[];
}

export type ExportFormat = 'sarif' | 'csv' | 'json';

/** Events a webhook can subscribe to (docs/webhooks.md); webhook.test is what "Send test" delivers. */
export type WebhookEvent = 'scan.completed' | 'scan.failed' | 'finding.new';

/** A project's webhook (GET /v1/projects/{id}/webhooks); its secret is never returned after creation. */
export interface Webhook {
  id: string;
  project_id: string;
  owner_user_id: string;
  url: string;
  events: WebhookEvent[];
  min_severity: Severity;
  format: 'json' | 'slack';
  description: string;
  created_at: string;
}

/** POST /v1/projects/{id}/webhooks answers the webhook plus its signing secret, shown exactly once. */
export interface CreatedWebhook extends Webhook {
  secret: string;
}

export interface WebhookInput {
  url: string;
  events: WebhookEvent[];
  min_severity?: Severity;
  format?: 'json' | 'slack';
  description?: string;
}

/** One POST of a delivery. response_code 0: no HTTP answer (refused, timed out). */
export interface DeliveryAttempt {
  at: string;
  duration_ms: number;
  response_code: number;
  error?: string;
}

export interface WebhookDelivery {
  id: string;
  webhook_id: string;
  project_id: string;
  owner_user_id: string;
  event: WebhookEvent | 'webhook.test';
  payload: unknown;
  status: 'pending' | 'succeeded' | 'failed';
  next_attempt_at: string;
  attempts: DeliveryAttempt[] | null;
  created_at: string;
  updated_at: string;
}
