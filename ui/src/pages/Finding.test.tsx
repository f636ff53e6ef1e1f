import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import type { Finding, FindingHistory, Occurrence } from '../api/types';
import { FileBrowser } from '../components/FileBrowser';
import type { ListContext } from '../lib/listNav';
import { makeFinding } from '../test/fixtures';
import { jsonResponse, renderWithApp } from '../test/render';
import FindingPage from './Finding';

const KEY = 'AKIAQYLPMN5HHHFPZAM2';
const TOTAL = 25;

const finding = (id: string, over: Partial<Finding> = {}): Finding =>
  makeFinding({
    id,
    title: `AWS access key ${id}`,
    severity: 'critical',
    category: 'aws-access-token',
    file_path: 'app/c00.py',
    description: 'A key.',
    evidence: 'KEY = "AKIA…[20 chars]"',
    recommendation: 'Rotate it.',
    locations: Array.from({ length: TOTAL }, (_, i) => ({ file_path: `app/c${String(i).padStart(2, '0')}.py`, start_line: 3, end_line: 3, start_column: 8, end_column: 27, secret: true })),
    ...over,
  });

/** What the server answers: masked lines unless revealed. */
function occurrence(i: number, revealed: boolean): Occurrence {
  const value = revealed ? KEY : 'AKIA…[20 chars]';
  return {
    file_path: `app/c${String(i).padStart(2, '0')}.py`,
    start_line: 3,
    end_line: 3,
    start_column: 8,
    end_column: 27,
    secret: true,
    index: i,
    from_line: 2,
    lines: ['', `KEY = "${value}"`, ''],
    spans: [{ start_line: 3, start_column: 8, end_line: 3, end_column: 8 + Array.from(value).length - 1 }],
    masked: !revealed,
  };
}

function server() {
  const calls: { method: string; url: URL; body?: unknown }[] = [];
  const state: Record<string, Finding> = {};
  const history: FindingHistory[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://x');
    const method = init?.method ?? 'GET';
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body });
    const p = url.pathname;
    let m: RegExpMatchArray | null;
    if ((m = p.match(/^\/v1\/findings\/([^/]+)$/))) {
      const id = m[1]!;
      state[id] ??= finding(id);
      if (method === 'PATCH') {
        state[id] = { ...state[id]!, status: body.status, dismissed_reason: body.dismissed_reason, updated_at: new Date().toISOString() };
        history.push({ id: `h${history.length}`, finding_id: id, actor: 'usr_1', from_status: 'open', to_status: body.status, reason: body.dismissed_reason, at: '2026-01-02T00:00:00Z' });
      }
      return jsonResponse(200, state[id]);
    }
    if ((m = p.match(/^\/v1\/findings\/([^/]+)\/history$/))) return jsonResponse(200, { items: history.filter((h) => h.finding_id === m![1]), next_cursor: null });
    if ((m = p.match(/^\/v1\/findings\/([^/]+)\/(occurrences|reveal)$/))) {
      const revealed = m[2] === 'reveal';
      const q = revealed ? body : { offset: Number(url.searchParams.get('offset')), limit: Number(url.searchParams.get('limit')) };
      if (revealed) history.push({ id: `h${history.length}`, finding_id: m[1]!, actor: 'usr_1', from_status: 'open', to_status: 'open', reason: 'secret_revealed', at: '2026-01-02T00:00:00Z' });
      const items = [];
      for (let i = q.offset; i < Math.min(TOTAL, q.offset + q.limit); i++) items.push(occurrence(i, revealed));
      return jsonResponse(200, { items, total: TOTAL, offset: q.offset, limit: q.limit, snapshot_id: 'snap_1' });
    }
    if (p.startsWith('/v1/projects/')) return jsonResponse(200, { id: 'prj_1', name: 'P' });
    if (p.startsWith('/v1/repositories/')) return jsonResponse(200, { id: 'repo_1', name: 'R', project_id: 'prj_1' });
    return jsonResponse(404, { error: { code: 'not_found', message: p } });
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const list: ListContext = {
  scope: { kind: 'repository', id: 'repo_1' },
  query: { status: 'open', sort: '-severity', limit: 50 },
  ids: ['fnd_1', 'fnd_2', 'fnd_3'],
  page: 1,
  cursor: null,
  nextCursor: null,
  total: 3,
  back: '/repositories/repo_1/findings',
};

