import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { OpsLimits } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import OperationsPage, { formatSetting } from './Operations';

const limits: OpsLimits = {
  execution_mode: 'thread',
  max_source_bytes: 2147483648,
  max_active_scans_per_user: 0,
  scan_heartbeat_ttl_seconds: 90,
  scan_running_stale_seconds: 7200,
  llm_max_cost_usd_per_scan: 0,
  llm_max_requests_per_scan: 400,
  per_user: { max_projects: 100, max_repositories: 0, max_stored_bytes: 53687091200 },
  usage: { projects: 3, repositories: 12, stored_bytes: 1610612736 },
};

// Under a loaded machine the page's first requests and render can take
// seconds: wait for them well past Testing Library's 1 s default, and give
// each test room past Vitest's 5 s.
const SLOW = { timeout: 15_000 };
const TEST_TIMEOUT = 30_000;

function serve() {
  const calls: string[] = [];
  const fetchFn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
    const url = String(u);
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    if (url.endsWith('/v1/ops/workers')) return jsonResponse(200, { items: [], next_cursor: null });
    if (url.endsWith('/v1/ops/queue')) return jsonResponse(200, { counts: { queued: 0 }, oldest_queued_at: null, oldest_queued_age_seconds: 125 });
    if (url.endsWith('/v1/ops/limits')) return jsonResponse(200, limits);
    if (url.endsWith('/v1/ops/recover')) return jsonResponse(200, { requeued: ['scan_1'], failed: [], cancelled: [] });
    if (url.endsWith('/v1/ops/cleanup'))
      return jsonResponse(200, { expired_refresh_sessions: 2, orphaned_blobs: 0, stale_uploads: 1, partial_writes: 0, errors: [] });
    if (url.endsWith('/v1/engines'))
      return jsonResponse(200, {
        items: [
          { name: 'secrets', available: true, default: true },
          { name: 'codex', available: false, default: false, reason: 'no model provider configured', enable: 'set VEGA_LLM_PROVIDER_API_KEY' },
        ],
        next_cursor: null,
      });
    return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'No such route', retryable: false } });
  }) as unknown as typeof fetch;
  return { fetchFn, calls };
}

describe('OperationsPage', () => {
  it(
    'shows each per-user cap beside the usage, human-readable, with 0 as unlimited',
    async () => {
      renderWithApp(<OperationsPage />, { fetch: serve().fetchFn, route: '/operations' });
      const table = await screen.findByRole('table', { name: 'Per-user quotas' }, SLOW);
      const row = (label: string) => within(table).getByRole('row', { name: new RegExp(`^${label}`) });

      expect(row('Projects')).toHaveTextContent('100');
      expect(row('Projects')).toHaveTextContent('3 (3%)');
      expect(row('Repositories')).toHaveTextContent('unlimited');
      expect(row('Repositories')).toHaveTextContent('12');
      expect(row('Repositories')).not.toHaveTextContent('%');
      expect(row('Stored snapshots')).toHaveTextContent('50 GB');
      expect(row('Stored snapshots')).toHaveTextContent('1.5 GB (3%)');
      expect(row('Stored snapshots')).toHaveTextContent('VEGA_MAX_STORED_BYTES_PER_USER');
      // No raw byte counts anywhere on the page; other sizes read as sizes too.
      expect(document.body).not.toHaveTextContent('53687091200');
      expect(document.body).not.toHaveTextContent('2147483648');
      expect(screen.getByText('Max source bytes').nextElementSibling).toHaveTextContent('2.0 GB');
    },
    TEST_TIMEOUT,
  );

  it(
    'shows seconds as durations and every cap of 0 as unlimited in the limits listing',
    async () => {
      renderWithApp(<OperationsPage />, { fetch: serve().fetchFn, route: '/operations' });
      await screen.findByRole('table', { name: 'Per-user quotas' }, SLOW);
      const value = (label: string) => screen.getByText(label).nextElementSibling;
      expect(value('Scan heartbeat ttl seconds')).toHaveTextContent('1m 30s');
      expect(value('Scan running stale seconds')).toHaveTextContent('2h 0m');
      expect(value('Max active scans per user')).toHaveTextContent('unlimited');
      expect(value('Llm max cost usd per scan')).toHaveTextContent('unlimited');
      expect(value('Llm max requests per scan')).toHaveTextContent('400');
      expect(await screen.findByText('Oldest queued age seconds', {}, SLOW)).toBeInTheDocument();
      expect(value('Oldest queued age seconds')).toHaveTextContent('2m 5s');
      expect(screen.queryByText('Per user')).toBeNull();
      expect(screen.getByText('Execution mode')).toBeInTheDocument();
    },
    TEST_TIMEOUT,
  );

  it(
    'shows each engine, whether it runs by default, and why an unavailable one cannot run',
    async () => {
      renderWithApp(<OperationsPage />, { fetch: serve().fetchFn, route: '/operations' });
      const table = await screen.findByRole('table', { name: 'Engines' }, SLOW);
      const secrets = within(table).getByRole('row', { name: /^Secrets/ });
      expect(secrets).toHaveTextContent('Available');
      expect(secrets).toHaveTextContent('yes');
      const codex = within(table).getByRole('row', { name: /^Codex AI audit/ });
      expect(codex).toHaveTextContent('Unavailable');
      expect(codex).toHaveTextContent('Unavailable: no model provider configured. To enable it: set VEGA_LLM_PROVIDER_API_KEY.');
    },
    TEST_TIMEOUT,
  );

  it(
    'asks before Recover and Cleanup, and runs nothing on Cancel',
    async () => {
      const { fetchFn, calls } = serve();
      renderWithApp(<OperationsPage />, { fetch: fetchFn, route: '/operations' });
      await screen.findByRole('table', { name: 'Per-user quotas' }, SLOW);
      const posts = () => calls.filter((c) => c.startsWith('POST'));

      await userEvent.click(screen.getByRole('button', { name: 'Cleanup' }));
      let dialog = screen.getByRole('dialog', { name: 'Cleanup now?' });
      expect(dialog).toHaveTextContent('cannot be undone');
      await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
      expect(screen.queryByRole('dialog')).toBeNull();
      expect(posts()).toEqual([]);

      await userEvent.click(screen.getByRole('button', { name: 'Recover' }));
      dialog = screen.getByRole('dialog', { name: 'Recover now?' });
      expect(dialog).toHaveTextContent('re-queued');
      expect(posts()).toEqual([]);
      await userEvent.click(within(dialog).getByRole('button', { name: 'Run recover' }));
      await waitFor(() => expect(posts()).toEqual(['POST /v1/ops/recover']), SLOW);
      expect(await screen.findByRole('status', {}, SLOW)).toHaveTextContent('Recover finished');
      expect(screen.queryByRole('dialog')).toBeNull();
    },
    TEST_TIMEOUT,
  );
});

describe('formatSetting', () => {
  it('reads a value by its key', () => {
    expect(formatSetting('max_source_bytes', 0)).toBe('unlimited');
    expect(formatSetting('llm_max_tokens_per_scan', 0)).toBe('unlimited');
    expect(formatSetting('max_archive_file_bytes', 1536)).toBe('1.5 KB');
    expect(formatSetting('scan_heartbeat_seconds', 30)).toBe('30s');
    expect(formatSetting('llm_max_cost_usd_per_scan', 5)).toBe('$5.00');
    expect(formatSetting('thread_concurrency', 0)).toBe('0');
    expect(formatSetting('orphaned_blobs', 12345)).toBe('12,345');
  });
});
