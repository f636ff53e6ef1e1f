// Runtime configuration, not baked into the bundle: the same build runs behind
// the binary (same origin) and on CloudFront (a static /config.json).
import type { RuntimeConfig } from './api/types';

export async function loadRuntimeConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  try {
    const res = await fetchImpl('/config.json', { cache: 'no-store' });
    if (!res.ok) return { api_base_url: '' };
    const v = (await res.json()) as Partial<RuntimeConfig>;
    const base = typeof v.api_base_url === 'string' ? v.api_base_url.trim() : '';
    // Only http(s) origins; anything else is a misconfiguration we refuse to follow.
    if (base && !/^https?:\/\//i.test(base)) throw new Error(`config.json: api_base_url must be an http(s) URL, got "${base}"`);
    return { api_base_url: base };
  } catch (e) {
    if (e instanceof SyntaxError) return { api_base_url: '' };
    throw e;
  }
}
