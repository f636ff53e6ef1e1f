import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useLocation } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import type { Finding } from '../api/types';
import { makeFinding } from '../test/fixtures';
import { jsonResponse, renderWithApp } from '../test/render';
import { FindingsView } from './FindingsView';
import { isFiltered, nextSort, nextStatus, rangeLabel, selectRange, sortDirection, statusFromParam, statusParam, tabLabel, viewFromParams } from './findingsQuery';

const finding = makeFinding;

function LocationProbe() {
  return <output data-testid="location">{useLocation().search}</output>;
}

describe('findingsQuery', () => {
  it('reads filters, status tab, sort and page from the URL with defaults', () => {
    const v = viewFromParams(new URLSearchParams(''));
    expect(v).toEqual({ filters: { status: 'open' }, status: ['open'], sort: '-severity', limit: 50, cursor: null, page: 1 });
    const w = viewFromParams(new URLSearchParams('severity=critical,,high&status=all&sort=-path&limit=100&cursor=abc&page=3&rule=r1&bogus=1'));
    expect(w.filters).toEqual({ severity: 'critical,high', rule: 'r1' });
    expect(w).toMatchObject({ status: 'all', sort: '-path', limit: 100, cursor: 'abc', page: 3 });
    expect(viewFromParams(new URLSearchParams('sort=evil&limit=7')).sort).toBe('-severity');
    expect(viewFromParams(new URLSearchParams('limit=7')).limit).toBe(50);
  });
  it('reads several statuses from ?status= and writes them back in tab order', () => {
    expect(statusFromParam('confirmed,open')).toEqual(['open', 'confirmed']);
    expect(statusFromParam('open,bogus,,fixed')).toEqual(['open', 'fixed']);
    expect(statusFromParam('bogus')).toEqual(['open']);
    expect(statusFromParam(null)).toEqual(['open']);
    expect(statusFromParam('all')).toBe('all');
    expect(viewFromParams(new URLSearchParams('status=dismissed,open')).filters).toEqual({ status: 'open,dismissed' });
    expect(viewFromParams(new URLSearchParams('status=all')).filters).toEqual({});
    expect(statusParam(['open'])).toBe('');
    expect(statusParam(['open', 'confirmed'])).toBe('open,confirmed');
    expect(statusParam(['dismissed'])).toBe('dismissed');
    expect(statusParam('all')).toBe('all');
    expect(isFiltered({ filters: { status: 'open' }, status: ['open'] })).toBe(false);
    expect(isFiltered({ filters: { status: 'open,fixed' }, status: ['open', 'fixed'] })).toBe(true);
    expect(isFiltered({ filters: { status: 'open', engine: 'codex' }, status: ['open'] })).toBe(true);
  });
  it('selects one status tab on a click and toggles one with a modifier', () => {
    expect(nextStatus(['open'], 'dismissed', false)).toEqual(['dismissed']);
    expect(nextStatus(['open', 'fixed'], 'confirmed', false)).toEqual(['confirmed']);
    expect(nextStatus(['fixed'], 'open', true)).toEqual(['open', 'fixed']);
    expect(nextStatus(['open', 'confirmed'], 'open', true)).toEqual(['confirmed']);
    expect(nextStatus(['confirmed'], 'confirmed', true)).toEqual(['confirmed']); // the last one stays
    expect(nextStatus('all', 'fixed', true)).toEqual(['fixed']);
    expect(nextStatus(['open', 'confirmed'], 'all', true)).toBe('all');
    expect(nextStatus(['open', 'confirmed', 'dismissed'], 'fixed', true)).toEqual(['open', 'confirmed', 'dismissed', 'fixed']);
  });
  it('toggles sort direction per column', () => {
    expect(nextSort('-severity', 'severity')).toBe('severity');
    expect(nextSort('severity', 'severity')).toBe('-severity');
    expect(nextSort('-severity', 'path')).toBe('-path');
    expect(sortDirection('path', 'path')).toBe('ascending');
    expect(sortDirection('-path', 'severity')).toBe('none');
  });
  it('labels the range and tabs', () => {
    expect(rangeLabel(1, 50, 50, 285)).toBe('1–50 of 285');
    expect(rangeLabel(6, 50, 35, 285)).toBe('251–285 of 285');
    expect(rangeLabel(1, 50, 0, 0)).toBe('0 of 0');
    expect(tabLabel({ open: 267, confirmed: 3, dismissed: 18, fixed: 0 }, 'open')).toBe('Open 267');
    expect(tabLabel(undefined, 'fixed')).toBe('Fixed');
  });
  it('selects shift-click ranges from the anchor', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    let s = selectRange(new Set(), ids, 1, null, false);
    expect([...s]).toEqual(['b']);
    s = selectRange(s, ids, 3, 1, true);
    expect([...s].sort()).toEqual(['b', 'c', 'd']);
    s = selectRange(s, ids, 2, 3, true); // shift on a selected row clears the range
    expect([...s].sort()).toEqual(['b']);
  });
});

