import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes, useParams } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import type { FindingListPage } from '../api/types';
import { makeFinding } from '../test/fixtures';
import { jsonResponse, renderWithApp } from '../test/render';
import { type ListContext, movedContext, neighbours, pageCursor, useListNav } from './listNav';

// A list of three pages of three: page 1 (no cursor) a1–a3, page 2 (cursor
// c2) b1–b3, page 3 (cursor c3) c1–c3.
const PAGES: Record<string, { ids: string[]; next: string | null }> = {
  '': { ids: ['a1', 'a2', 'a3'], next: 'c2' },
  c2: { ids: ['b1', 'b2', 'b3'], next: 'c3' },
  c3: { ids: ['c1', 'c2', 'c3'], next: null },
};
const pageOf = (cursor: string | null): FindingListPage => {
  const p = PAGES[cursor ?? '']!;
  return { items: p.ids.map((id) => makeFinding({ id })), next_cursor: p.next, total: 9, counts: { open: 9, confirmed: 0, dismissed: 0, fixed: 0 } };
};

/** The context the findings list hands over from its third page (it knows the page before). */
const onPage3: ListContext = {
  scope: { kind: 'repository', id: 'repo_1' },
  query: { sort: 'path', limit: 3 },
  ids: PAGES.c3!.ids,
  page: 3,
  cursor: 'c3',
  prevCursor: 'c2',
  nextCursor: null,
  total: 9,
  back: '/repositories/repo_1/findings?sort=path',
};

describe('movedContext / pageCursor', () => {
  it('keeps the previous page’s cursor when moving back over two page boundaries', () => {
    const p2 = movedContext(onPage3, -1, 'c2', pageOf('c2'));
    expect(p2.page).toBe(2);
    expect(p2.prevCursor).toBe(null); // page 1 starts at the beginning
    expect(neighbours(p2, 'b1').hasPrev).toBe(true);
    const p1 = movedContext(p2, -1, null, pageOf(null));
    expect(p1.page).toBe(1);
    expect(p1.prevCursor).toBeUndefined();
    expect(neighbours(p1, 'a1').hasPrev).toBe(false);
    // and forward again: every page crossed is remembered
    expect(pageCursor(p1, 2)).toBe('c2');
    expect(pageCursor(p1, 3)).toBe('c3');
  });

  it('knows a deeper page’s previous cursor only once crossed', () => {
    const onPage5: ListContext = { ...onPage3, page: 5, cursor: 'c5', prevCursor: 'c4', nextCursor: null };
    const p4 = movedContext(onPage5, -1, 'c4', pageOf('c3'));
    expect(p4.prevCursor).toBeUndefined(); // page 3's cursor was never seen
    expect(neighbours(p4, p4.ids[0]!).hasPrev).toBe(false);
    const fwd = movedContext({ ...onPage3, page: 3, cursor: 'c3', prevCursor: 'c2' }, 1, 'c4', pageOf('c3'));
    expect(fwd.prevCursor).toBe('c3');
    expect(movedContext(fwd, -1, 'c3', pageOf('c3')).prevCursor).toBe('c2');
  });
});

function Probe() {
  const { findingId = '' } = useParams();
  const nav = useListNav(findingId);
  return (
    <div>
      <span data-testid="at">
        {findingId} {nav.position}
      </span>
      <button type="button" onClick={nav.prev} disabled={!nav.hasPrev || nav.busy}>
        prev
      </button>
      <button type="button" onClick={nav.next} disabled={!nav.hasNext || nav.busy}>
        next
      </button>
    </div>
  );
}

function renderAt(id: string, list: ListContext) {
  const cursors: (string | null)[] = [];
  const fetch = (async (input: RequestInfo | URL) => {
    const url = new URL(String(input), 'http://x');
    if (url.pathname === '/v1/repositories/repo_1/findings') {
      expect(url.searchParams.get('sort')).toBe('path');
      expect(url.searchParams.get('limit')).toBe('3');
      cursors.push(url.searchParams.get('cursor'));
      return jsonResponse(200, pageOf(url.searchParams.get('cursor')));
    }
    return jsonResponse(404, { error: { code: 'not_found', message: url.pathname } });
  }) as typeof globalThis.fetch;
  renderWithApp(
    <Routes>
      <Route path="/findings/:findingId" element={<Probe />} />
    </Routes>,
    { fetch, route: { pathname: `/findings/${id}`, state: { list } } },
  );
  return cursors;
}

const at = () => screen.getByTestId('at').textContent;

describe('useListNav', { timeout: 30_000 }, () => {
  it('moves back from page 3 to page 1, one finding at a time, loading each earlier page by its cursor', async () => {
    const cursors = renderAt('c1', onPage3);
    expect(at()).toBe('c1 7');
    const prev = screen.getByRole('button', { name: 'prev' });
    await userEvent.click(prev);
    await waitFor(() => expect(at()).toBe('b3 6'));
    await userEvent.click(prev);
    await userEvent.click(prev);
    await waitFor(() => expect(at()).toBe('b1 4'));
    // the second page boundary: page 1 is reachable from a page reached backwards
    await waitFor(() => expect(prev).toHaveProperty('disabled', false));
    await userEvent.click(prev);
    await waitFor(() => expect(at()).toBe('a3 3'));
    expect(cursors).toEqual(['c2', null]);
    // and forward again over both boundaries
    const next = screen.getByRole('button', { name: 'next' });
    await userEvent.click(next);
    await waitFor(() => expect(at()).toBe('b1 4'));
    await userEvent.click(next);
    await userEvent.click(next);
    await userEvent.click(next);
    await waitFor(() => expect(at()).toBe('c1 7'));
    expect(cursors).toEqual(['c2', null, 'c2', 'c3']);
    await act(async () => undefined);
  });
});
