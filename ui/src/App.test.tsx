import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, MemoryTokenStore, SESSION_FLAG_KEY } from './api/client';
import { App, SessionEvents } from './App';
import { cognitoRefresher } from './auth/cognito';
import { jsonResponse, testUser } from './test/render';

// The page starts with nothing in memory and nothing in web storage: the
// session comes back through the HttpOnly refresh cookie, or not at all.
function boot(refresh: () => Response) {
  const calls: string[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    calls.push(`${init?.method ?? 'GET'} ${url} ${init?.credentials ?? ''}`.trim());
    if (url === '/v1/auth/refresh') return refresh();
    if (url === '/v1/auth/me') return jsonResponse(200, testUser);
    if (url.startsWith('/v1/projects')) return jsonResponse(200, { items: [], next_cursor: null });
    return jsonResponse(404, {});
  }) as unknown as typeof fetch;
  const events = new SessionEvents();
  const api = new ApiClient({ baseUrl: '', fetch: fetchFn, tokens: new MemoryTokenStore(), onSessionExpired: () => events.emitExpired() });
  render(
    <MemoryRouter initialEntries={['/']}>
      <App api={api} authConfig={{ provider: 'custom' }} events={events} />
    </MemoryRouter>,
  );
  return { api, calls };
}

describe('App start-up', () => {
  it('restores the session through the refresh cookie on load', async () => {
    const { api, calls } = boot(() => jsonResponse(200, { access_token: 'from-cookie', token_type: 'Bearer', expires_in: 900, user: testUser }));
    await screen.findByRole('heading', { name: 'Projects' });
    expect(calls[0]).toBe('POST /v1/auth/refresh include');
    expect(api.accessToken()).toBe('from-cookie');
    expect(Object.keys(localStorage)).toEqual([]);
    expect(Object.keys(sessionStorage)).toEqual([]);
  });

  it('shows the sign-in page, without "session expired", when there is no cookie', async () => {
    boot(() => jsonResponse(400, { schema_version: 1, error: { code: 'validation_failed', message: 'refresh_token is required', retryable: false, details: {}, request_id: 'r' } }));
    await screen.findByRole('heading', { name: /Sign in to Vega/ });
    expect(screen.queryByText('Your session has expired')).toBeNull();
  });
});

describe('App with Cognito', () => {
  afterEach(() => vi.unstubAllGlobals());
  const cognito = { domain: 'vega.auth.eu-west-1.amazoncognito.com', client_id: 'client123', region: 'eu-west-1' };

  function bootCognito(tokens: MemoryTokenStore) {
    const calls: { url: string; body: string }[] = [];
    const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      calls.push({ url: `${init?.method ?? 'GET'} ${url}`, body: String(init?.body ?? '') });
      if (url === '/v1/auth/me') return jsonResponse(200, testUser);
      if (url.startsWith('/v1/projects')) return jsonResponse(200, { items: [], next_cursor: null });
      if (url.endsWith('/oauth2/revoke')) return new Response(null, { status: 200 });
      return jsonResponse(404, {});
    }) as unknown as typeof fetch;
    vi.stubGlobal('fetch', fetchFn); // revokeRefreshToken uses the page's fetch
    const leave = vi.fn();
    const events = new SessionEvents();
    const api = new ApiClient({ baseUrl: '', fetch: fetchFn, tokens, onSessionExpired: () => events.emitExpired() });
    api.setRefresher(cognitoRefresher(cognito, fetchFn)); // as main.tsx does
    render(
      <MemoryRouter initialEntries={['/']}>
        <App api={api} authConfig={{ provider: 'cognito', cognito }} events={events} leave={leave} />
      </MemoryRouter>,
    );
    return { api, calls, leave };
  }

  it('signs in again through the hosted UI after a reload, when this browser had a session', async () => {
    localStorage.setItem(SESSION_FLAG_KEY, '1');
    const { leave, calls } = bootCognito(new MemoryTokenStore(null, localStorage));
    await vi.waitFor(() => expect(leave).toHaveBeenCalledTimes(1));
    const url = new URL(leave.mock.calls[0][0] as string);
    expect(url.origin + url.pathname).toBe('https://vega.auth.eu-west-1.amazoncognito.com/oauth2/authorize');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(calls).toEqual([]); // nothing to refresh: Cognito's refresh token was in the old page's memory
    expect(localStorage.getItem(SESSION_FLAG_KEY)).toBeNull(); // a failed round trip cannot loop
    expect(screen.getByText('Starting Vega…')).toBeInTheDocument();
  });

  it('shows the sign-in page, without a round trip, when this browser had no session', async () => {
    const { leave } = bootCognito(new MemoryTokenStore(null, localStorage));
    await screen.findByRole('button', { name: 'Sign in with Cognito' });
    expect(leave).not.toHaveBeenCalled();
  });

  it('signs out by revoking the refresh token and through the hosted UI logout', async () => {
    const tokens = new MemoryTokenStore({ accessToken: 'at', refreshToken: 'rt' }, localStorage);
    tokens.save(tokens.load());
    const { api, calls, leave } = bootCognito(tokens);
    await screen.findByRole('heading', { name: 'Projects' });
    await userEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    await vi.waitFor(() => expect(leave).toHaveBeenCalledTimes(1));
    expect(leave.mock.calls[0][0]).toBe(
      `https://vega.auth.eu-west-1.amazoncognito.com/logout?client_id=client123&logout_uri=${encodeURIComponent(`${window.location.origin}/`)}`,
    );
    const revoke = calls.find((c) => c.url.endsWith('/oauth2/revoke'))!;
    expect(revoke.url).toBe('POST https://vega.auth.eu-west-1.amazoncognito.com/oauth2/revoke');
    expect(Object.fromEntries(new URLSearchParams(revoke.body))).toEqual({ token: 'rt', client_id: 'client123' });
    expect(calls.some((c) => c.url.includes('/v1/auth/logout'))).toBe(false);
    expect(api.hasSession()).toBe(false);
    expect(localStorage.getItem(SESSION_FLAG_KEY)).toBeNull();
  });
});
