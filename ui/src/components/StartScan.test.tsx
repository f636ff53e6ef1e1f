import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { EngineStatus, Repository } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import { StartScan } from './StartScan';

const repo = { id: 'repo_1', name: 'shop' } as Repository;
const codexMissing: EngineStatus = {
  name: 'codex',
  available: false,
  default: false,
  reason: 'no model provider configured (VEGA_LLM_PROVIDER_API_KEY or VEGA_LLM_PROXY_URL)',
  enable: 'set VEGA_LLM_PROVIDER_API_KEY (the in-process LLM proxy) or VEGA_LLM_PROXY_URL (a remote one)',
};

function serve(engines: EngineStatus[]) {
  const bodies: unknown[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url.endsWith('/v1/engines')) return jsonResponse(200, { items: engines, next_cursor: null });
    if (url.endsWith('/scans') && init?.method === 'POST') {
      bodies.push(JSON.parse(String(init.body)));
      return jsonResponse(202, { id: 'scan_1' });
    }
    return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'no', retryable: false } });
  });
  return { fetchFn: fetchFn as unknown as typeof fetch, bodies };
}

describe('StartScan', () => {
  it('disables an unavailable engine with its reason and how to enable it, and names the default', async () => {
    const { fetchFn, bodies } = serve([{ name: 'secrets', available: true, default: true }, codexMissing]);
    const onStarted = vi.fn();
    renderWithApp(<StartScan repo={repo} onStarted={onStarted} />, { fetch: fetchFn });
    const codex = await screen.findByRole('checkbox', { name: /Codex AI audit/ });
    expect(codex).toBeDisabled();
    expect(codex).not.toBeChecked();
    expect(codex).toHaveAccessibleDescription(/Unavailable: no model provider configured .* To enable it: set VEGA_LLM_PROVIDER_API_KEY/);
    expect(screen.getByRole('checkbox', { name: /Secrets/ })).toBeChecked();
    expect(screen.getByText(/^Default: Secrets \(offline, deterministic\)\./)).toBeInTheDocument();

    await userEvent.click(codex); // disabled: nothing changes
    await userEvent.click(screen.getByRole('button', { name: 'Start scan' }));
    await waitFor(() => expect(onStarted).toHaveBeenCalledWith('scan_1'));
    expect(bodies).toEqual([{}]); // the default, not a named unavailable engine
  });

  it('sends the engines chosen when they differ from the default, and needs at least one', async () => {
    const { fetchFn, bodies } = serve([
      { name: 'codex', available: true, default: true },
      { name: 'secrets', available: true, default: true },
    ]);
    renderWithApp(<StartScan repo={repo} onStarted={() => undefined} />, { fetch: fetchFn });
    const secrets = await screen.findByRole('checkbox', { name: /Secrets/ });
    expect(screen.getByText(/^Default: Codex AI audit and Secrets/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('checkbox', { name: /Codex/ }));
    await userEvent.click(secrets);
    expect(screen.getByRole('button', { name: 'Start scan' })).toBeDisabled();
    expect(screen.getByText('Choose at least one engine.')).toBeInTheDocument();
    await userEvent.click(secrets);
    await userEvent.click(screen.getByRole('button', { name: 'Start scan' }));
    await waitFor(() => expect(bodies).toEqual([{ engines: ['secrets'] }]));
  });
});
