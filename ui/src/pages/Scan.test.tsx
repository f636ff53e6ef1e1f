import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Scan } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import ScanPage from './Scan';

const baseScan: Scan = {
  id: 'scan_1',
  repository_id: 'repo_1',
  project_id: 'prj_1',
  snapshot_id: 'snap_1',
  requested_by: 'usr_1',
  status: 'running',
  engines: ['codex'],
  paths: null,
  threat_profile: null,
  progress: { percent: 40, message: 'auditing components', component: 'api', components_done: 2, components_total: 5 },
  stages: [{ engine: 'codex', stage: 'plan', status: 'succeeded' }],
  error: null,
  stop_reason: '',
  attempt: 1,
  heartbeat_at: null,
  cancel_requested_at: null,
  usage: { requests: 12, input_tokens: 120000, cached_input_tokens: 0, output_tokens: 3400, cost_usd: 1.25 },
  finding_counts: { critical: 0, high: 1, medium: 0, low: 0, info: 0 },
  artifacts: null,
  created_at: '2026-01-01T00:00:00Z',
  claimed_at: null,
  started_at: '2026-01-01T00:00:01Z',
  finished_at: null,
};

class SilentEventSource {
  static CLOSED = 2;
  readyState = 0;
  onerror = null;
  onopen = null;
  onmessage = null;
  addEventListener() {}
  close() {}
}

beforeEach(() => vi.stubGlobal('EventSource', SilentEventSource));
afterEach(() => vi.unstubAllGlobals());

function serve(scan: Scan, calls: { method: string; url: string }[]) {
  return vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
    const url = String(u);
    const method = init?.method ?? 'GET';
    calls.push({ method, url });
    if (url === '/v1/scans/scan_1/cancel') return jsonResponse(200, { ...scan, cancel_requested_at: '2026-01-01T00:01:00Z' });
    if (url.startsWith('/v1/scans/scan_1/findings')) return jsonResponse(200, { items: [], next_cursor: null });
    if (url.startsWith('/v1/scans/scan_1/events')) return jsonResponse(200, { items: [], next_cursor: null });
    if (url === '/v1/scans/scan_1') return jsonResponse(200, scan);
    if (url === '/v1/projects/prj_1') return jsonResponse(200, { id: 'prj_1', name: 'Payments' });
    if (url === '/v1/repositories/repo_1') return jsonResponse(200, { id: 'repo_1', name: 'api' });
    return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'no route', retryable: false } });
  }) as unknown as typeof fetch;
}

const page = (
  <Routes>
    <Route path="/scans/:scanId" element={<ScanPage />} />
  </Routes>
);

describe('ScanPage', () => {
  it('shows live progress, usage and stages, and cancels a running scan', async () => {
    const calls: { method: string; url: string }[] = [];
    renderWithApp(page, { fetch: serve(baseScan, calls), route: '/scans/scan_1' });
    expect(await screen.findByRole('progressbar', { name: 'Scan progress' })).toHaveAttribute('aria-valuenow', '40');
    expect(screen.getByText(/components 2\/5/)).toBeInTheDocument();
    expect(screen.getByText('$1.25')).toBeInTheDocument();
    expect(screen.getByText('120,000')).toBeInTheDocument();
    expect(screen.getByText(/codex · plan/)).toBeInTheDocument();
    expect(await screen.findByRole('link', { name: 'Payments' })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Cancel scan' }));
    await waitFor(() => expect(calls).toContainEqual({ method: 'POST', url: '/v1/scans/scan_1/cancel' }));
    expect(await screen.findByRole('button', { name: 'Cancelling…' })).toBeDisabled();
  });

  it('explains a scan stopped by its budget and offers a retry', async () => {
    const calls: { method: string; url: string }[] = [];
    const stopped: Scan = { ...baseScan, status: 'failed', stop_reason: 'budget_exceeded', finished_at: '2026-01-01T00:05:00Z', error: { code: 'budget_exceeded', message: 'cap' } };
    renderWithApp(page, { fetch: serve(stopped, calls), route: '/scans/scan_1' });
    expect(await screen.findByText('Budget exceeded.')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Retry scan' })).toBeEnabled();
    expect(screen.queryByRole('button', { name: 'Cancel scan' })).toBeNull();
  });
});
