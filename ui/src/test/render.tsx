import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router-dom';
import { ApiClient, MemoryTokenStore } from '../api/client';
import type { AuthConfig, User } from '../api/types';
import { AppContext } from '../app-context';

export const testUser: User = {
  id: 'usr_1',
  email: 'debug@example.com',
  display_name: 'Debug',
  groups: ['root'],
  created_at: '2026-01-01T00:00:00Z',
  last_login_at: null,
};

/** Renders inside the app context with a real ApiClient over the given fetch. */
export function renderWithApp(
  ui: ReactElement,
  opts: {
    fetch: typeof fetch;
    authConfig?: AuthConfig;
    user?: User | null;
    /** A path, or a location with router state (e.g. the list a finding was opened from). */
    route?: string | { pathname: string; search?: string; state?: unknown };
    setUser?: (u: User | null) => void;
    signOut?: () => Promise<void>;
  },
) {
  const api = new ApiClient({ baseUrl: '', fetch: opts.fetch, tokens: new MemoryTokenStore({ accessToken: 't', refreshToken: 'r' }) });
  const value = {
    api,
    authConfig: opts.authConfig ?? { provider: 'custom' as const },
    user: opts.user === undefined ? testUser : opts.user,
    setUser: opts.setUser ?? (() => undefined),
    signOut: opts.signOut ?? (async () => undefined),
  };
  return {
    api,
    ...render(
      <AppContext.Provider value={value}>
        <MemoryRouter initialEntries={[opts.route ?? '/']}>{ui}</MemoryRouter>
      </AppContext.Provider>,
    ),
  };
}

export function jsonResponse(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
