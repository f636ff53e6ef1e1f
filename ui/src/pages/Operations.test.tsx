import { screen, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { OpsLimits } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import OperationsPage from './Operations';

const limits: OpsLimits = {
  execution_mode: 'thread',
  max_source_bytes: 2147483648,
  max_active_scans_per_user: 4,
  per_user: { max_projects: 100, max_repositories: 0, max_stored_bytes: 53687091200 },
  usage: { projects: 3, repositories: 12, stored_bytes: 1610612736 },
};

function serve() {
  return vi.fn(async (u: RequestInfo | URL) => {
    const url = String(u);
    if (url.endsWith('/v1/ops/workers')) return jsonResponse(200, { items: [], next_cursor: null });
    if (url.endsWith('/v1/ops/queue')) return jsonResponse(200, { counts: { queued: 0 }, oldest_queued_at: null, oldest_queued_age_seconds: 0 });
    if (url.endsWith('/v1/ops/limits')) return jsonResponse(200, limits);
    return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'No such route', retryable: false } });
  }) as unknown as typeof fetch;
}

describe('OperationsPage', () => {
  it('shows each per-user cap beside the usage, human-readable, with 0 as unlimited', async () => {
    renderWithApp(<OperationsPage />, { fetch: serve(), route: '/operations' });
    const table = await screen.findByRole('table', { name: 'Per-user quotas' });
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
  });

  it('keeps the quotas out of the generic limits listing', async () => {
    renderWithApp(<OperationsPage />, { fetch: serve(), route: '/operations' });
    await screen.findByRole('table', { name: 'Per-user quotas' });
    expect(screen.queryByText('Per user')).toBeNull();
    expect(screen.getByText('Execution mode')).toBeInTheDocument();
  });
});