function page(items: Finding[], total: number, next: string | null = null) {
  return { items, next_cursor: next, total, counts: { open: total, confirmed: 3, dismissed: 18, fixed: 0 } };
}

describe('FindingsView', () => {
  it('sends sort, filters and page size to the server and keeps its order', async () => {
    const calls: string[] = [];
    const fetchFn = vi.fn(async (u: RequestInfo | URL) => {
      calls.push(String(u));
      if (String(u).includes('/findings/rules')) return jsonResponse(200, { items: [{ rule_id: 'aws-access-token', severity: 'high', count: 2, counts: {} }], total: 1 });
      return jsonResponse(
        200,
        page([finding({ id: 'fnd_a', title: 'Leaked key', severity: 'low' }), finding({ id: 'fnd_b', title: 'SQL injection', severity: 'critical' })], 285, 'cur2'),
      );
    }) as unknown as typeof fetch;
    renderWithApp(<FindingsView scope={{ kind: 'repository', id: 'repo_1' }} />, { fetch: fetchFn, route: '/repositories/repo_1/findings?severity=low,critical' });
    const table = await screen.findByRole('table', { name: 'Findings' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(within(rows[0]!).getByText('Leaked key')).toBeInTheDocument(); // server order, no client re-sort
    expect(calls.filter((c) => !c.includes('/rules'))[0]).toBe('/v1/repositories/repo_1/findings?severity=low%2Ccritical&status=open&sort=-severity&limit=50');
    expect(screen.getByTestId('range')).toHaveTextContent('1–2 of 285');
    expect(screen.getByRole('tab', { name: 'Open 285' })).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('tab', { name: 'Dismissed 18' })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: /Location/ }));
    await waitFor(() => expect(calls.at(-1)).toContain('sort=-path'));
    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(calls.at(-1)).toContain('cursor=cur2'));
    await userEvent.click(screen.getByRole('tab', { name: 'Dismissed 18' }));
    await waitFor(() => expect(calls.at(-1)).toMatch(/status=dismissed&sort=-path&limit=50$/));
    // Clear filters also puts the status tabs back to Open
    await userEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(calls.at(-1)).toBe('/v1/repositories/repo_1/findings?status=open&sort=-path&limit=50'));
  }, 30_000); // many clicks: past Vitest's 5 s on a loaded machine

  it('bulk-dismisses all matching by filter with a reason, and Undo re-opens exactly those', async () => {
    const calls: { url: string; method: string; body?: string }[] = [];
    const items = [finding({ id: 'fnd_a' }), finding({ id: 'fnd_b', title: 'Other' })];
    const fetchFn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ url: String(u), method: init?.method ?? 'GET', body: init?.body as string | undefined });
      if (String(u).includes('bulk-triage'))
        return jsonResponse(200, { matched: 3, changed: 3, unchanged: 0, not_found: [], previous: [{ ids: ['fnd_a', 'fnd_b', 'fnd_c'], status: 'open', restorable: true }] });
      if (String(u).includes('/findings/rules')) return jsonResponse(200, { items: [], total: 0 });
      return jsonResponse(200, page(items, 3, 'cur2'));
    }) as unknown as typeof fetch;
    renderWithApp(<FindingsView scope={{ kind: 'repository', id: 'repo_1' }} />, { fetch: fetchFn, route: '/f?engine=secrets' });
    await screen.findByRole('table', { name: 'Findings' });
    expect(screen.queryByRole('region', { name: 'Bulk triage' })).not.toBeInTheDocument();
    await userEvent.click(screen.getByLabelText('Select all findings on this page'));
    await userEvent.click(screen.getByRole('button', { name: 'Select all 3 matching' }));
    const bar = screen.getByRole('region', { name: 'Bulk triage' });
    expect(bar).toHaveTextContent('3 selected');
    await userEvent.click(within(bar).getByRole('button', { name: 'Dismiss ▾' }));
    await userEvent.click(within(bar).getByRole('menuitem', { name: 'False positive' }));
    const toast = await screen.findByRole('status');
    expect(toast).toHaveTextContent('3 findings');
    const bulk = calls.find((c) => c.url === '/v1/findings/bulk-triage')!;
    expect(JSON.parse(bulk.body!)).toEqual({ filter: { engine: 'secrets', status: 'open', repository_id: 'repo_1' }, status: 'dismissed', dismissed_reason: 'false_positive' });
    await userEvent.click(within(toast).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(calls.filter((c) => c.url === '/v1/findings/bulk-triage')).toHaveLength(2));
    const undo = calls.filter((c) => c.url === '/v1/findings/bulk-triage')[1]!;
    expect(JSON.parse(undo.body!)).toEqual({ ids: ['fnd_a', 'fnd_b', 'fnd_c'], status: 'open' });
  });

  it('select all matching + an action is one bulk request and no list reads; Undo restores each previous status by ids', async () => {
    const calls: { url: string; method: string; body?: string }[] = [];
    const listURL = '/v1/repositories/repo_1/findings?status=open%2Cconfirmed%2Cdismissed&sort=-severity&limit=50';
    const previous = [
      { ids: ['fnd_a', 'fnd_b'], status: 'open', restorable: true },
      { ids: ['fnd_c'], status: 'confirmed', restorable: true },
      { ids: ['fnd_d', 'fnd_e'], status: 'dismissed', dismissed_reason: 'wont_fix', restorable: true },
      { ids: ['fnd_f'], status: 'dismissed', dismissed_reason: 'suppressed_in_source', restorable: false },
    ];
    const fetchFn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ url: String(u), method: init?.method ?? 'GET', body: init?.body as string | undefined });
      if (String(u).includes('bulk-triage')) {
        const body = JSON.parse(String(init?.body)) as { ids?: string[] };
        // the action answers what Undo needs; each Undo request changes its ids
        return body.ids
          ? jsonResponse(200, { matched: body.ids.length, changed: body.ids.length, unchanged: 0, not_found: [], previous: [{ ids: body.ids, status: 'confirmed', restorable: true }] })
          : jsonResponse(200, { matched: 7, changed: 6, unchanged: 1, not_found: [], previous });
      }
      if (String(u).includes('/findings/rules')) return jsonResponse(200, { items: [], total: 0 });
      return jsonResponse(200, page([finding({ id: 'fnd_a' }), finding({ id: 'fnd_b', title: 'Other' })], 7, 'cur2'));
    }) as unknown as typeof fetch;
    renderWithApp(<FindingsView scope={{ kind: 'repository', id: 'repo_1' }} />, { fetch: fetchFn, route: '/f?status=open,confirmed,dismissed' });
    await screen.findByRole('table', { name: 'Findings' });
    await userEvent.click(screen.getByLabelText('Select all findings on this page'));
    await userEvent.click(screen.getByRole('button', { name: 'Select all 7 matching' }));
    const before = calls.length;
    await userEvent.click(within(screen.getByRole('region', { name: 'Bulk triage' })).getByRole('button', { name: 'Confirm' }));
    const toast = await screen.findByRole('status');
    expect(toast).toHaveTextContent('Confirmed: 6 findings');
    expect(toast).toHaveTextContent('Undo leaves 1');
    await waitFor(() => expect(calls.length).toBeGreaterThan(before + 1));
    // exactly one bulk request, then only the refresh of the page shown: no reads of the matches
    const after = calls.slice(before);
    expect(after[0]).toMatchObject({ url: '/v1/findings/bulk-triage', method: 'POST' });
    expect(JSON.parse(after[0]!.body!)).toEqual({ filter: { status: 'open,confirmed,dismissed', repository_id: 'repo_1' }, status: 'confirmed' });
    expect(after.slice(1).map((c) => `${c.method} ${c.url}`)).toEqual([`GET ${listURL}`]);

    await userEvent.click(within(toast).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(calls.filter((c) => c.url === '/v1/findings/bulk-triage')).toHaveLength(4));
    const undos = calls.filter((c) => c.url === '/v1/findings/bulk-triage').slice(1);
    // one request per restorable group, by ids; the suppressed one is left out
    expect(undos.map((c) => JSON.parse(c.body!))).toEqual([
      { ids: ['fnd_a', 'fnd_b'], status: 'open' },
      { ids: ['fnd_c'], status: 'confirmed' },
      { ids: ['fnd_d', 'fnd_e'], status: 'dismissed', dismissed_reason: 'wont_fix' },
    ]);
    await waitFor(() => expect(screen.queryByRole('status')).not.toBeInTheDocument());
    expect(calls.some((c) => c.url.includes('limit=200'))).toBe(false);
  }, 30_000);

  it('sends the chosen rows in one request and offers no Undo when nothing a user can set changed', async () => {
    const calls: { url: string; method: string; body?: string }[] = [];
    const fetchFn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ url: String(u), method: init?.method ?? 'GET', body: init?.body as string | undefined });
      if (String(u).includes('bulk-triage'))
        return jsonResponse(200, { matched: 1, changed: 1, unchanged: 0, not_found: [], previous: [{ ids: ['fnd_b'], status: 'fixed', restorable: false }] });
      if (String(u).includes('/findings/rules')) return jsonResponse(200, { items: [], total: 0 });
      return jsonResponse(200, page([finding({ id: 'fnd_a', title: 'First' }), finding({ id: 'fnd_b', title: 'Second', status: 'fixed' })], 2));
    }) as unknown as typeof fetch;
    renderWithApp(<FindingsView scope={{ kind: 'repository', id: 'repo_1' }} />, { fetch: fetchFn, route: '/f?status=all' });
    await screen.findByRole('table', { name: 'Findings' });
    await userEvent.click(screen.getByLabelText('Select Second'));
    await userEvent.click(within(screen.getByRole('region', { name: 'Bulk triage' })).getByRole('button', { name: 'Confirm' }));
    const toast = await screen.findByRole('status');
    expect(toast).toHaveTextContent('Confirmed: 1 finding (Undo leaves 1');
    expect(within(toast).queryByRole('button', { name: 'Undo' })).toBeNull();
    const bulks = calls.filter((c) => c.url === '/v1/findings/bulk-triage');
    expect(bulks.map((c) => JSON.parse(c.body!))).toEqual([{ ids: ['fnd_b'], status: 'confirmed' }]);
  });

  it('selects several status tabs with a modifier, from the URL too, and Clear filters goes back to Open', async () => {
    const user = userEvent.setup(); // keeps modifier keys held between calls
    const calls: string[] = [];
    const fetchFn = vi.fn(async (u: RequestInfo | URL) => {
      calls.push(String(u));
      if (String(u).includes('/findings/rules')) return jsonResponse(200, { items: [], total: 0 });
      return jsonResponse(200, page([finding({ id: 'fnd_a' })], 5));
    }) as unknown as typeof fetch;
    renderWithApp(
      <>
        <FindingsView scope={{ kind: 'repository', id: 'repo_1' }} />
        <LocationProbe />
      </>,
      { fetch: fetchFn, route: '/f?status=open,confirmed' },
    );
    await screen.findByRole('table', { name: 'Findings' });
    const tabs = screen.getByRole('tablist', { name: 'Finding status' });
    expect(tabs).toHaveAttribute('aria-multiselectable', 'true');
    expect(tabs).toHaveAccessibleDescription(/Control, Command or Shift/);
    const selected = () =>
      within(tabs)
        .getAllByRole('tab')
        .filter((t) => t.getAttribute('aria-selected') === 'true')
        .map((t) => t.textContent?.replace(/ \d+$/, ''));
    const lastList = () => calls.filter((c) => !c.includes('/rules')).at(-1);
    expect(selected()).toEqual(['Open', 'Confirmed']);
    expect(lastList()).toBe('/v1/repositories/repo_1/findings?status=open%2Cconfirmed&sort=-severity&limit=50');

    // ctrl-click adds, cmd-click adds, shift-click removes
    await user.keyboard('{Control>}');
    await user.click(within(tabs).getByRole('tab', { name: 'Dismissed 18' }));
    await user.keyboard('{/Control}');
    await waitFor(() => expect(selected()).toEqual(['Open', 'Confirmed', 'Dismissed']));
    expect(lastList()).toContain('status=open%2Cconfirmed%2Cdismissed&');
    expect(screen.getByTestId('location')).toHaveTextContent('?status=open%2Cconfirmed%2Cdismissed');
    await user.keyboard('{Meta>}');
    await user.click(within(tabs).getByRole('tab', { name: 'Fixed 0' }));
    await user.keyboard('{/Meta}');
    await waitFor(() => expect(selected()).toEqual(['Open', 'Confirmed', 'Dismissed', 'Fixed']));
    await user.keyboard('{Shift>}');
    await user.click(within(tabs).getByRole('tab', { name: 'Open 5' }));
    await user.keyboard('{/Shift}');
    await waitFor(() => expect(selected()).toEqual(['Confirmed', 'Dismissed', 'Fixed']));
    expect(lastList()).toContain('status=confirmed%2Cdismissed%2Cfixed&');
    // from the keyboard: Shift+Enter on a focused tab toggles it too
    within(tabs).getByRole('tab', { name: 'Fixed 0' }).focus();
    await user.keyboard('{Shift>}{Enter}{/Shift}');
    await waitFor(() => expect(selected()).toEqual(['Confirmed', 'Dismissed']));

    // a plain click shows that tab alone
    await user.click(within(tabs).getByRole('tab', { name: 'Fixed 0' }));
    await waitFor(() => expect(selected()).toEqual(['Fixed']));
    await user.keyboard('{Control>}');
    await user.click(within(tabs).getByRole('tab', { name: 'Confirmed 3' }));
    await user.keyboard('{/Control}');
    await waitFor(() => expect(selected()).toEqual(['Confirmed', 'Fixed']));

    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await waitFor(() => expect(selected()).toEqual(['Open']));
    expect(lastList()).toBe('/v1/repositories/repo_1/findings?status=open&sort=-severity&limit=50');
    expect(screen.getByTestId('location')).toBeEmptyDOMElement();
    expect(screen.queryByRole('button', { name: 'Clear filters' })).toBeNull();
  }, 30_000);

  it('names the repository of each row in a project list and exports the whole project', async () => {
    const calls: string[] = [];
    const fetchFn = vi.fn(async (u: RequestInfo | URL) => {
      const url = String(u);
      calls.push(url);
      if (url.startsWith('/v1/projects/prj_1/repositories'))
        return jsonResponse(200, { items: [{ id: 'repo_1', name: 'billing' }, { id: 'repo_2', name: 'ledger' }], next_cursor: null });
      if (url.includes('/findings/export'))
        return new Response('id,severity\n', {
          status: 200,
          headers: { 'Content-Type': 'text/csv', 'Content-Disposition': 'attachment; filename="Payments-2026-12-02-findings.csv"' },
        });
      if (url.includes('/findings/rules')) return jsonResponse(200, { items: [], total: 0 });
      return jsonResponse(200, page([finding({ id: 'fnd_a', title: 'Key A' }), finding({ id: 'fnd_b', title: 'Key B', repository_id: 'repo_2' })], 2));
    }) as unknown as typeof fetch;
    const saved: string[] = [];
    URL.createObjectURL = vi.fn(() => 'blob:x');
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download);
    });
    renderWithApp(<FindingsView scope={{ kind: 'project', id: 'prj_1' }} />, { fetch: fetchFn, route: '/projects/prj_1/findings?severity=high' });
    const table = await screen.findByRole('table', { name: 'Findings' });
    expect(within(table).getByRole('columnheader', { name: 'Repository' })).toBeInTheDocument();
    await waitFor(() => expect(within(table).getByRole('link', { name: 'ledger' })).toHaveAttribute('href', '/repositories/repo_2'));
    expect(within(table).getByRole('link', { name: 'billing' })).toHaveAttribute('href', '/repositories/repo_1');

    await userEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await waitFor(() => expect(saved).toEqual(['Payments-2026-12-02-findings.csv']));
    expect(calls.find((c) => c.includes('/findings/export'))).toBe('/v1/projects/prj_1/findings/export?severity=high&format=csv');
    click.mockRestore();
  });

  it('has no Repository column for one repository', async () => {
    const fetchFn = vi.fn(async (u: RequestInfo | URL) =>
      String(u).includes('/findings/rules') ? jsonResponse(200, { items: [], total: 0 }) : jsonResponse(200, page([finding({})], 1)),
    ) as unknown as typeof fetch;
    renderWithApp(<FindingsView scope={{ kind: 'repository', id: 'repo_1' }} />, { fetch: fetchFn, route: '/repositories/repo_1/findings' });
    const table = await screen.findByRole('table', { name: 'Findings' });
    expect(within(table).queryByRole('columnheader', { name: 'Repository' })).toBeNull();
  });
});
