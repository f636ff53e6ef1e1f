// The one typed client for the Vega API (docs/architecture.md, "API conventions"). Every screen goes through it so
// that bearer tokens, the error envelope and refresh-on-401 are handled in one
// place. It has no global state: the app creates one instance at boot.
import type {
  ApiKey,
  AuthConfig,
  CreatedApiKey,
  ErrorEnvelope,
  ExportFormat,
  FileContent,
  FileMarks,
  OccurrencePage,
  OccurrenceQuery,
  Finding,
  FindingFilters,
  FindingListPage,
  FindingChange,
  RuleGroupList,
  BulkTriageFilter,
  BulkTriageResult,
  EngineStatus,
  FindingHistory,
  GitUpload,
  ListPage,
  OpsLimits,
  Project,
  Repository,
  Overview,
  Scan,
  ScanEvent,
  Snapshot,
  ThreatProfile,
  ThreatProfileContent,
  ThreatProfileVersion,
  TokenResponse,
  TreeListing,
  TriageRequest,
  UsageGroupBy,
  UsageReport,
  User,
  Worker,
  Webhook,
  WebhookDelivery,
  WebhookInput,
  CreatedWebhook,
} from './types';

/** An API failure as the server described it (or as close as we can tell). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;
  readonly requestId: string;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    retryable?: boolean;
    details?: Record<string, unknown> | null;
    requestId?: string;
  }) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable ?? false;
    this.details = init.details ?? {};
    this.requestId = init.requestId ?? '';
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** A human sentence for any thrown value, safe to render. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    const fields = e.code === 'validation_failed' ? describeDetails(e.details) : '';
    return fields ? `${e.message} (${fields})` : e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

function describeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ');
}

/** Turns a non-2xx response into an ApiError, reading the error envelope (docs/architecture.md) when present. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  const requestId = res.headers.get('X-Request-ID') ?? '';
  let text = '';
  try {
    text = await res.text();
  } catch {
    // body unreadable: fall through to the generic error below
  }
  try {
    const env = JSON.parse(text) as Partial<ErrorEnvelope>;
    if (env && typeof env === 'object' && env.error && typeof env.error.code === 'string') {
      return new ApiError({
        status: res.status,
        code: env.error.code,
        message: env.error.message || `Request failed (${res.status})`,
        retryable: env.error.retryable,
        details: env.error.details ?? {},
        requestId: env.error.request_id || requestId,
      });
    }
  } catch {
    // not JSON: a proxy or load balancer answered
  }
  return new ApiError({
    status: res.status,
    code: genericCode(res.status),
    message: `Request failed with HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
    retryable: res.status >= 500,
    requestId,
  });
}

function genericCode(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 429:
      return 'rate_limited';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'bad_request';
  }
}

/**
 * The session as this page holds it, in memory only: nothing token-like is
 * ever written to localStorage or sessionStorage, where any script on the page
 * could read it. With the built-in provider, refreshToken is empty: the
 * refresh token lives in an HttpOnly cookie the server sets (docs/auth.md),
 * and a reload restores the session through it. Cognito's refresh token is
 * kept here, so a reload goes back through the hosted UI.
 */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

/** Where the session's tokens live. */
export interface TokenStore {
  load(): TokenPair | null;
  save(tokens: TokenPair | null): void;
  /** False when a page load need not try to restore a session (none was left behind). */
  mayRestore?(): boolean;
}

/** The key of the signed-in marker: a bare "1", never a token. */
export const SESSION_FLAG_KEY = 'vega.signed-in';

type FlagStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * Keeps tokens in memory, for as long as the page lives. Given a storage, it
 * also records there whether a session exists (a bare "1"), so a page load
 * only asks the server to restore one when one was left behind, instead of
 * sending a doomed refresh on every signed-out visit.
 */
