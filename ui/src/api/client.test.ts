import { describe, expect, it, vi } from 'vitest';
import {
  ApiClient,
  ApiError,
  LEGACY_SESSION_KEY,
  MemoryTokenStore,
  SESSION_FLAG_KEY,
  SESSION_EXPIRED_MESSAGE,
  errorFromResponse,
  errorMessage,
  forgetLegacySession,
  withRefreshLock,
} from './client';

type Req = { method: string; url: string; headers: Record<string, string>; body: string | undefined; credentials: RequestCredentials | undefined };
type Handler = (req: Req) => Response | Promise<Response>;

/** A fetch double that records requests and answers from a handler, like a tiny server. */
function fakeFetch(handler: Handler) {
  const calls: Req[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === 'string' ? init.body : undefined,
      credentials: init?.credentials,
    };
    calls.push(req);
    return handler(req);
  });
  return { fn: fn as unknown as typeof fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

const envelope = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  schema_version: 1,
  error: { code, message, retryable: false, details: {}, request_id: 'req-123', ...extra },
});

const user = { id: 'usr_1', email: 'a@example.com', display_name: 'A', groups: ['root'], created_at: '2026-01-01T00:00:00Z', last_login_at: null };

describe('ApiClient errors', () => {
  it('turns the SPEC error envelope into a typed ApiError', async () => {
    const { fn } = fakeFetch(() =>
      json(422, envelope('archive_rejected', 'Archive rejected: path traversal', { details: { reason: 'path_traversal' } })),
    );
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore({ accessToken: 'a', refreshToken: 'r' }) });
    const err = await api.getProject('prj_1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(422);
    expect(e.code).toBe('archive_rejected');
    expect(e.message).toBe('Archive rejected: path traversal');
    expect(e.details).toEqual({ reason: 'path_traversal' });
    expect(e.requestId).toBe('req-123');
  });

  it('describes validation details next to the message', async () => {
    const e = await errorFromResponse(json(400, envelope('validation_failed', 'Invalid request', { details: { name: 'required' } })));
    expect(errorMessage(e)).toBe('Invalid request (name: required)');
  });

  it('falls back to a generic error when a proxy answers with HTML', async () => {
    const e = await errorFromResponse(new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'X-Request-ID': 'rid' } }));
    expect(e.code).toBe('internal');
    expect(e.retryable).toBe(true);
    expect(e.requestId).toBe('rid');
    expect(e.message).toContain('502');
  });

  it('sends the bearer token, JSON body and encoded path', async () => {
    const { fn, calls } = fakeFetch(() => json(200, { id: 'prj_1' }));
    const api = new ApiClient({ baseUrl: 'https://api.example.com/', fetch: fn, tokens: new MemoryTokenStore({ accessToken: 'tok', refreshToken: 'r' }) });
    await api.updateProject('a/b', { name: 'x', description: '' });
    expect(calls[0]!.url).toBe('https://api.example.com/v1/projects/a%2Fb');
    expect(calls[0]!.method).toBe('PUT');
    expect(calls[0]!.headers.Authorization).toBe('Bearer tok');
    expect(JSON.parse(calls[0]!.body!)).toEqual({ name: 'x', description: '' });
  });

  it('lists the scan engines with why one is unavailable', async () => {
    const items = [
      { name: 'secrets', available: true, default: true },
      { name: 'codex', available: false, default: false, reason: 'no model provider configured', enable: 'set VEGA_LLM_PROVIDER_API_KEY' },
    ];
    const { fn, calls } = fakeFetch(() => json(200, { items }));
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore({ accessToken: 'a', refreshToken: 'r' }) });
    const page = await api.listEngines();
    expect(calls[0].method).toBe('GET');
    expect(calls[0].url).toBe('/v1/engines');
    expect(page.items[1].reason).toBe('no model provider configured');
  });

  it('drops empty filter values from the query string', async () => {
    const { fn, calls } = fakeFetch(() => json(200, { items: [], next_cursor: null }));
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore({ accessToken: 't', refreshToken: 'r' }) });
    await api.listRepositoryFindings('repo_1', { severity: 'high', q: '', cursor: null, limit: 50 });
    expect(calls[0]!.url).toBe('/v1/repositories/repo_1/findings?severity=high&limit=50');
  });
});

/** Fails the test when anything token-like was written to web storage (tokens live in memory only). */
function expectNothingStored() {
  for (const storage of [localStorage, sessionStorage]) {
    for (const k of Object.keys(storage)) {
      expect(k).toBe(SESSION_FLAG_KEY);
      expect(storage.getItem(k)).toBe('1');
    }
  }
}