function renderPage(id = 'fnd_2', withList = true) {
  const s = server();
  renderWithApp(
    <Routes>
      <Route path="/findings/:findingId" element={<FindingPage />} />
    </Routes>,
    { fetch: s.fetch, route: { pathname: `/findings/${id}`, state: withList ? { list } : undefined } },
  );
  return s;
}

const blocks = () => within(screen.getByRole('list', { name: 'Occurrences' })).getAllByRole('figure');

// Generous timeouts: the shared test machine runs several suites at once.
describe('FindingPage', { timeout: 30_000 }, () => {
  it('shows a page of occurrences, one request per page, secrets masked, each linked to the file browser at its line', async () => {
    const s = renderPage();
    await waitFor(() => expect(blocks()).toHaveLength(10));
    expect(screen.getByTestId('occurrence-range').textContent).toBe('1–10 of 25');
    expect(document.body.textContent).not.toContain(KEY);
    expect(blocks()[0]!.querySelector('[data-secret=mask]')?.textContent).toBe('AKIA…[20 chars]');
    const link = within(screen.getByRole('list', { name: 'Occurrences' })).getAllByRole('link')[0]!;
    expect(link.getAttribute('href')).toBe('/repositories/repo_1/files?file=app%2Fc00.py&line=3&snapshot=snap_1');
    expect(s.calls.filter((c) => c.url.pathname.endsWith('/occurrences'))).toHaveLength(1);
    // no per-file requests: the server sent the code
    expect(s.calls.some((c) => c.url.pathname.endsWith('/file'))).toBe(false);

    await userEvent.click(within(screen.getByRole('navigation', { name: 'Occurrence pages' })).getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(screen.getByTestId('occurrence-range').textContent).toBe('11–20 of 25'));
    const occ = s.calls.filter((c) => c.url.pathname.endsWith('/occurrences'));
    expect(occ[occ.length - 1]!.url.searchParams.get('offset')).toBe('10');
    await userEvent.click(within(screen.getByRole('navigation', { name: 'Occurrence pages' })).getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(blocks()).toHaveLength(5));
    expect(within(screen.getByRole('navigation', { name: 'Occurrence pages' })).getByRole('button', { name: 'Next' })).toHaveProperty('disabled', true);
  });

  it('reveals only after asking, through the logged reveal call, and shows it in the history', async () => {
    const s = renderPage();
    await waitFor(() => expect(blocks()).toHaveLength(10));
    await userEvent.click(screen.getByRole('button', { name: 'Reveal secrets' }));
    const dialog = screen.getByRole('dialog', { name: 'Reveal secrets?' });
    // Cancel is focused first: Enter never reveals by accident
    expect(document.activeElement?.textContent).toBe('Cancel');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Reveal' }));
    await waitFor(() => expect(blocks()[0]!.textContent).toContain(KEY));
    const reveal = s.calls.find((c) => c.url.pathname.endsWith('/reveal'))!;
    expect(reveal.method).toBe('POST');
    expect(reveal.body).toEqual({ offset: 0, limit: 10 });
    await screen.findByText('revealed the secret');
    await userEvent.click(screen.getByRole('button', { name: 'Hide secrets' }));
    expect(document.body.textContent).not.toContain(KEY);
  });

  it('j/k move within the list it came from; c confirms; d opens the reasons; ? shows help', async () => {
    const s = renderPage('fnd_2');
    await screen.findByText('2 of 3');
    fireEvent.keyDown(window, { key: 'j' });
    await screen.findByText('3 of 3');
    expect(screen.getByRole('button', { name: 'Next →' })).toHaveProperty('disabled', true);
    fireEvent.keyDown(window, { key: 'k' });
    fireEvent.keyDown(window, { key: 'k' });
    await screen.findByText('1 of 3');
    await screen.findByRole('heading', { name: 'AWS access key fnd_1' });

    fireEvent.keyDown(window, { key: 'c' });
    await waitFor(() => expect(screen.getByTestId('finding-status').textContent).toContain('Confirmed'));
    expect(s.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ status: 'confirmed' });

    fireEvent.keyDown(window, { key: 'd' });
    const menu = await screen.findByRole('menu', { name: 'Dismiss as' });
    expect(document.activeElement?.getAttribute('role')).toBe('menuitem');
    fireEvent.keyDown(menu, { key: 'ArrowDown' });
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(screen.getByTestId('finding-status').textContent).toMatch(/Dismissed as Won.?t fix/i));
    expect(s.calls.filter((c) => c.method === 'PATCH').pop()?.body).toEqual({ status: 'dismissed', dismissed_reason: 'wont_fix' });

    fireEvent.keyDown(window, { key: '?' });
    await screen.findByRole('dialog', { name: 'Keyboard shortcuts' });
  });

  it('ignores shortcuts while typing, and has no list moves without a list', async () => {
    const s = renderPage('fnd_2', false);
    await screen.findByRole('heading', { name: 'AWS access key fnd_2' });
    expect(screen.queryByTestId('list-position')).toBeNull();
    const note = screen.getByLabelText('Note');
    note.focus();
    await userEvent.keyboard('cdj');
    expect((note as HTMLTextAreaElement).value).toBe('cdj');
    expect(s.calls.some((c) => c.method === 'PATCH')).toBe(false);
    expect(screen.queryByRole('menu')).toBeNull();
    await act(async () => undefined);
  });
});

