import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { errorMessage } from '../api/client';
import { useApp } from '../app-context';
import { completeSignIn } from '../auth/cognito';
import { Loading } from '../components/States';

/** Landing page of the Cognito hosted UI redirect (authorization code + PKCE). */
export function AuthCallbackPage() {
  const { api, authConfig, setUser } = useApp();
  const navigate = useNavigate();
  const [error, setError] = useState('');
  const started = useRef(false);

  useEffect(() => {
    // the code is single-use: StrictMode's double effect must not spend it twice
    if (started.current) return;
    started.current = true;
    if (authConfig.provider !== 'cognito') {
      setError('This server does not use Cognito sign-in.');
      return;
    }
    completeSignIn(authConfig.cognito, new URLSearchParams(window.location.search))
      .then(async ({ tokens, returnTo }) => {
        api.setSession(tokens);
        setUser(await api.me());
        navigate(returnTo, { replace: true });
      })
      .catch((e: unknown) => setError(errorMessage(e)));
  }, [api, authConfig, navigate, setUser]);

  if (error)
    return (
      <main className="signin" id="main">
        <div className="signin-card" role="alert">
          <h1>Sign-in failed</h1>
          <p>{error}</p>
          <Link to="/sign-in">Back to sign in</Link>
        </div>
      </main>
    );
  return <Loading label="Completing sign-in…" />;
}