describe('ApiClient refresh-on-401', () => {
  it('refreshes once through the cookie, keeps only the access token in memory and retries', async () => {
    const { fn, calls } = fakeFetch((req) => {
      if (req.url.endsWith('/v1/auth/refresh')) return json(200, { access_token: 'a2', token_type: 'Bearer', expires_in: 900, user });
      return req.headers.Authorization === 'Bearer a2' ? json(200, user) : json(401, envelope('unauthorized', 'token expired'));
    });
    const tokens = new MemoryTokenStore({ accessToken: 'a1', refreshToken: '' });
    const expired = vi.fn();
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens, onSessionExpired: expired });
    await expect(api.me()).resolves.toEqual(user);
    expect(tokens.load()).toEqual({ accessToken: 'a2', refreshToken: '' });
    expect(calls.map((c) => c.url)).toEqual(['/v1/auth/me', '/v1/auth/refresh', '/v1/auth/me']);
    // the cookie is the credential: no body, no bearer, cookies sent even cross-origin
    expect(calls[1]!.body).toBeUndefined();
    expect(calls[1]!.headers.Authorization).toBeUndefined();
    expect(calls[1]!.credentials).toBe('include');
    expect(calls[0]!.credentials).toBeUndefined(); // ordinary calls carry the bearer token only
    expect(expired).not.toHaveBeenCalled();
    expectNothingStored();
  });

  it('drops a refresh token the server returns in JSON instead of keeping it', async () => {
    const { fn } = fakeFetch((req) =>
      req.url.endsWith('/v1/auth/refresh')
        ? json(200, { access_token: 'a2', refresh_token: 'r-from-json', token_type: 'Bearer', expires_in: 900, user })
        : req.headers.Authorization === 'Bearer a2'
          ? json(200, user)
          : json(401, envelope('unauthorized', 'expired')),
    );
    const tokens = new MemoryTokenStore({ accessToken: 'a1', refreshToken: '' });
    await new ApiClient({ baseUrl: '', fetch: fn, tokens }).me();
    expect(JSON.stringify(tokens.load())).not.toContain('r-from-json');
  });

  it('shares one refresh between concurrent 401s (rotation must not look like reuse)', async () => {
    let refreshes = 0;
    const { fn } = fakeFetch(async (req) => {
      if (req.url.endsWith('/v1/auth/refresh')) {
        refreshes++;
        await new Promise((r) => setTimeout(r, 10));
        return json(200, { access_token: 'a2', refresh_token: 'r2', token_type: 'Bearer', expires_in: 900, user });
      }
      return req.headers.Authorization === 'Bearer a2' ? json(200, { items: [], next_cursor: null }) : json(401, envelope('unauthorized', 'expired'));
    });
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore({ accessToken: 'a1', refreshToken: '' }) });
    await Promise.all([api.listProjects(), api.listApiKeys(), api.listUsers()]);
    expect(refreshes).toBe(1);
  });

  it('refreshes inside the cross-tab Web Lock, so two tabs never spend the same cookie', async () => {
    const names: string[] = [];
    let inside = false;
    const locks = {
      request: vi.fn(async (name: string, cb: () => Promise<unknown>) => {
        names.push(name);
        inside = true;
        try {
          return await cb();
        } finally {
          inside = false;
        }
      }),
    } as unknown as LockManager;
    Object.defineProperty(navigator, 'locks', { value: locks, configurable: true });
    try {
      let refreshedInsideLock = false;
      const { fn } = fakeFetch((req) => {
        if (req.url.endsWith('/v1/auth/refresh')) {
          refreshedInsideLock = inside;
          return json(200, { access_token: 'a2', token_type: 'Bearer', expires_in: 900, user });
        }
        return json(200, user);
      });
      const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore() });
      await expect(api.restoreSession()).resolves.toBe(true);
      expect(names).toEqual(['vega.refresh']);
      expect(refreshedInsideLock).toBe(true);
    } finally {
      Reflect.deleteProperty(navigator, 'locks');
    }
    await expect(withRefreshLock(async () => 'direct', undefined)).resolves.toBe('direct'); // no Web Locks: runs directly
  });

  it('ends the session with "Your session has expired" when the refresh fails', async () => {
    const { fn, calls } = fakeFetch((req) =>
      req.url.endsWith('/v1/auth/refresh') ? json(401, envelope('unauthorized', 'refresh token revoked')) : json(401, envelope('unauthorized', 'expired')),
    );
    const tokens = new MemoryTokenStore({ accessToken: 'a1', refreshToken: '' });
    const expired = vi.fn();
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens, onSessionExpired: expired });
    const err = (await api.listProjects().catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('unauthorized');
    expect(err.message).toBe(SESSION_EXPIRED_MESSAGE);
    expect(expired).toHaveBeenCalledTimes(1);
    expect(tokens.load()).toBeNull();
    expect(calls).toHaveLength(2); // no retry without a new token
  });

  it('does not refresh for a failed login (auth endpoints carry no token)', async () => {
    const { fn, calls } = fakeFetch(() => json(401, envelope('unauthorized', 'Invalid email or password')));
    const expired = vi.fn();
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore(), onSessionExpired: expired });
    await expect(api.login('a@example.com', 'nope')).rejects.toThrow('Invalid email or password');
    expect(calls).toHaveLength(1);
    expect(expired).not.toHaveBeenCalled();
  });

  it('login keeps the access token in memory only; logout ends the session with the bearer and the cookie', async () => {
    const { fn, calls } = fakeFetch((req) =>
      req.url.endsWith('/login') ? json(200, { access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 900, user }) : new Response(null, { status: 204 }),
    );
    const tokens = new MemoryTokenStore();
    const api = new ApiClient({ baseUrl: 'https://api.example.com', fetch: fn, tokens });
    await expect(api.login('a@example.com', 'pw')).resolves.toEqual(user);
    expect(tokens.load()).toEqual({ accessToken: 'a', refreshToken: '' });
    expect(calls[0]!.credentials).toBe('include'); // so a cross-origin API may set the cookie
    expectNothingStored();
    await api.logout();
    expect(tokens.load()).toBeNull();
    expect(api.hasSession()).toBe(false);
    expect(calls[1]!.url).toBe('https://api.example.com/v1/auth/logout');
    expect(calls[1]!.headers.Authorization).toBe('Bearer a');
    expect(calls[1]!.credentials).toBe('include');
    expect(calls[1]!.body).toBeUndefined();
  });

  it('restores the session on page load through the cookie', async () => {
    const { fn, calls } = fakeFetch(() => json(200, { access_token: 'restored', token_type: 'Bearer', expires_in: 900, user }));
    const expired = vi.fn();
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore(), onSessionExpired: expired });
    await expect(api.restoreSession()).resolves.toBe(true);
    expect(api.accessToken()).toBe('restored');
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe('/v1/auth/refresh');
    expect(calls[0]!.credentials).toBe('include');
    await expect(api.restoreSession()).resolves.toBe(true); // already restored: no second refresh
    expect(calls).toHaveLength(1);
    expectNothingStored();
  });

  it('reports no session to restore without calling it expired', async () => {
    const { fn } = fakeFetch(() => json(400, envelope('validation_failed', 'refresh_token is required')));
    const expired = vi.fn();
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore(), onSessionExpired: expired });
    await expect(api.restoreSession()).resolves.toBe(false);
    expect(api.hasSession()).toBe(false);
    expect(expired).not.toHaveBeenCalled();
  });

  it('remembers only whether a session exists, so signed-out loads send no refresh', async () => {
    const { fn, calls } = fakeFetch((req) =>
      req.url.endsWith('/login')
        ? json(200, { access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 900, user })
        : req.url.endsWith('/refresh')
          ? json(200, { access_token: 'a2', token_type: 'Bearer', expires_in: 900, user })
          : new Response(null, { status: 204 }),
    );
    const page = () => new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore(null, localStorage) });
    await expect(page().restoreSession()).resolves.toBe(false); // first visit: nothing to restore
    expect(calls).toHaveLength(0);
    await page().login('a@example.com', 'pw');
    expect(localStorage.getItem(SESSION_FLAG_KEY)).toBe('1');
    expectNothingStored();
    const reloaded = page();
    await expect(reloaded.restoreSession()).resolves.toBe(true); // a reload restores through the cookie
    expect(calls.map((c) => c.url)).toEqual(['/v1/auth/login', '/v1/auth/refresh']);
    await reloaded.logout();
    expect(localStorage.getItem(SESSION_FLAG_KEY)).toBeNull();
    await expect(page().restoreSession()).resolves.toBe(false);
    expect(calls).toHaveLength(3); // login, refresh, logout: no refresh after signing out
  });

  it('forgets a stale marker when the cookie no longer restores anything', async () => {
    localStorage.setItem(SESSION_FLAG_KEY, '1');
    const { fn, calls } = fakeFetch(() => json(401, envelope('unauthorized', 'revoked')));
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore(null, localStorage) });
    await expect(api.restoreSession()).resolves.toBe(false);
    expect(calls).toHaveLength(1);
    expect(localStorage.getItem(SESSION_FLAG_KEY)).toBeNull();
  });

  it('signs out everywhere through the revoke-sessions route', async () => {
    const { fn, calls } = fakeFetch(() => new Response(null, { status: 204 }));
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore({ accessToken: 't', refreshToken: '' }) });
    await api.revokeSessions('usr_1');
    expect(calls[0]!.method).toBe('POST');
    expect(calls[0]!.url).toBe('/v1/users/usr_1/revoke-sessions');
    expect(calls[0]!.headers.Authorization).toBe('Bearer t');
  });

  it('removes the session an earlier version kept in localStorage', () => {
    localStorage.setItem(LEGACY_SESSION_KEY, JSON.stringify({ accessToken: 'old', refreshToken: 'old' }));
    localStorage.setItem('unrelated', 'x');
    forgetLegacySession();
    expect(localStorage.getItem(LEGACY_SESSION_KEY)).toBeNull();
    expect(localStorage.getItem('unrelated')).toBe('x');
  });
});

