import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { beginSignIn, challengeFor, cognitoBase, cognitoRefresher, completeSignIn, logoutUrl, revokeRefreshToken, safeReturn } from './cognito';

const settings = { domain: 'vega.auth.eu-west-1.amazoncognito.com', client_id: 'client123', region: 'eu-west-1' };

describe('Cognito PKCE', () => {
  it('derives the S256 challenge as base64url(sha256(verifier))', async () => {
    const verifier = 'M25iVXpKU3puUjFaYWg3T1NDTDQtcW1ROUY5YXlwalNoc0hhakxifmZHag';
    expect(await challengeFor(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });

  it('round-trips: authorize URL → callback → token exchange with the same verifier', async () => {
    const url = new URL(await beginSignIn(settings, '/scans/scan_1'));
    expect(url.origin).toBe('https://vega.auth.eu-west-1.amazoncognito.com');
    expect(url.pathname).toBe('/oauth2/authorize');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(`${window.location.origin}/auth/callback`);
    const state = url.searchParams.get('state')!;
    let sentVerifier = '';
    const fetchFn = vi.fn(async (_u: RequestInfo | URL, init?: RequestInit) => {
      const form = new URLSearchParams(String(init?.body));
      expect(form.get('grant_type')).toBe('authorization_code');
      expect(form.get('code')).toBe('the-code');
      sentVerifier = form.get('code_verifier')!;
      return new Response(JSON.stringify({ access_token: 'at', refresh_token: 'rt', expires_in: 3600, token_type: 'Bearer' }), { status: 200 });
    }) as unknown as typeof fetch;
    const r = await completeSignIn(settings, new URLSearchParams({ code: 'the-code', state }), fetchFn);
    expect(r.tokens).toEqual({ accessToken: 'at', refreshToken: 'rt' });
    expect(r.returnTo).toBe('/scans/scan_1');
    expect(await challengeFor(sentVerifier)).toBe(url.searchParams.get('code_challenge'));
  });

  it('rejects a callback whose state does not match (CSRF)', async () => {
    await beginSignIn(settings, '/');
    await expect(completeSignIn(settings, new URLSearchParams({ code: 'c', state: 'forged' }), vi.fn() as unknown as typeof fetch)).rejects.toThrow(/invalid/);
  });

  it('keeps the refresh token when Cognito does not rotate it', async () => {
    const fetchFn = vi.fn(async () => new Response(JSON.stringify({ access_token: 'new', expires_in: 3600, token_type: 'Bearer' }), { status: 200 })) as unknown as typeof fetch;
    await expect(cognitoRefresher(settings, fetchFn)({ accessToken: 'old', refreshToken: 'rt' })).resolves.toEqual({ accessToken: 'new', refreshToken: 'rt' });
  });

  it('keeps the verifier only for the round trip, and no token in web storage', async () => {
    const url = new URL(await beginSignIn(settings, '/'));
    const fetchFn = vi.fn(async () => new Response(JSON.stringify({ access_token: 'at', refresh_token: 'rt', id_token: 'it', expires_in: 3600, token_type: 'Bearer' }), { status: 200 })) as unknown as typeof fetch;
    await completeSignIn(settings, new URLSearchParams({ code: 'c', state: url.searchParams.get('state')! }), fetchFn);
    expect(Object.keys(sessionStorage)).toEqual([]);
    expect(Object.keys(localStorage)).toEqual([]);
  });

  it('revokes the refresh token at Cognito, and signs out even when Cognito does not answer', async () => {
    const sent: [string, string][] = [];
    const ok = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
      sent.push([String(u), String(init?.body)]);
      return new Response(null, { status: 200 });
    }) as unknown as typeof fetch;
    await revokeRefreshToken(settings, 'the-refresh-token', ok);
    expect(sent[0][0]).toBe('https://vega.auth.eu-west-1.amazoncognito.com/oauth2/revoke');
    expect(Object.fromEntries(new URLSearchParams(sent[0][1]))).toEqual({ token: 'the-refresh-token', client_id: 'client123' });
    const down = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(revokeRefreshToken(settings, 'rt', down)).resolves.toBeUndefined();
    await revokeRefreshToken(settings, '', down); // nothing to revoke: no request
    expect(down).toHaveBeenCalledTimes(1);
  });

  it('logs out to a registered sign-out URL', () => {
    const u = new URL(logoutUrl(settings));
    expect(u.origin + u.pathname).toBe('https://vega.auth.eu-west-1.amazoncognito.com/logout');
    expect(u.searchParams.get('client_id')).toBe('client123');
    expect(u.searchParams.get('logout_uri')).toBe(`${window.location.origin}/`);
  });

  it('normalises domains and refuses off-site return paths', () => {
    expect(cognitoBase('https://x.example.com/')).toBe('https://x.example.com');
    expect(safeReturn('//evil.example.com')).toBe('/');
    expect(safeReturn('https://evil.example.com')).toBe('/');
    expect(safeReturn('/projects/prj_1?x=1')).toBe('/projects/prj_1?x=1');
  });
});
