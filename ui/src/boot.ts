// Runtime configuration, not baked into the bundle: the same build runs behind
// the binary (same origin, /config.json served by it) and on CloudFront, where
// /config.json is written at deploy time (deploy/aws/scripts/publish-dashboard.cjs).
// Its optional `auth` block carries the sign-in settings, so a static host
// needs no round trip to /v1/auth/config before showing the sign-in page.
import type { AuthConfig, RuntimeConfig } from './api/types';

export async function loadRuntimeConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  let raw: unknown;
  try {
    const res = await fetchImpl('/config.json', { cache: 'no-store' });
    if (!res.ok) return { api_base_url: '' };
    raw = await res.json();
  } catch (e) {
    if (e instanceof SyntaxError) return { api_base_url: '' };
    throw e;
  }
  return parseRuntimeConfig(raw);
}

/** Validates config.json; a misconfiguration is an error we show, never something we follow. */
export function parseRuntimeConfig(raw: unknown): RuntimeConfig {
  const v = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const base = typeof v.api_base_url === 'string' ? v.api_base_url.trim() : '';
  // Only http(s) origins.
  if (base && !/^https?:\/\//i.test(base)) throw new Error(`config.json: api_base_url must be an http(s) URL, got "${base}"`);
  if (v.auth === undefined) return { api_base_url: base };
  return { api_base_url: base, auth: parseAuth(v.auth) };
}

function parseAuth(raw: unknown): AuthConfig {
  const a = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (a.provider === 'custom') return { provider: 'custom' };
  if (a.provider === 'cognito') {
    const c = (typeof a.cognito === 'object' && a.cognito !== null ? a.cognito : {}) as Record<string, unknown>;
    const field = (k: 'domain' | 'client_id' | 'region') => {
      const s = c[k];
      if (typeof s !== 'string' || s.trim() === '') throw new Error(`config.json: auth.cognito.${k} is required`);
      return s.trim();
    };
    return { provider: 'cognito', cognito: { domain: field('domain'), client_id: field('client_id'), region: field('region') } };
  }
  throw new Error(`config.json: auth.provider must be "custom" or "cognito", got ${JSON.stringify(a.provider)}`);
}