describe('ApiClient downloads and streams', () => {
  it('downloads exports with the bearer token and a sanitised file name', async () => {
    const { fn, calls } = fakeFetch(
      () => new Response('{"version":"2.1.0"}', { status: 200, headers: { 'Content-Disposition': 'attachment; filename="../../etc/findings.sarif"' } }),
    );
    const api = new ApiClient({ baseUrl: '', fetch: fn, tokens: new MemoryTokenStore({ accessToken: 't', refreshToken: 'r' }) });
    const { blob, filename } = await api.exportFindings({ repositoryId: 'repo_1' }, 'sarif', { status: 'open' });
    expect(calls[0]!.url).toBe('/v1/repositories/repo_1/findings/export?status=open&format=sarif');
    expect(calls[0]!.headers.Authorization).toBe('Bearer t');
    expect(filename).toBe('.._.._etc_findings.sarif');
    expect(await blob.text()).toContain('2.1.0');
  });

  it('puts the access token in the SSE URL (EventSource cannot send headers)', () => {
    const api = new ApiClient({ baseUrl: '', tokens: new MemoryTokenStore({ accessToken: 'a b', refreshToken: 'r' }) });
    expect(api.eventStreamUrl('scan_1')).toBe('/v1/scans/scan_1/events/stream?access_token=a+b');
    expect(api.eventStreamUrl('scan_1', 42)).toBe('/v1/scans/scan_1/events/stream?access_token=a+b&last_event_id=42');
  });
});

