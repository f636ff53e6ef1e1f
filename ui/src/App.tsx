import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ComponentType } from 'react';
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import type { ApiClient } from './api/client';
import { SESSION_EXPIRED_MESSAGE } from './api/client';
import type { AuthConfig, User } from './api/types';
import { AppContext, isOperator, useApp, type AppContextValue } from './app-context';
import { beginSignIn, CALLBACK_PATH, logoutUrl, revokeRefreshToken } from './auth/cognito';
import { ErrorState, Loading } from './components/States';
import { SignInPage } from './pages/SignIn';
import { AuthCallbackPage } from './pages/AuthCallback';
import { ProjectsPage } from './pages/Projects';

// The projects page is the landing page and ships in the main chunk; every
// other screen is its own chunk so first load stays small.
const ProjectPage = lazy(() => import('./pages/Project'));
const RepositoryPage = lazy(() => import('./pages/Repository'));
const ScanPage = lazy(() => import('./pages/Scan'));
const FindingsPage = lazy(() => import('./pages/Findings'));
const FindingPage = lazy(() => import('./pages/Finding'));
const FilesPage = lazy(() => import('./pages/Files'));
const SettingsPage = lazy(() => import('./pages/Settings'));
const UsagePage = lazy(() => import('./pages/Usage'));
const OperationsPage = lazy(() => import('./pages/Operations'));

/** The signed-in screens, path → page (the router ranks paths itself; "*" is the fallback). */
const SIGNED_IN_ROUTES: [string, ComponentType][] = [
  ['/', ProjectsPage],
  ['/projects/:projectId', ProjectPage],
  ['/projects/:projectId/findings', FindingsPage],
  ['/repositories/:repositoryId', RepositoryPage],
  ['/repositories/:repositoryId/findings', FindingsPage],
  ['/repositories/:repositoryId/files', FilesPage],
  ['/scans/:scanId', ScanPage],
  ['/findings/:findingId', FindingPage],
  ['/settings', SettingsPage],
  ['/usage', UsagePage],
  ['/operations', OperationsPage],
  ['*', NotFound],
];

/** Lets the API client (created before React) tell the UI a session ended. */
export class SessionEvents {
  private listeners = new Set<() => void>();
  onExpired(fn: () => void) {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
  emitExpired() {
    for (const fn of this.listeners) fn();
  }
}

/** Leaves the app for another page (the hosted UI); tests record it instead. */
export type Leave = (url: string) => void;

const leavePage: Leave = (url) => window.location.assign(url);

export function App({ api, authConfig, events, leave = leavePage }: { api: ApiClient; authConfig: AuthConfig; events: SessionEvents; leave?: Leave }) {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(true);
  const [bootError, setBootError] = useState<unknown>(undefined);
  const [flash, setFlash] = useState('');
  const navigate = useNavigate();
  const location = useLocation();

  // Tokens live in memory only, so every page load starts signed out and
  // restores the session: through the refresh cookie with the built-in
  // provider, through the hosted UI with Cognito (docs/auth.md).
  const loadMe = useCallback(() => {
    setChecking(true);
    setBootError(undefined);
    const path = window.location.pathname;
    const resumeWithCognito =
      authConfig.provider === 'cognito' && api.hadSession() && path !== CALLBACK_PATH && !path.startsWith('/sign-in');
    api
      .restoreSession()
      .then(async (restored) => {
        if (restored) setUser(await api.me());
        else if (resumeWithCognito && authConfig.provider === 'cognito') {
          // Cognito's own session usually signs the user in again without a
          // prompt. The marker is gone now, so a failure here cannot loop.
          leave(await beginSignIn(authConfig.cognito, path + window.location.search));
          return new Promise<never>(() => undefined); // keep "Starting Vega…" while the browser leaves
        }
      })
      .catch((e: unknown) => {
        // 401 is handled by onExpired; anything else is shown with a retry
        if (api.hasSession()) setBootError(e);
      })
      .finally(() => setChecking(false));
  }, [api, authConfig, leave]);

  useEffect(loadMe, [loadMe]);

  useEffect(
    () =>
      events.onExpired(() => {
        setUser(null);
        setFlash(SESSION_EXPIRED_MESSAGE);
        const here = window.location.pathname + window.location.search;
        if (!window.location.pathname.startsWith('/sign-in')) navigate(`/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
      }),
    [events, navigate],
  );

  const signOut = useCallback(async () => {
    if (authConfig.provider === 'cognito') {
      // Vega holds no Cognito session to end: forget the tokens, revoke the
      // refresh token, and end Cognito's session in this browser.
      const refreshToken = api.session()?.refreshToken ?? '';
      api.setSession(null);
      setUser(null);
      setFlash('');
      await revokeRefreshToken(authConfig.cognito, refreshToken);
      leave(logoutUrl(authConfig.cognito));
      return;
    }
    await api.logout();
    setUser(null);
    setFlash('');
    navigate('/sign-in', { replace: true });
  }, [api, authConfig, navigate, leave]);

  const ctx: AppContextValue = useMemo(
    () => ({
      api,
      authConfig,
      user,
      setUser: (u) => {
        setUser(u);
        if (u) setFlash('');
      },
      signOut,
    }),
    [api, authConfig, user, signOut],
  );

  if (checking) return <Loading label="Starting Vega…" />;
  if (bootError !== undefined) return <ErrorState error={bootError} onRetry={loadMe} />;

  const needAuth = !user;
  const next = encodeURIComponent(location.pathname + location.search);
  return (
    <AppContext.Provider value={ctx}>
      <Routes>
        <Route path="/sign-in" element={<SignInPage flash={flash} />} />
        <Route path="/auth/callback" element={<AuthCallbackPage />} />
        <Route
          path="*"
          element={
            needAuth ? (
              <Navigate to={`/sign-in?next=${next}`} replace />
            ) : (
              <Shell>
                <Suspense fallback={<Loading />}>
                  <Routes>
                    {SIGNED_IN_ROUTES.map(([path, Page]) => (
                      <Route key={path} path={path} element={<Page />} />
                    ))}
                  </Routes>
                </Suspense>
              </Shell>
            )
          }
        />
      </Routes>
    </AppContext.Provider>
  );
}

function Shell({ children }: { children: React.ReactNode }) {
  const { user, signOut } = useApp();
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="Vega home">
          <span aria-hidden="true">◈</span> Vega
        </NavLink>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Projects
          </NavLink>
          <NavLink to="/usage">Usage</NavLink>
          <NavLink to="/settings">Settings</NavLink>
          {isOperator(user) && <NavLink to="/operations">Operations</NavLink>}
        </nav>
        <div className="topbar-user">
          <span className="muted" title={user?.email}>
            {user?.display_name || user?.email}
          </span>
          <button type="button" className="ghost" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        <NavLink to="/">Back to projects</NavLink>
      </p>
    </section>
  );
}
