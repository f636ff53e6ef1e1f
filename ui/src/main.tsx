import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { ApiClient, MemoryTokenStore, errorMessage, forgetLegacySession } from './api/client';
import { cognitoRefresher } from './auth/cognito';
import { loadRuntimeConfig } from './boot';
import { App, SessionEvents } from './App';
import './styles.css';

/** localStorage, or nothing where the browser refuses access to it. */
function browserStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

async function boot() {
  const root = createRoot(document.getElementById('root')!);
  try {
    forgetLegacySession();
    const cfg = await loadRuntimeConfig();
    const events = new SessionEvents();
    const api = new ApiClient({
      baseUrl: cfg.api_base_url,
      tokens: new MemoryTokenStore(null, browserStorage()),
      onSessionExpired: () => events.emitExpired(),
    });
    const authConfig = cfg.auth ?? (await api.authConfig());
    if (authConfig.provider === 'cognito') api.setRefresher(cognitoRefresher(authConfig.cognito));
    root.render(
      <StrictMode>
        <BrowserRouter>
          <App api={api} authConfig={authConfig} events={events} />
        </BrowserRouter>
      </StrictMode>,
    );
  } catch (e) {
    root.render(
      <main className="boot-error" role="alert">
        <h1>Vega cannot reach its API</h1>
        <p>{errorMessage(e)}</p>
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </main>,
    );
  }
}

void boot();
