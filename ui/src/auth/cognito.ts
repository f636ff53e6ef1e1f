// Cognito hosted UI sign-in: authorization code + PKCE (RFC 7636). The
// verifier never leaves this browser tab (sessionStorage, for the redirect's
// round trip only) and the code is exchanged directly at
// https://<domain>/oauth2/token. The tokens stay in memory (docs/auth.md).
import type { Refresher, TokenPair } from '../api/client';

export interface CognitoSettings {
  domain: string;
  client_id: string;
  region: string;
}

const VERIFIER_KEY = 'vega.pkce.verifier';
const STATE_KEY = 'vega.pkce.state';
const RETURN_KEY = 'vega.pkce.return';

export const CALLBACK_PATH = '/auth/callback';
/** Where the hosted UI's logout returns to; a sign-out URL of the app client (deploy/aws). */
export const SIGN_OUT_PATH = '/';

/** Accepts "x.auth.eu-west-1.amazoncognito.com" or a full https URL. */
export function cognitoBase(domain: string): string {
  const d = domain.trim().replace(/\/+$/, '');
  if (/^https:\/\//i.test(d)) return d;
  if (/^http:\/\//i.test(d)) return d; // only for local emulators; Cognito itself is https
  return `https://${d}`;
}

function base64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function randomVerifier(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

export async function challengeFor(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export function redirectUri(origin = window.location.origin): string {
  return `${origin}${CALLBACK_PATH}`;
}

/** Builds the hosted-UI URL and remembers the verifier/state for the callback. */
export async function beginSignIn(c: CognitoSettings, returnTo: string): Promise<string> {
  const verifier = randomVerifier();
  const state = randomVerifier();
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  sessionStorage.setItem(RETURN_KEY, returnTo);
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: c.client_id,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    state,
    code_challenge: await challengeFor(verifier),
    code_challenge_method: 'S256',
  });
  return `${cognitoBase(c.domain)}/oauth2/authorize?${q.toString()}`;
}

interface CognitoTokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in: number;
  token_type: string;
}

async function tokenRequest(c: CognitoSettings, form: Record<string, string>, fetchImpl: typeof fetch): Promise<CognitoTokenResponse> {
  const res = await fetchImpl(`${cognitoBase(c.domain)}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  if (!res.ok) {
    let detail = '';
    try {
      const j = (await res.json()) as { error?: string };
      detail = j.error ? ` (${j.error})` : '';
    } catch {
      // not JSON
    }
    throw new Error(`Cognito token exchange failed with HTTP ${res.status}${detail}`);
  }
  return (await res.json()) as CognitoTokenResponse;
}

/** Finishes the hosted-UI round trip; returns tokens and where to go next. */
export async function completeSignIn(
  c: CognitoSettings,
  params: URLSearchParams,
  fetchImpl: typeof fetch = fetch,
): Promise<{ tokens: TokenPair; returnTo: string }> {
  const err = params.get('error');
  if (err) throw new Error(`Cognito sign-in failed: ${params.get('error_description') ?? err}`);
  const code = params.get('code');
  const state = params.get('state');
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const expected = sessionStorage.getItem(STATE_KEY);
  const returnTo = sessionStorage.getItem(RETURN_KEY) ?? '/';
  sessionStorage.removeItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  if (!code || !verifier || !state || state !== expected) {
    throw new Error('This sign-in link is invalid or was already used. Please sign in again.');
  }
  const r = await tokenRequest(
    c,
    { grant_type: 'authorization_code', client_id: c.client_id, code, redirect_uri: redirectUri(), code_verifier: verifier },
    fetchImpl,
  );
  return { tokens: { accessToken: r.access_token, refreshToken: r.refresh_token ?? '' }, returnTo: safeReturn(returnTo) };
}

/**
 * Refresher for ApiClient: Cognito does not rotate refresh tokens, so the old
 * one is kept (in memory only: after a reload the hosted UI signs in again).
 */
export function cognitoRefresher(c: CognitoSettings, fetchImpl: typeof fetch = fetch): Refresher {
  return async (current: TokenPair | null): Promise<TokenPair> => {
    const refreshToken = current?.refreshToken;
    if (!refreshToken) throw new Error('no refresh token');
    const r = await tokenRequest(c, { grant_type: 'refresh_token', client_id: c.client_id, refresh_token: refreshToken }, fetchImpl);
    return { accessToken: r.access_token, refreshToken: r.refresh_token ?? refreshToken };
  };
}

/** The hosted UI's logout: ends Cognito's own session in this browser, then returns to SIGN_OUT_PATH. */
export function logoutUrl(c: CognitoSettings): string {
  const q = new URLSearchParams({ client_id: c.client_id, logout_uri: `${window.location.origin}${SIGN_OUT_PATH}` });
  return `${cognitoBase(c.domain)}/logout?${q.toString()}`;
}

/**
 * Revokes the refresh token at Cognito (RFC 7009), which also ends the access
 * tokens issued from it for Cognito's own APIs. Best effort: sign-out goes on
 * whatever the answer, and Vega keeps accepting an access token already out
 * until it expires (docs/auth.md).
 */
export async function revokeRefreshToken(c: CognitoSettings, refreshToken: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  if (!refreshToken) return;
  try {
    await fetchImpl(`${cognitoBase(c.domain)}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: c.client_id }).toString(),
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    // unreachable or slow: the hosted UI logout still ends Cognito's session
  }
}

/** Only same-app paths: a crafted return value must not send the user elsewhere. */
export function safeReturn(p: string | null | undefined): string {
  if (!p || !p.startsWith('/') || p.startsWith('//') || p.startsWith('/\\')) return '/';
  return p;
}
