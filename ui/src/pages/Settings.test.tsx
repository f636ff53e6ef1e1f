import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { jsonResponse, renderWithApp, testUser } from '../test/render';
import SettingsPage from './Settings';

/** A fetch double for the Settings page that records what was called. */
function settingsServer() {
  const calls: string[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const url = String(input);
    calls.push(`${method} ${url}`);
    if (url.startsWith('/v1/api-keys') || url.startsWith('/v1/users?')) return jsonResponse(200, { items: [], next_cursor: null });
    if (url.endsWith('/revoke-sessions')) return new Response(null, { status: 204 });
    return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'no', retryable: false, details: {}, request_id: 'r' } });
  });
  return { fetchFn: fetchFn as unknown as typeof fetch, calls };
}

describe('Settings: sign out everywhere', () => {
  it('revokes every session of the signed-in user, then signs out here', async () => {
    const { fetchFn, calls } = settingsServer();
    const signOut = vi.fn(async () => undefined);
    renderWithApp(<SettingsPage />, { fetch: fetchFn, signOut });
    await userEvent.click(screen.getByRole('button', { name: 'Sign out everywhere' }));
    const dialog = screen.getByRole('dialog', { name: 'Sign out everywhere?' });
    expect(dialog).toHaveTextContent('API keys keep working');
    expect(calls.filter((c) => c.includes('revoke-sessions'))).toEqual([]); // nothing before confirming
    await userEvent.click(screen.getAllByRole('button', { name: 'Sign out everywhere' }).at(-1)!);
    await waitFor(() => expect(signOut).toHaveBeenCalledTimes(1));
    expect(calls).toContain(`POST /v1/users/${testUser.id}/revoke-sessions`);
  });

  it('is offered with Cognito too, and says earlier sign-ins stop working', async () => {
    const { fetchFn, calls } = settingsServer();
    const signOut = vi.fn(async () => undefined);
    renderWithApp(<SettingsPage />, {
      fetch: fetchFn,
      signOut,
      authConfig: { provider: 'cognito', cognito: { domain: 'x.auth.eu-west-1.amazoncognito.com', client_id: 'c', region: 'eu-west-1' } },
    });
    expect(screen.getByText(/refuses every token of your earlier sign-ins/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Sign out everywhere' }));
    expect(screen.getByRole('dialog', { name: 'Sign out everywhere?' })).toHaveTextContent('earlier Cognito sign-in');
    await userEvent.click(screen.getAllByRole('button', { name: 'Sign out everywhere' }).at(-1)!);
    await waitFor(() => expect(signOut).toHaveBeenCalledTimes(1));
    expect(calls).toContain(`POST /v1/users/${testUser.id}/revoke-sessions`);
    // Local users are the built-in provider's; Cognito's live in the pool.
    expect(screen.queryByRole('heading', { name: /Users/ })).toBeNull();
  });
});
