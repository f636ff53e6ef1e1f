import { describe, expect, it, vi } from 'vitest';
import { loadRuntimeConfig, parseRuntimeConfig } from './boot';

const serve = (status: number, body: string) =>
  vi.fn(async () => new Response(body, { status, headers: { 'Content-Type': 'application/json' } })) as unknown as typeof fetch;

describe('runtime configuration (/config.json)', () => {
  it('same origin when the file is missing or not JSON', async () => {
    expect(await loadRuntimeConfig(serve(404, 'not found'))).toEqual({ api_base_url: '' });
    expect(await loadRuntimeConfig(serve(200, '<!doctype html>'))).toEqual({ api_base_url: '' });
  });

  it('reads the API base URL and the Cognito settings written at deploy time', async () => {
    const file = {
      api_base_url: 'https://api.example.com',
      auth: { provider: 'cognito', cognito: { domain: 'vega.auth.eu-west-1.amazoncognito.com', client_id: 'abc123', region: 'eu-west-1' } },
    };
    expect(await loadRuntimeConfig(serve(200, JSON.stringify(file)))).toEqual(file);
    expect(parseRuntimeConfig({ api_base_url: '', auth: { provider: 'custom', debug: { email: 'x', password: 'y' } } })).toEqual({
      api_base_url: '',
      auth: { provider: 'custom' }, // credentials never come from a static file
    });
  });

  it('refuses settings it must not follow', () => {
    expect(() => parseRuntimeConfig({ api_base_url: 'javascript:alert(1)' })).toThrow(/http\(s\) URL/);
    expect(() => parseRuntimeConfig({ auth: { provider: 'saml' } })).toThrow(/custom" or "cognito/);
    expect(() => parseRuntimeConfig({ auth: { provider: 'cognito', cognito: { domain: 'd', region: 'r' } } })).toThrow(/client_id/);
  });

  it('a network failure is an error, not a silent default', async () => {
    const down = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(loadRuntimeConfig(down)).rejects.toThrow('Failed to fetch');
  });
});
