import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { useLocation } from 'react-router-dom';
import { describe, expect, it, vi } from 'vitest';
import type { Finding, FindingFilters, FindingListPage, RuleGroup, RuleGroupList } from '../api/types';
import { makeFinding } from '../test/fixtures';
import { jsonResponse, renderWithApp } from '../test/render';
import type { FindingsScope } from './FindingsView';
import { RuleGroups } from './RuleGroups';

type Load = (q: FindingFilters & { limit?: number }) => Promise<FindingListPage>;

const group = (rule_id: string, severity: RuleGroup['severity'], count: number): RuleGroup => ({
  rule_id,
  severity,
  count,
  counts: { critical: 0, high: 0, medium: 0, low: 0, info: 0, [severity]: count },
});

const RULES: RuleGroupList = { items: [group('aws-access-token', 'critical', 252), group('jwt', 'medium', 3)], total: 2 };

function listPage(items: Finding[], total = items.length): FindingListPage {
  return { items, next_cursor: null, total, counts: { open: total, confirmed: 0, dismissed: 0, fixed: 0 } };
}

/** A fetch double for GET …/findings/rules that records the URLs asked for. */
function rulesServer(answer: (url: string) => Response = () => jsonResponse(200, RULES)) {
  const calls: string[] = [];
  const fetchFn = vi.fn(async (u: RequestInfo | URL) => {
    const url = String(u);
    calls.push(url);
    return answer(url);
  }) as unknown as typeof fetch;
  return { calls, fetchFn };
}

/** Findings of one rule, as the list endpoint would answer a `rule=` query. */
function loadByRule(byRule: Record<string, Finding[]>, total?: Record<string, number>): Load & ReturnType<typeof vi.fn> {
  return vi.fn(async (q: FindingFilters & { limit?: number }) => listPage(byRule[q.rule ?? ''] ?? [], total?.[q.rule ?? '']));
}

/** Shows where the router is, to check where a link led. */
function Where() {
  const loc = useLocation();
  return <output aria-label="location">{`${loc.pathname}${loc.search}`}</output>;
}

const repo: FindingsScope = { kind: 'repository', id: 'repo_1' };

/** The group table's rows (without an expanded row's findings): [rule, severity, count]. */
function groupRows(): string[][] {
  const table = screen.getByRole('table', { name: 'Findings by rule' });
  return within(table)
    .getAllByRole('row')
    .slice(1)
    .filter((tr) => within(tr).queryByRole('button'))
    .map((tr) => within(tr).getAllByRole('cell').map((td) => td.textContent?.replace(/[▸▾◆▲●▼○]/g, '').trim() ?? ''));
}