/** A minimal XMLHttpRequest double that answers like a server would. */
class FakeXhr {
  static script: { status: number; body: string }[] = [];
  static sent: { auth: string | undefined; body: unknown }[] = [];
  status = 0;
  responseText = '';
  upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  private headers: Record<string, string> = {};
  open() {}
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader() {
    return 'rid-x';
  }
  abort() {}
  send(body: unknown) {
    FakeXhr.sent.push({ auth: this.headers.Authorization, body });
    const answer = FakeXhr.script.shift()!;
    setTimeout(() => {
      this.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 100 } as ProgressEvent);
      this.status = answer.status;
      this.responseText = answer.body;
      this.onload?.();
    }, 0);
  }
}

describe('ApiClient uploads', () => {
  it('reports progress, refreshes on 401 and surfaces archive_rejected', async () => {
    FakeXhr.script = [
      { status: 401, body: JSON.stringify(envelope('unauthorized', 'expired')) },
      { status: 422, body: JSON.stringify(envelope('archive_rejected', 'Archive rejected', { details: { reason: 'too_many_entries' } })) },
    ];
    FakeXhr.sent = [];
    const { fn } = fakeFetch(() => json(200, { access_token: 'a2', refresh_token: 'r2', token_type: 'Bearer', expires_in: 900, user }));
    const api = new ApiClient({
      baseUrl: '',
      fetch: fn,
      tokens: new MemoryTokenStore({ accessToken: 'a1', refreshToken: 'r1' }),
      xhr: () => new FakeXhr() as unknown as XMLHttpRequest,
    });
    const progress: number[] = [];
    const file = new File(['PK'], 'src.zip', { type: 'application/zip' });
    const err = (await api.uploadArchiveRepository('prj_1', 'src', file, (f) => progress.push(f)).catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('archive_rejected');
    expect(err.details).toEqual({ reason: 'too_many_entries' });
    expect(FakeXhr.sent.map((s) => s.auth)).toEqual(['Bearer a1', 'Bearer a2']);
    const form = FakeXhr.sent[1]!.body as FormData;
    expect(form.get('name')).toBe('src');
    expect((form.get('archive') as File).name).toBe('src.zip');
    expect(progress).toContain(0.5);
  });
});