export class MemoryTokenStore implements TokenStore {
  private tokens: TokenPair | null;
  constructor(
    initial: TokenPair | null = null,
    private readonly flag?: FlagStorage,
  ) {
    this.tokens = initial;
  }
  load() {
    return this.tokens;
  }
  save(tokens: TokenPair | null) {
    this.tokens = tokens;
    try {
      if (tokens) this.flag?.setItem(SESSION_FLAG_KEY, '1');
      else this.flag?.removeItem(SESSION_FLAG_KEY);
    } catch {
      // storage disabled: every load then tries to restore
    }
  }
  mayRestore() {
    try {
      return !this.flag || this.flag.getItem(SESSION_FLAG_KEY) === '1';
    } catch {
      return true;
    }
  }
}

/** Earlier versions kept the session here; it is removed on start. */
export const LEGACY_SESSION_KEY = 'vega.session';

export function forgetLegacySession(storage: Pick<Storage, 'removeItem'> | undefined = globalThis.localStorage) {
  try {
    storage?.removeItem(LEGACY_SESSION_KEY);
  } catch {
    // storage disabled: nothing was stored either
  }
}

/**
 * Exchanges the current session for a new pair (the custom provider's cookie,
 * or Cognito's refresh token); current is null when the page holds nothing.
 */
export type Refresher = (current: TokenPair | null) => Promise<TokenPair>;

/**
 * Runs fn while holding a lock shared by every tab of this origin. Refresh
 * tokens rotate, and a second refresh with the cookie the first one just
 * replaced would look like theft and end the session, so tabs take turns.
 */
export async function withRefreshLock<T>(fn: () => Promise<T>, locks: LockManager | undefined = globalThis.navigator?.locks): Promise<T> {
  return locks ? await locks.request('vega.refresh', fn) : fn();
}

export interface ApiClientOptions {
  /** "" means same origin. */
  baseUrl: string;
  tokens: TokenStore;
  fetch?: typeof fetch;
  /** Defaults to POST /v1/auth/refresh with the cookie (custom provider). */
  refresher?: Refresher;
  /** Called once when a 401 could not be cured by a refresh. */
  onSessionExpired?: () => void;
  /** Constructs XMLHttpRequest for uploads; injectable for tests. */
  xhr?: () => XMLHttpRequest;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** false for the auth endpoints that must not carry or refresh a token. */
  auth?: boolean;
  /** Send cookies even to another origin (the refresh cookie on the auth endpoints). */
  withCookies?: boolean;
}

export interface ListParams {
  limit?: number;
  cursor?: string | null;
}

export interface DownloadedFile {
  blob: Blob;
  filename: string;
}

export const SESSION_EXPIRED_MESSAGE = 'Your session has expired';

export class ApiClient {
  readonly baseUrl: string;
  private readonly tokens: TokenStore;
  private readonly fetchImpl: typeof fetch;
  private refresher: Refresher;
  private readonly onSessionExpired: () => void;
  private readonly makeXhr: () => XMLHttpRequest;
  // Concurrent 401s share one refresh: refresh tokens rotate, so a second
  // refresh with the same token would look like reuse and revoke the family.
  // withRefreshLock does the same across tabs.
  private refreshing: Promise<TokenPair | null> | null = null;

  constructor(opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.tokens = opts.tokens;
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.refresher = opts.refresher ?? (() => this.refreshCustom());
    this.onSessionExpired = opts.onSessionExpired ?? (() => undefined);
    this.makeXhr = opts.xhr ?? (() => new XMLHttpRequest());
  }

  setRefresher(r: Refresher) {
    this.refresher = r;
  }

