import { useState, type FormEvent } from 'react';
import { Navigate, useSearchParams } from 'react-router-dom';
import { errorMessage } from '../api/client';
import { useApp } from '../app-context';
import { beginSignIn, logoutUrl, safeReturn } from '../auth/cognito';
import { useDocumentTitle } from '../lib/hooks';

export function SignInPage({ flash }: { flash?: string }) {
  const { api, authConfig, user, setUser } = useApp();
  const [params] = useSearchParams();
  const next = safeReturn(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useDocumentTitle('Sign in');

  if (user) return <Navigate to={next} replace />;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      setUser(await api.login(email.trim(), password));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const cognito = async () => {
    if (authConfig.provider !== 'cognito') return;
    setBusy(true);
    try {
      window.location.assign(await beginSignIn(authConfig.cognito, next));
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <div className="signin-card">
        <h1>
          <span aria-hidden="true">◈</span> Sign in to Vega
        </h1>
        {flash && (
          <p className="flash" role="alert">
            {flash}
          </p>
        )}
        {authConfig.provider === 'cognito' ? (
          <>
            <button type="button" className="primary wide" onClick={() => void cognito()} disabled={busy}>
              Sign in with Cognito
            </button>
            {/* Cognito's own session signs the same account in again without asking; this ends it first. */}
            <p className="hint muted small">
              Another account, or signed out everywhere? <a href={logoutUrl(authConfig.cognito)}>Sign out of Cognito</a> first.
            </p>
          </>
        ) : (
          <form onSubmit={(e) => void submit(e)} aria-label="Sign in">
            <label>
              Email
              <input type="email" name="email" autoComplete="username" autoFocus required value={email} onChange={(e) => setEmail(e.target.value)} />
            </label>
            <label>
              Password
              <input
                type="password"
                name="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            {error && (
              <p className="inline-error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="primary wide" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
            {/* The server never sends a password (a DNS-rebound page could read it); the person who started Vega has it. */}
            <p className="hint muted small">
              Local install? The built-in debug account and its default password are in the README, and <code>vega serve</code> prints
              them in its start-up log while the default is in use.
            </p>
          </form>
        )}
        {authConfig.provider === 'cognito' && error && (
          <p className="inline-error" role="alert">
            {error}
          </p>
        )}
      </div>
    </main>
  );
}
