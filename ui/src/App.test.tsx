import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import { ApiClient, MemoryTokenStore } from './api/client';
import { App, SessionEvents } from './App';
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