  url(path: string, query?: Query): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null || v === '') continue;
      qs.set(k, String(v));
    }
    const s = qs.toString();
    return `${this.baseUrl}${path}${s ? `?${s}` : ''}`;
  }

  hasSession(): boolean {
    return this.tokens.load() !== null;
  }

  /** Whether an earlier page load of this browser left a session behind (the signed-in marker). */
  hadSession(): boolean {
    return this.tokens.mayRestore?.() ?? false;
  }

  /** The pair this page holds (Cognito's sign-out revokes its refresh token). */
  session(): TokenPair | null {
    return this.tokens.load();
  }

  accessToken(): string | null {
    return this.tokens.load()?.accessToken ?? null;
  }

  setSession(tokens: TokenPair | null) {
    this.tokens.save(tokens);
  }

  /** Sends one request; on 401 refreshes once and retries, else ends the session. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (!text) return undefined as T;
    return JSON.parse(text) as T;
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<Response> {
    const auth = opts.auth !== false;
    const attempt = (token: string | null) => {
      const headers: Record<string, string> = { Accept: 'application/json' };
      let body: BodyInit | undefined;
      if (opts.body instanceof FormData) body = opts.body;
      else if (opts.body !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(opts.body);
      }
      if (auth && token) headers.Authorization = `Bearer ${token}`;
      const init: RequestInit = { method, headers, body, signal: opts.signal };
      if (opts.withCookies) init.credentials = 'include';
      return this.fetchImpl(this.url(path, opts.query), init);
    };
    const before = auth ? this.tokens.load() : null;
    let res = await attempt(before?.accessToken ?? null);
    if (res.status === 401 && auth) {
      const renewed = before ? await this.refreshOnce(before) : null;
      if (renewed) res = await attempt(renewed.accessToken);
      if (res.status === 401) {
        this.expire();
        throw new ApiError({ status: 401, code: 'unauthorized', message: SESSION_EXPIRED_MESSAGE });
      }
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  /**
   * Returns fresh tokens, or null when the session cannot be renewed. used is
   * the pair a request failed with (null: the page holds no session yet).
   */
  refreshOnce(used: TokenPair | null): Promise<TokenPair | null> {
    // Another request may already have renewed the pair we used.
    const current = this.tokens.load();
    if (current && used && current.accessToken !== used.accessToken) return Promise.resolve(current);
    if (!this.refreshing) {
      this.refreshing = this.refresher(current)
        .then((pair) => {
          this.tokens.save(pair);
          return pair;
        })
        .catch(() => null)
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  private expire() {
    this.tokens.save(null);
    this.onSessionExpired();
  }

  /** The custom provider: the HttpOnly cookie is the credential; no token is read or kept here. */
  private refreshCustom(): Promise<TokenPair> {
    return withRefreshLock(async () => {
      const r = await this.request<TokenResponse>('POST', '/v1/auth/refresh', { auth: false, withCookies: true });
      return { accessToken: r.access_token, refreshToken: '' };
    });
  }

  /**
   * Brings back the session after a page load: the refresh cookie (custom
   * provider) yields a new access token. False when there is none to restore.
   */
  async restoreSession(): Promise<boolean> {
    if (this.hasSession()) return true;
    if (this.tokens.mayRestore && !this.tokens.mayRestore()) return false;
    if ((await this.refreshOnce(null)) !== null) return true;
    this.tokens.save(null); // nothing to restore: do not try again on the next load
    return false;
  }

  /** Fetches a file with the bearer token (exports, artifacts) as a Blob. */
  async download(path: string, query?: Query): Promise<DownloadedFile> {
    const res = await this.send('GET', path, { query });
    const blob = await res.blob();
    return { blob, filename: filenameFrom(res.headers.get('Content-Disposition')) ?? path.split('/').pop() ?? 'download' };
  }

  /** Multipart upload with progress (fetch cannot report upload progress). */
  upload<T>(path: string, form: FormData, onProgress?: (fraction: number) => void, signal?: AbortSignal): Promise<T> {
    const once = (token: string | null) =>
      new Promise<{ status: number; text: string; requestId: string }>((resolve, reject) => {
        const xhr = this.makeXhr();
        xhr.open('POST', this.url(path));
        xhr.setRequestHeader('Accept', 'application/json');
        if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        xhr.upload.onprogress = (ev) => {
          if (ev.lengthComputable && onProgress) onProgress(ev.loaded / ev.total);
        };
        xhr.onload = () =>
          resolve({ status: xhr.status, text: xhr.responseText, requestId: xhr.getResponseHeader('X-Request-ID') ?? '' });
        xhr.onerror = () => reject(new ApiError({ status: 0, code: 'network', message: 'Upload failed: network error', retryable: true }));
        xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
        signal?.addEventListener('abort', () => xhr.abort());
        xhr.send(form);
      });
    return (async () => {
      const before = this.tokens.load();
      let r = await once(before?.accessToken ?? null);
      if (r.status === 401) {
        const renewed = before ? await this.refreshOnce(before) : null;
        if (renewed) r = await once(renewed.accessToken);
        if (r.status === 401) {
          this.expire();
          throw new ApiError({ status: 401, code: 'unauthorized', message: SESSION_EXPIRED_MESSAGE });
        }
      }
      if (r.status < 200 || r.status >= 300) {
        throw await errorFromResponse(new Response(r.text, { status: r.status, headers: { 'X-Request-ID': r.requestId } }));
      }
      onProgress?.(1);
      return (r.text ? JSON.parse(r.text) : undefined) as T;
    })();
  }

  /**
   * URL of a scan's SSE stream. EventSource cannot send headers, so the access
   * token rides in the query string (the server accepts ?access_token= there).
   */
  eventStreamUrl(scanId: string, afterSeq?: number): string {
    // last_event_id resumes a fresh EventSource (a browser reconnect sends Last-Event-ID itself)
    return this.url(`/v1/scans/${enc(scanId)}/events/stream`, {
      access_token: this.accessToken(),
      last_event_id: afterSeq && afterSeq > 0 ? afterSeq : undefined,
    });
  }

  // ---- auth ----
  authConfig() {
    return this.request<AuthConfig>('GET', '/v1/auth/config', { auth: false });
  }
  async login(email: string, password: string): Promise<User> {
    // The server also sets the refresh cookie; the JSON refresh token is for
    // API clients and is dropped here.
    const r = await this.request<TokenResponse>('POST', '/v1/auth/login', { body: { email, password }, auth: false, withCookies: true });
    this.tokens.save({ accessToken: r.access_token, refreshToken: '' });
    return r.user;
  }
  /** Ends this session on the server (access token, refresh family and cookie), then forgets it here. */
  async logout(): Promise<void> {
    const t = this.tokens.load();
    this.tokens.save(null);
    await this.fetchImpl(this.url('/v1/auth/logout'), {
      method: 'POST',
      headers: t?.accessToken ? { Accept: 'application/json', Authorization: `Bearer ${t.accessToken}` } : { Accept: 'application/json' },
      credentials: 'include',
    }).catch(() => undefined);
  }
  me() {
    return this.request<User>('GET', '/v1/auth/me');
  }

  // ---- API keys ----
  listApiKeys(p: ListParams = {}) {
    return this.request<ListPage<ApiKey>>('GET', '/v1/api-keys', { query: { ...p } });
  }
  createApiKey(body: { name: string; expires_at?: string }) {
    return this.request<CreatedApiKey>('POST', '/v1/api-keys', { body });
  }
  revokeApiKey(id: string) {
    return this.request<void>('DELETE', `/v1/api-keys/${enc(id)}`);
  }

  // ---- users (root) ----
  listUsers(p: ListParams = {}) {
    return this.request<ListPage<User>>('GET', '/v1/users', { query: { ...p } });
  }
  createUser(body: { email: string; display_name?: string; password: string; groups?: string[] }) {
    return this.request<User>('POST', '/v1/users', { body });
  }
  /** A new password ends the user's sessions and revokes their API keys unless keep_api_keys. */
  updateUser(id: string, body: { display_name?: string; password?: string; groups?: string[]; keep_api_keys?: boolean }) {
    return this.request<User>('PATCH', `/v1/users/${enc(id)}`, { body });
  }
  deleteUser(id: string) {
    return this.request<void>('DELETE', `/v1/users/${enc(id)}`);
  }
  /** Ends every session of the user (theirs, or any as root); API keys keep working. */
  revokeSessions(id: string) {
    return this.request<void>('POST', `/v1/users/${enc(id)}/revoke-sessions`);
  }

  // ---- projects ----
  listProjects(p: ListParams = {}) {
    return this.request<ListPage<Project>>('GET', '/v1/projects', { query: { ...p } });
  }
  createProject(body: { name: string; description?: string }) {
    return this.request<Project>('POST', '/v1/projects', { body });
  }
  getProject(id: string) {
    return this.request<Project>('GET', `/v1/projects/${enc(id)}`);
  }
  updateProject(id: string, body: { name?: string; description?: string; honor_suppressions?: boolean }) {
    return this.request<Project>('PUT', `/v1/projects/${enc(id)}`, { body });
  }
  deleteProject(id: string) {
    return this.request<void>('DELETE', `/v1/projects/${enc(id)}`);
  }
  listProjectRepositories(id: string, p: ListParams = {}) {
    return this.request<ListPage<Repository>>('GET', `/v1/projects/${enc(id)}/repositories`, { query: { ...p } });
  }
  listProjectScans(id: string, p: ListParams = {}) {
    return this.request<ListPage<Scan>>('GET', `/v1/projects/${enc(id)}/scans`, { query: { ...p } });
  }
  listProjectFindings(id: string, f: FindingFilters & ListParams = {}) {
    return this.request<FindingListPage>('GET', `/v1/projects/${enc(id)}/findings`, { query: { ...f } });
  }

  // ---- repositories ----
  createGitRepository(projectId: string, body: { name: string; git_url: string; git_ref?: string; git_token?: string }) {
    return this.request<Repository>('POST', `/v1/projects/${enc(projectId)}/repositories`, { body });
  }
  uploadArchiveRepository(projectId: string, name: string, archive: File, onProgress?: (f: number) => void, signal?: AbortSignal) {
    const form = new FormData();
    form.set('name', name);
    form.set('archive', archive, archive.name);
    return this.upload<Repository>(`/v1/projects/${enc(projectId)}/repositories`, form, onProgress, signal);
  }
  getRepository(id: string) {
    return this.request<Repository>('GET', `/v1/repositories/${enc(id)}`);
  }
  deleteRepository(id: string) {
    return this.request<void>('DELETE', `/v1/repositories/${enc(id)}`);
  }
  reingestRepository(id: string) {
    return this.request<Repository>('POST', `/v1/repositories/${enc(id)}/ingest`);
  }
  listSnapshots(id: string, p: ListParams = {}) {
    return this.request<ListPage<Snapshot>>('GET', `/v1/repositories/${enc(id)}/snapshots`, { query: { ...p } });
  }
  tree(id: string, path = '', snapshotId?: string) {
    return this.request<TreeListing>('GET', `/v1/repositories/${enc(id)}/tree`, { query: { path, snapshot_id: snapshotId } });
  }
  file(id: string, path: string, snapshotId?: string) {
    return this.request<FileContent>('GET', `/v1/repositories/${enc(id)}/file`, { query: { path, snapshot_id: snapshotId } });
  }

  // ---- threat profile ----
  getThreatProfile(repoId: string) {
    return this.request<ThreatProfile>('GET', `/v1/repositories/${enc(repoId)}/threat-profile`);
  }
  putThreatProfile(repoId: string, content: ThreatProfileContent) {
    return this.request<ThreatProfile>('PUT', `/v1/repositories/${enc(repoId)}/threat-profile`, { body: content });
  }
  generateThreatProfile(repoId: string) {
    return this.request<ThreatProfile>('POST', `/v1/repositories/${enc(repoId)}/threat-profile/generate`);
  }
  listThreatProfileVersions(repoId: string) {
    return this.request<ListPage<ThreatProfileVersion>>('GET', `/v1/repositories/${enc(repoId)}/threat-profile/versions`);
  }
  restoreThreatProfileVersion(repoId: string, versionId: string) {
    return this.request<ThreatProfile>('POST', `/v1/repositories/${enc(repoId)}/threat-profile/versions/${enc(versionId)}/restore`);
  }

  // ---- scans ----
  listEngines() {
    return this.request<ListPage<EngineStatus>>('GET', '/v1/engines');
  }
  startScan(repoId: string, body: { engines?: string[]; paths?: string[] }) {
    return this.request<Scan>('POST', `/v1/repositories/${enc(repoId)}/scans`, { body });
  }
  listRepositoryScans(repoId: string, p: ListParams = {}) {
    return this.request<ListPage<Scan>>('GET', `/v1/repositories/${enc(repoId)}/scans`, { query: { ...p } });
  }
  projectOverview(id: string) {
    return this.request<Overview>('GET', `/v1/projects/${enc(id)}/overview`);
  }
  repositoryOverview(id: string) {
    return this.request<Overview>('GET', `/v1/repositories/${enc(id)}/overview`);
  }
  getScan(id: string) {
    return this.request<Scan>('GET', `/v1/scans/${enc(id)}`);
  }
  cancelScan(id: string) {
    return this.request<Scan>('POST', `/v1/scans/${enc(id)}/cancel`);
  }
  retryScan(id: string) {
    return this.request<Scan>('POST', `/v1/scans/${enc(id)}/retry`);
  }
  listScanEvents(id: string, afterSeq: number, limit = 500, signal?: AbortSignal) {
    return this.request<ListPage<ScanEvent>>('GET', `/v1/scans/${enc(id)}/events`, {
      query: { after_seq: afterSeq, limit },
      signal,
    });
  }
  listScanFindings(id: string, f: FindingFilters & ListParams & { change?: FindingChange } = {}) {
    return this.request<FindingListPage>('GET', `/v1/scans/${enc(id)}/findings`, { query: { ...f } });
  }
  downloadArtifact(scanId: string, name: string) {
    return this.download(`/v1/scans/${enc(scanId)}/artifacts/${enc(name)}`);
  }

  // ---- findings ----
  listRepositoryFindings(repoId: string, f: FindingFilters & ListParams = {}) {
    return this.request<FindingListPage>('GET', `/v1/repositories/${enc(repoId)}/findings`, { query: { ...f } });
  }
  /** Findings grouped by rule; scope is a repository, project or scan. */
  findingRules(scope: { repositoryId?: string; projectId?: string; scanId?: string }, f: FindingFilters = {}) {
    const base = scope.scanId
      ? `/v1/scans/${enc(scope.scanId)}`
      : scope.projectId
        ? `/v1/projects/${enc(scope.projectId)}`
        : `/v1/repositories/${enc(scope.repositoryId ?? '')}`;
    return this.request<RuleGroupList>('GET', `${base}/findings/rules`, { query: { ...f } });
  }
  getFinding(id: string) {
    return this.request<Finding>('GET', `/v1/findings/${enc(id)}`);
  }
  triageFinding(id: string, body: TriageRequest) {
    return this.request<Finding>('PATCH', `/v1/findings/${enc(id)}`, { body });
  }
  bulkTriage(ids: string[], body: TriageRequest) {
    return this.request<BulkTriageResult>('POST', '/v1/findings/bulk-triage', { body: { ids, ...body } });
  }
  /** Triage every finding matching filter (at most 10,000; more is a validation error). */
  bulkTriageByFilter(filter: BulkTriageFilter, body: TriageRequest) {
    return this.request<BulkTriageResult>('POST', '/v1/findings/bulk-triage', { body: { filter, ...body } });
  }
  /** A page of the finding's occurrences with code, secrets masked by the server. */
  findingOccurrences(id: string, q: OccurrenceQuery = {}) {
    return this.request<OccurrencePage>('GET', `/v1/findings/${enc(id)}/occurrences`, { query: { ...q } });
  }
  /** The same page with the secrets shown; the server logs the reveal in the finding's history first. */
  revealFinding(id: string, q: OccurrenceQuery = {}) {
    return this.request<OccurrencePage>('POST', `/v1/findings/${enc(id)}/reveal`, { body: q });
  }
  /** Every place a finding of the repository points at in one file. */
  fileMarks(repoId: string, path: string) {
    return this.request<FileMarks>('GET', `/v1/repositories/${enc(repoId)}/findings/in-file`, { query: { path } });
  }
  findingHistory(id: string) {
    return this.request<ListPage<FindingHistory> | FindingHistory[]>('GET', `/v1/findings/${enc(id)}/history`).then(asItems);
  }
  exportFindings(scope: { repositoryId?: string; scanId?: string; projectId?: string }, format: ExportFormat, filters: FindingFilters = {}) {
    const base = scope.scanId
      ? `/v1/scans/${enc(scope.scanId)}`
      : scope.projectId
        ? `/v1/projects/${enc(scope.projectId)}`
        : `/v1/repositories/${enc(scope.repositoryId ?? '')}`;
    return this.download(`${base}/findings/export`, { ...filters, format });
  }

  // ---- git push remotes ----
  createGitUpload(projectId: string, repositoryName: string) {
    return this.request<GitUpload>('POST', '/v1/git-uploads', { body: { project_id: projectId, repository_name: repositoryName } });
  }
  getGitUpload(id: string) {
    return this.request<GitUpload>('GET', `/v1/git-uploads/${enc(id)}`);
  }

  // ---- billing ----
  usage(q: { from?: string; to?: string; group_by: UsageGroupBy }) {
    return this.request<UsageReport>('GET', '/v1/billing/usage', { query: { ...q } });
  }

  // ---- operations ----
  opsWorkers() {
    return this.request<ListPage<Worker> | Worker[]>('GET', '/v1/ops/workers').then(asItems);
  }
  opsLimits() {
    return this.request<OpsLimits>('GET', '/v1/ops/limits');
  }
  opsQueue() {
    return this.request<Record<string, unknown>>('GET', '/v1/ops/queue');
  }
  opsRecover() {
    return this.request<Record<string, unknown>>('POST', '/v1/ops/recover');
  }
  opsCleanup() {
    return this.request<Record<string, unknown>>('POST', '/v1/ops/cleanup');
  }

  // Webhooks (docs/webhooks.md)
  listProjectWebhooks(projectId: string, p: ListParams = {}) {
    return this.request<ListPage<Webhook>>('GET', `/v1/projects/${enc(projectId)}/webhooks`, { query: { ...p } });
  }
  createWebhook(projectId: string, body: WebhookInput) {
    return this.request<CreatedWebhook>('POST', `/v1/projects/${enc(projectId)}/webhooks`, { body });
  }
  deleteWebhook(id: string) {
    return this.request<void>('DELETE', `/v1/webhooks/${enc(id)}`);
  }
  testWebhook(id: string) {
    return this.request<WebhookDelivery>('POST', `/v1/webhooks/${enc(id)}/test`);
  }
  listWebhookDeliveries(id: string, p: ListParams = {}) {
    return this.request<ListPage<WebhookDelivery>>('GET', `/v1/webhooks/${enc(id)}/deliveries`, { query: { ...p } });
  }
}

/** Accepts a list envelope or a bare array (lists are envelopes, docs/architecture.md; be lenient on reads). */
function asItems<T>(v: ListPage<T> | T[]): T[] {
  return Array.isArray(v) ? v : (v?.items ?? []);
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function filenameFrom(disposition: string | null): string | null {
  if (!disposition) return null;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star?.[1]) return safeFilename(decodeURIComponent(star[1]));
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain?.[1] ? safeFilename(plain[1]) : null;
}

// A server-chosen name must not smuggle a path into the browser's save dialog.
function safeFilename(name: string): string {
  return name.replace(/[/\\]/g, '_').slice(0, 200) || 'download';
}