describe('RuleGroups', () => {
  it('shows one row per rule with its highest severity and count, asking for the list’s filters without the sort', async () => {
    const { calls, fetchFn } = rulesServer();
    renderWithApp(<RuleGroups scope={repo} filters={{ status: 'open', severity: 'critical,medium', sort: 'path' }} load={loadByRule({})} />, { fetch: fetchFn, route: '/repositories/repo_1/findings?group=rule' });
    await screen.findByRole('table', { name: 'Findings by rule' });
    expect(groupRows()).toEqual([
      ['aws-access-token', 'Critical', '252'],
      ['jwt', 'Medium', '3'],
    ]);
    expect(calls).toEqual(['/v1/repositories/repo_1/findings/rules?status=open&severity=critical%2Cmedium']);
    for (const b of screen.getAllByRole('button')) expect(b).toHaveAttribute('aria-expanded', 'false');
  });

  it('asks a project’s or a scan’s rules for those scopes', async () => {
    const project = rulesServer();
    renderWithApp(<RuleGroups scope={{ kind: 'project', id: 'prj_1' }} filters={{}} load={loadByRule({})} />, { fetch: project.fetchFn });
    await screen.findByRole('table', { name: 'Findings by rule' });
    expect(project.calls).toEqual(['/v1/projects/prj_1/findings/rules']);

    const scan = rulesServer();
    renderWithApp(<RuleGroups scope={{ kind: 'scan', id: 'scan_1' }} filters={{ status: 'fixed' }} load={loadByRule({})} />, { fetch: scan.fetchFn });
    await waitFor(() => expect(scan.calls).toEqual(['/v1/scans/scan_1/findings/rules?status=fixed']));
  });

  it('expands a rule into its findings (loaded with that rule), one rule at a time', async () => {
    const { fetchFn } = rulesServer();
    const jwts = [makeFinding({ id: 'fnd_j1', title: 'JSON Web Token', rule_id: 'jwt', file_path: 'a/t.py', start_line: 4 }), makeFinding({ id: 'fnd_j2', title: 'JSON Web Token', rule_id: 'jwt', file_path: 'a/u.py', start_line: 0 })];
    const keys = [makeFinding({ id: 'fnd_k1', title: 'AWS access key', file_path: 'z/k.py', start_line: 9 })];
    const load = loadByRule({ jwt: jwts, 'aws-access-token': keys }, { 'aws-access-token': 252 });
    renderWithApp(<RuleGroups scope={repo} filters={{ status: 'open', sort: '-severity' }} load={load} />, { fetch: fetchFn, route: '/repositories/repo_1/findings?group=rule' });
    await screen.findByRole('table', { name: 'Findings by rule' });
    expect(load).not.toHaveBeenCalled(); // nothing is loaded before a row opens

    const jwtButton = screen.getByRole('button', { name: /jwt/ });
    await userEvent.click(jwtButton);
    expect(jwtButton).toHaveAttribute('aria-expanded', 'true');
    expect(jwtButton).toHaveTextContent('▾');
    expect(load).toHaveBeenLastCalledWith({ status: 'open', sort: '-severity', rule: 'jwt', limit: 50 });
    const links = await screen.findAllByRole('link', { name: 'JSON Web Token' });
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['/findings/fnd_j1', '/findings/fnd_j2']);
    expect(screen.getByText('a/t.py:4')).toBeInTheDocument();
    expect(screen.getByText('a/u.py')).toBeInTheDocument(); // no line 0
    expect(screen.queryByText(/more — filter by this rule/)).toBeNull(); // all of them are shown

    // another rule: its findings replace the first's, and it says how many are not shown
    await userEvent.click(screen.getByRole('button', { name: /aws-access-token/ }));
    expect(load).toHaveBeenLastCalledWith({ status: 'open', sort: '-severity', rule: 'aws-access-token', limit: 50 });
    expect(await screen.findByRole('link', { name: 'AWS access key' })).toHaveAttribute('href', '/findings/fnd_k1');
    expect(screen.getByText('and 251 more — filter by this rule to see them all')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'JSON Web Token' })).toBeNull();
    expect(jwtButton).toHaveAttribute('aria-expanded', 'false');

    // a second click closes it
    await userEvent.click(screen.getByRole('button', { name: /aws-access-token/ }));
    expect(screen.queryByRole('link', { name: 'AWS access key' })).toBeNull();
    expect(screen.getByRole('button', { name: /aws-access-token/ })).toHaveAttribute('aria-expanded', 'false');
  });

  it('links each severity pill to the list filtered by that severity, keeping the other parameters and leaving the page', async () => {
    const { fetchFn } = rulesServer();
    renderWithApp(
      <>
        <RuleGroups scope={repo} filters={{ status: 'open' }} load={loadByRule({})} />
        <Where />
      </>,
      { fetch: fetchFn, route: '/repositories/repo_1/findings?group=rule&engine=secrets&cursor=c2&page=2' },
    );
    await screen.findByRole('table', { name: 'Findings by rule' });
    const critical = screen.getByRole('link', { name: /Critical/ });
    expect(critical).toHaveAttribute('href', '/repositories/repo_1/findings?group=rule&engine=secrets&severity=critical');
    expect(screen.getByRole('link', { name: /Medium/ })).toHaveAttribute('href', '/repositories/repo_1/findings?group=rule&engine=secrets&severity=medium');
    await userEvent.click(screen.getByRole('link', { name: /Medium/ }));
    expect(screen.getByRole('status', { name: 'location' })).toHaveTextContent('/repositories/repo_1/findings?group=rule&engine=secrets&severity=medium');
  });

  it('reloads an open rule’s findings when the filters change', async () => {
    const { fetchFn } = rulesServer();
    const load: Load & ReturnType<typeof vi.fn> = vi.fn(async (q: FindingFilters & { limit?: number }) =>
      listPage([makeFinding({ id: `fnd_${q.status}`, title: `JWT ${q.status}`, rule_id: 'jwt' })]),
    );
    function Tabs() {
      const [status, setStatus] = useState('open');
      return (
        <>
          <button type="button" onClick={() => setStatus('dismissed')}>
            Dismissed tab
          </button>
          <RuleGroups scope={repo} filters={{ status }} load={load} />
        </>
      );
    }
    renderWithApp(<Tabs />, { fetch: fetchFn });
    await screen.findByRole('table', { name: 'Findings by rule' });
    await userEvent.click(screen.getByRole('button', { name: /jwt/ }));
    expect(await screen.findByRole('link', { name: 'JWT open' })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Dismissed tab' }));
    expect(await screen.findByRole('link', { name: 'JWT dismissed' })).toBeInTheDocument();
    expect(load).toHaveBeenLastCalledWith({ status: 'dismissed', rule: 'jwt', limit: 50 });
    expect(screen.queryByRole('link', { name: 'JWT open' })).toBeNull();
  });

  it('says when a rule has no findings, and offers a retry when the rules or a rule’s findings fail to load', async () => {
    const empty = rulesServer(() => jsonResponse(200, { items: [], total: 0 }));
    const { unmount } = renderWithApp(<RuleGroups scope={repo} filters={{ status: 'open' }} load={loadByRule({})} />, { fetch: empty.fetchFn });
    expect(await screen.findByText('No findings')).toBeInTheDocument();
    expect(screen.queryByRole('table', { name: 'Findings by rule' })).toBeNull();
    unmount();

    let fail = true;
    const flaky = rulesServer(() =>
      fail ? jsonResponse(500, { error: { code: 'internal', message: 'rules are down', retryable: true } }) : jsonResponse(200, RULES),
    );
    const load = vi.fn(async () => {
      throw new Error('findings are down');
    });
    renderWithApp(<RuleGroups scope={repo} filters={{ status: 'open' }} load={load} />, { fetch: flaky.fetchFn });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('rules are down');
    fail = false;
    await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }));
    await screen.findByRole('table', { name: 'Findings by rule' });

    // a rule whose findings fail says so instead of loading for ever
    await userEvent.click(screen.getByRole('button', { name: /jwt/ }));
    expect(await screen.findByRole('alert')).toHaveTextContent('findings are down');
    expect(screen.queryByText('Loading findings…')).toBeNull();
  });
});