describe('FileBrowser', { timeout: 30_000 }, () => {
  it('opens the file and line from the URL, marks lines with findings and masks the secret until a logged reveal', async () => {
    const content = `import os\n\nAWS = "${KEY}"\nX = 1\n`;
    const calls: string[] = [];
    const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input), 'http://x');
      calls.push(`${init?.method ?? 'GET'} ${url.pathname}`);
      if (url.pathname.endsWith('/tree')) return jsonResponse(200, { path: 'app', entries: [{ name: 'c.py', path: 'app/c.py', type: 'file', size: 40 }] });
      if (url.pathname.endsWith('/file')) return jsonResponse(200, { path: 'app/c.py', size: 40, content, truncated: false, language: 'python' });
      if (url.pathname.endsWith('/in-file'))
        return jsonResponse(200, {
          path: 'app/c.py',
          complete: true,
          items: [{ finding_id: 'fnd_9', title: 'AWS key', severity: 'critical', status: 'open', file_path: 'app/c.py', start_line: 3, end_line: 3, start_column: 8, end_column: 27, secret: true }],
        });
      if (url.pathname.endsWith('/reveal')) return jsonResponse(200, { items: [], total: 1, offset: 0, limit: 1, snapshot_id: 's' });
      return jsonResponse(404, { error: { code: 'not_found', message: 'x' } });
    }) as typeof globalThis.fetch;
    renderWithApp(<FileBrowser repositoryId="repo_1" snapshotId="snap_1" />, { fetch, route: '/repositories/repo_1/files?file=app/c.py&line=3' });
    const view = await screen.findByRole('figure', { name: 'Contents of app/c.py' });
    const line3 = view.querySelector('[data-line="3"]')!;
    expect(line3.className).toMatch(/\bhl\b/);
    expect(line3.className).toMatch(/\bmarked\b/);
    expect(view.querySelector('[data-line="4"]')!.className).not.toMatch(/marked/);
    expect(view.textContent).not.toContain(KEY);
    expect(line3.querySelector('[data-secret=mask]')?.textContent).toBe('AKIA…[20 chars]');
    expect(screen.getByRole('link', { name: 'AWS key' }).getAttribute('href')).toBe('/findings/fnd_9');

    await userEvent.click(screen.getByRole('button', { name: 'Reveal secrets' }));
    await userEvent.click(within(screen.getByRole('dialog', { name: 'Reveal secrets?' })).getByRole('button', { name: 'Reveal' }));
    await waitFor(() => expect(screen.getByRole('figure', { name: 'Contents of app/c.py' }).textContent).toContain(KEY));
    expect(calls).toContain('POST /v1/findings/fnd_9/reveal');
  });
});
