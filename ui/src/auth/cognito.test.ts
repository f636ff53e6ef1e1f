import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { beginSignIn, challengeFor, cognitoBase, cognitoRefresher, completeSignIn, safeReturn } from './cognito';

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

  it('normalises domains and refuses off-site return paths', () => {
    expect(cognitoBase('https://x.example.com/')).toBe('https://x.example.com');
    expect(safeReturn('//evil.example.com')).toBe('/');
    expect(safeReturn('https://evil.example.com')).toBe('/');
    expect(safeReturn('/projects/prj_1?x=1')).toBe('/projects/prj_1?x=1');
  });
});
