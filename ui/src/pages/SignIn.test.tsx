import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { jsonResponse, renderWithApp, testUser } from '../test/render';
import { SignInPage } from './SignIn';

describe('SignInPage', () => {
  it('signs in with Email and Password and points at the README and start-up log for the debug account', async () => {
    const bodies: unknown[] = [];
    const fetchFn = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return jsonResponse(200, { access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 900, user: testUser });
    }) as unknown as typeof fetch;
    const setUser = vi.fn();
    renderWithApp(<SignInPage />, { fetch: fetchFn, user: null, setUser, route: '/sign-in' });
    const hint = screen.getByText(/built-in debug account/);
    expect(hint).toHaveTextContent(/README/);
    expect(hint).toHaveTextContent(/start-up log/);
    // No credential is shown: the page's bundle and the API carry none.
    expect(document.body).not.toHaveTextContent('vega-debug-password');
    expect(fetchFn).not.toHaveBeenCalled();
    await userEvent.type(screen.getByLabelText('Email'), 'debug@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'vega-debug-password');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(setUser).toHaveBeenCalledWith(testUser));
    expect(bodies[0]).toEqual({ email: 'debug@example.com', password: 'vega-debug-password' });
  });

  it('shows the server message when the credentials are wrong', async () => {
    const fetchFn = vi.fn(async () =>
      jsonResponse(401, { schema_version: 1, error: { code: 'unauthorized', message: 'Invalid email or password', retryable: false } }),
    ) as unknown as typeof fetch;
    renderWithApp(<SignInPage />, { fetch: fetchFn, user: null, route: '/sign-in' });
    await userEvent.type(screen.getByLabelText('Email'), 'x@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'wrong');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid email or password');
  });

  it('offers only the hosted UI, without debug credentials, for Cognito', () => {
    renderWithApp(<SignInPage flash="Your session has expired" />, {
      fetch: vi.fn() as unknown as typeof fetch,
      user: null,
      route: '/sign-in',
      authConfig: { provider: 'cognito', cognito: { domain: 'auth.example.com', client_id: 'abc', region: 'eu-west-1' } },
    });
    expect(screen.getByRole('button', { name: 'Sign in with Cognito' })).toBeInTheDocument();
    expect(screen.queryByLabelText('Password')).toBeNull();
    expect(screen.queryByText(/built-in debug account/)).toBeNull();
    expect(screen.getByRole('alert')).toHaveTextContent('Your session has expired');
    // Cognito's own session would sign the same account in again: a way out of it.
    const out = new URL(screen.getByRole('link', { name: 'Sign out of Cognito' }).getAttribute('href')!);
    expect(out.origin + out.pathname).toBe('https://auth.example.com/logout');
    expect(out.searchParams.get('logout_uri')).toBe(`${window.location.origin}/`);
  });
});
