import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { describe, expect, it } from 'vitest';
import type { FindingChange, Scan } from '../api/types';
import { makeFinding } from '../test/fixtures';
import { jsonResponse, renderWithApp } from '../test/render';
import { changeFromParams, ScanComparison } from './ScanComparison';

const scan = (withBase: boolean): Scan =>
  ({
    id: 'scan_2',
    repository_id: 'repo_1',
    project_id: 'prj_1',
    status: 'completed',
    changes: { ...(withBase ? { base_scan_id: 'scan_1' } : {}), new: 2, fixed: 3, unchanged: 4 },
  }) as Scan;

/** The page's URL, and Back. */
function Where() {
  const loc = useLocation();
  const navigate = useNavigate();
  return (
    <>
      <output data-testid="search">{loc.search}</output>
      <button type="button" onClick={() => navigate(-1)}>
        Back
      </button>
    </>
  );
}

function renderAt(search: string, withBase = true) {
  const asked: (string | null)[] = [];
  const fetch = (async (input: RequestInfo | URL) => {
    const url = new URL(String(input), 'http://x');
    if (url.pathname === '/v1/scans/scan_2/findings') {
      const change = url.searchParams.get('change') as FindingChange;
      asked.push(change);
      const items = Array.from({ length: { new: 2, fixed: 3, unchanged: 4 }[change] }, (_, i) =>
        makeFinding({ id: `fnd_${change}_${i}`, title: `${change} ${i}`, file_path: `${change}/f${i}.py` }),
      );
      return jsonResponse(200, { items, next_cursor: null, total: items.length, counts: { open: items.length, confirmed: 0, dismissed: 0, fixed: 0 } });
    }
    return jsonResponse(404, { error: { code: 'not_found', message: url.pathname } });
  }) as typeof globalThis.fetch;
  const view = renderWithApp(
    <Routes>
      <Route
        path="/scans/:scanId"
        element={
          <>
            <ScanComparison scan={scan(withBase)} version={0} />
            <Where />
          </>
        }
      />
    </Routes>,
    { fetch, route: `/scans/scan_2${search}` },
  );
  return { asked, ...view };
}

const pressed = () => screen.getAllByRole('button', { pressed: true }).map((b) => b.textContent);
const table = (label: string) => screen.findByRole('table', { name: `${label} findings since the previous complete scan` });
const search = () => screen.getByTestId('search').textContent;

describe('changeFromParams', () => {
  it('reads the tab from ?changes=, new when absent, unknown, or without an earlier scan', () => {
    expect(changeFromParams(new URLSearchParams(''), true)).toBe('new');
    expect(changeFromParams(new URLSearchParams('changes=fixed'), true)).toBe('fixed');
    expect(changeFromParams(new URLSearchParams('changes=unchanged'), true)).toBe('unchanged');
    expect(changeFromParams(new URLSearchParams('changes=bogus'), true)).toBe('new');
    expect(changeFromParams(new URLSearchParams('changes=fixed'), false)).toBe('new');
  });
});

describe('ScanComparison', { timeout: 30_000 }, () => {
  it('keeps the chosen tab in the URL: opened from it, changed through it, and Back returns to the previous tab', async () => {
    const { asked, unmount } = renderAt('?changes=fixed&severity=high');
    // opened on the tab the URL names
    await table('Fixed');
    expect(pressed()).toEqual(['Fixed 3']);
    expect(asked).toEqual(['fixed']);

    // a choice goes into the URL, next to what else the page keeps there
    await userEvent.click(screen.getByRole('button', { name: 'Unchanged 4' }));
    await table('Unchanged');
    expect(new URLSearchParams(search()!).get('changes')).toBe('unchanged');
    expect(new URLSearchParams(search()!).get('severity')).toBe('high');
    // "new" is the default: no parameter
    await userEvent.click(screen.getByRole('button', { name: 'New 2' }));
    await table('New');
    expect(search()).toBe('?severity=high');

    // Back returns to the tab chosen before
    await userEvent.click(screen.getByRole('button', { name: 'Back' }));
    await table('Unchanged');
    expect(pressed()).toEqual(['Unchanged 4']);
    expect(search()).toBe('?changes=unchanged&severity=high');
    unmount();

    // a reload (a fresh mount at that URL) shows the same tab
    const again = renderAt('?changes=unchanged&severity=high');
    await table('Unchanged');
    expect(pressed()).toEqual(['Unchanged 4']);
    expect(again.asked).toEqual(['unchanged']);
    await act(async () => undefined);
  });

  it('shows the new findings when the URL names another tab but there is no earlier scan', async () => {
    const { asked } = renderAt('?changes=fixed', false);
    await table('New');
    expect(pressed()).toEqual(['New 2']);
    expect(asked).toEqual(['new']);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Fixed 3' })).toHaveProperty('disabled', true));
  });
});
