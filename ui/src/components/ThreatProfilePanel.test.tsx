import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ThreatProfile, ThreatProfileVersion } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import { ThreatProfilePanel } from './ThreatProfilePanel';

const content = (summary: string) => ({
  summary,
  assets: [],
  entry_points: [],
  trust_boundaries: [],
  focus: ['authz'],
  out_of_scope: ['vendor'],
  severity_threshold: 'low',
});
const profile = (source: ThreatProfile['source'], summary: string): ThreatProfile => ({
  id: 'tp_1',
  repository_id: 'repo_1',
  status: 'ready',
  source,
  content: content(summary),
  error: null,
  updated_at: '2026-03-01T10:00:00Z',
  updated_by: 'usr_1',
});
const version = (id: string, source: ThreatProfileVersion['source'], summary: string): ThreatProfileVersion => ({
  id,
  repository_id: 'repo_1',
  source,
  content: content(summary),
  created_at: '2026-03-01T10:00:00Z',
  created_by: 'usr_1',
});

/** A fetch double for one repository's profile that records every call. */
function serve(current: ThreatProfile) {
  const calls: string[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    calls.push(`${method} ${url}`);
    if (url.endsWith('/threat-profile') && method === 'GET') return jsonResponse(200, current);
    if (url.endsWith('/threat-profile/generate')) return jsonResponse(202, { ...current, status: 'generating' });
    if (url.endsWith('/threat-profile/versions'))
      return jsonResponse(200, {
        items: [version('tpv_3', 'edited', 'Hand written'), version('tpv_2', 'generated', 'Generated one')],
        next_cursor: null,
      });
    if (url.endsWith('/versions/tpv_2/restore')) return jsonResponse(200, profile('restored', 'Generated one'));
    return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'no', retryable: false } });
  });
  return { fetchFn: fetchFn as unknown as typeof fetch, calls };
}

/** Renders the panel over serve(profile(source, summary)) once the profile shows; resolves to the recorded calls. */
async function renderPanel(source: ThreatProfile['source'], summary: string) {
  const { fetchFn, calls } = serve(profile(source, summary));
  renderWithApp(<ThreatProfilePanel repositoryId="repo_1" canGenerate />, { fetch: fetchFn });
  await screen.findByText(summary);
  return calls;
}

/** Generate was sent, and no dialog is left open. */
async function expectGeneratedWithNoDialog(calls: string[]) {
  await waitFor(() => expect(calls).toContain('POST /v1/repositories/repo_1/threat-profile/generate'));
  expect(screen.queryByRole('dialog')).toBeNull();
}

describe('ThreatProfilePanel', () => {
  it('asks before Generate replaces manual edits, and generates only once confirmed', async () => {
    const calls = await renderPanel('edited', 'Hand written');
    await userEvent.click(screen.getByRole('button', { name: 'Generate' }));
    const dialog = screen.getByRole('dialog', { name: 'Replace your edits?' });
    expect(dialog).toHaveTextContent('edited by hand');
    expect(dialog).toHaveTextContent('stays in History');
    expect(calls.filter((c) => c.includes('/generate'))).toEqual([]);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.filter((c) => c.includes('/generate'))).toEqual([]);

    await userEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await userEvent.click(screen.getByRole('button', { name: 'Generate and replace' }));
    await expectGeneratedWithNoDialog(calls);
  });

  it('generates without asking when the profile was generated', async () => {
    const calls = await renderPanel('generated', 'From the code');
    await userEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await expectGeneratedWithNoDialog(calls);
  });

  it('lists kept versions and restores an earlier one', async () => {
    const calls = await renderPanel('edited', 'Hand written');
    await userEvent.click(screen.getByRole('button', { name: 'History' }));
    const dialog = screen.getByRole('dialog', { name: 'Threat profile history' });
    const items = await within(dialog).findAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('In use');
    expect(within(items[0]!).queryByRole('button', { name: 'Restore' })).toBeNull();
    await userEvent.click(within(items[1]!).getByRole('button', { name: 'Restore' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls).toContain('POST /v1/repositories/repo_1/threat-profile/versions/tpv_2/restore');
    expect(screen.getByText('Generated one')).toBeInTheDocument();
    expect(screen.getByText(/Restored ·/)).toBeInTheDocument();
  });

  it('says which engines honour out_of_scope', async () => {
    await renderPanel('generated', 'From the code');
    expect(screen.getByText(/Codex AI audit skips these paths\. The secrets engine scans them anyway/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Edit' }));
    expect(screen.getByRole('form', { name: 'Edit threat profile' })).toHaveTextContent('The secrets engine scans them anyway');
  });
});
