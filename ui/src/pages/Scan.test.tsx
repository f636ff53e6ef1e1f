import { act, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router-dom';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Scan } from '../api/types';
import { FakeEventSource } from '../test/eventSource';
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

  it('retry opens the new scan: its own empty log, a stream for its ID, and events that stream without a reload', async () => {
    const opened: FakeEventSource[] = [];
    FakeEventSource.instances = opened;
    vi.stubGlobal('EventSource', FakeEventSource);
    const failed: Scan = { ...baseScan, status: 'failed', finished_at: '2026-01-01T00:05:00Z', error: { code: 'engine_failed', message: 'boom' } };
    const retried: Scan = { ...baseScan, id: 'scan_2', status: 'queued', progress: { percent: 0, message: '', component: '', components_done: 0, components_total: 0 }, started_at: null };
    const oldEvent = { scan_id: 'scan_1', seq: 1, kind: 'scan_log', payload: { level: 'error', message: 'the old engine exploded', engine: 'codex' }, created_at: '2026-01-01T00:00:02Z' };
    const fetchFn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
      const url = String(u);
      if (url === '/v1/scans/scan_1/retry' && init?.method === 'POST') return jsonResponse(202, retried);
      if (url.startsWith('/v1/scans/scan_1/events')) return jsonResponse(200, { items: [oldEvent], next_cursor: null });
      if (url.startsWith('/v1/scans/scan_2/events')) return jsonResponse(200, { items: [], next_cursor: null });
      if (url.includes('/findings')) return jsonResponse(200, { items: [], next_cursor: null, total: 0, counts: {} });
      if (url === '/v1/scans/scan_1') return jsonResponse(200, failed);
      if (url === '/v1/scans/scan_2') return jsonResponse(200, retried);
      return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'no route', retryable: false } });
    }) as unknown as typeof fetch;
    renderWithApp(page, { fetch: fetchFn, route: '/scans/scan_1' });
    expect(await screen.findByText(/the old engine exploded/)).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Retry scan' }));
    expect(await screen.findByText('scan_2')).toBeInTheDocument();
    expect(screen.queryByText(/the old engine exploded/)).toBeNull();
    await waitFor(() => expect(opened.some((es) => es.url.includes('/v1/scans/scan_2/events/stream'))).toBe(true));
    const es = opened.find((x) => x.url.includes('scan_2'))!;
    act(() => es.frame(1, 'scan_started', { engines: ['secrets'], snapshot_id: 'snap_1', file_count: 300, attempt: 1 }, { scanId: 'scan_2', createdAt: '2026-01-01T00:00:03Z' }));
    expect(await screen.findByText('Scan started: secrets on 300 files.')).toBeInTheDocument();
  });

  it('shows progress per engine in units, never lets the bar go back, and reads a cancelled stage as Cancelled', async () => {
    const opened: FakeEventSource[] = [];
    FakeEventSource.instances = opened;
    vi.stubGlobal('EventSource', FakeEventSource);
    const running: Scan = {
      ...baseScan,
      engines: ['secrets'],
      usage: { requests: 0, input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, cost_usd: 0 },
      progress: {
        percent: 40, message: 'secrets: 120/300 files scanned', component: 'secrets', components_done: 0, components_total: 0,
        engine: 'secrets', stage: 'scan', done: 120, total: 300, unit: 'files',
        engines: [{ engine: 'secrets', state: 'running', stage: 'scan', done: 120, total: 300, unit: 'files', percent: 40 }],
      },
    };
    renderWithApp(page, { fetch: serve(running, []), route: '/scans/scan_1' });
    expect(await screen.findByRole('progressbar', { name: 'Scan progress' })).toHaveAttribute('aria-valuenow', '40');
    expect(screen.getByText(/120 \/ 300 files/)).toBeInTheDocument();
    // An engine without a model: usage is one line.
    expect(screen.getByText(/No model used/)).toBeInTheDocument();
    expect(screen.queryByText('Input tokens')).toBeNull();
    await waitFor(() => expect(opened.length).toBeGreaterThan(0));
    const es = opened[opened.length - 1];
    act(() => es.frame(1, 'scan_progress', { percent: 25, message: 'late report', engine: 'secrets', engines: running.progress.engines }, { scanId: 'scan_1', createdAt: '2026-01-01T00:00:03Z' }));
    await screen.findByText(/late report/, { selector: '[role=log] *' });
    expect(screen.getByRole('progressbar', { name: 'Scan progress' })).toHaveAttribute('aria-valuenow', '40');
    act(() => es.frame(2, 'scan_progress', { percent: 70, message: 'secrets: 210/300 files scanned', engine: 'secrets', done: 210, total: 300, unit: 'files' }, { scanId: 'scan_1', createdAt: '2026-01-01T00:00:03Z' }));
    await waitFor(() => expect(screen.getByRole('progressbar', { name: 'Scan progress' })).toHaveAttribute('aria-valuenow', '70'));
    // The event log speaks in sentences, never JSON.
    expect(screen.getByRole('log', { name: 'Event log' }).textContent).not.toMatch(/[{}]/);
  });

  it('keeps the streamed progress when the scan it opened queued (attempt 0) is refetched claimed (attempt 1); a run again starts over', async () => {
    const opened: FakeEventSource[] = [];
    FakeEventSource.instances = opened;
    vi.stubGlobal('EventSource', FakeEventSource);
    const zero = { percent: 0, message: '', component: '', components_done: 0, components_total: 0 };
    const queued: Scan = { ...baseScan, engines: ['secrets'], status: 'queued', attempt: 0, started_at: null, progress: zero };
    // what a refetch answers: the row's progress is stored at heartbeats, behind the stream
    let row: Scan = queued;
    let rowReads = 0;
    const fetchFn = vi.fn(async (u: RequestInfo | URL) => {
      const url = String(u);
      if (url === '/v1/scans/scan_1') {
        rowReads++;
        return jsonResponse(200, row);
      }
      if (url.startsWith('/v1/scans/scan_1/events')) return jsonResponse(200, { items: [], next_cursor: null });
      if (url.includes('/findings')) return jsonResponse(200, { items: [], next_cursor: null, total: 0, counts: {} });
      return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'no route', retryable: false } });
    }) as unknown as typeof fetch;
    renderWithApp(page, { fetch: fetchFn, route: '/scans/scan_1' });
    const bar = await screen.findByRole('progressbar', { name: 'Scan progress' });
    expect(bar).toHaveAttribute('aria-valuenow', '0');
    await waitFor(() => expect(opened.length).toBeGreaterThan(0));
    const es = opened[opened.length - 1]!;
    row = { ...queued, status: 'running', attempt: 1, started_at: '2026-01-01T00:00:01Z' };
    act(() => es.frame(1, 'scan_started', { engines: ['secrets'], snapshot_id: 'snap_1', file_count: 300, attempt: 1 }));
    act(() => es.frame(2, 'scan_progress', { percent: 25, message: 'secrets: 75/300 files scanned', engine: 'secrets' }));
    await waitFor(() => expect(screen.getByRole('progressbar', { name: 'Scan progress' })).toHaveAttribute('aria-valuenow', '25'));
    // scan_started asked for the row: attempt 1, progress 0 as stored
    await waitFor(() => expect(rowReads).toBeGreaterThan(1), { timeout: 3000 });
    await act(async () => new Promise((r) => setTimeout(r, 50)));
    expect(screen.getByRole('progressbar', { name: 'Scan progress' })).toHaveAttribute('aria-valuenow', '25');

    // The scan released and run again (attempt 2): its progress starts over.
    row = { ...row, attempt: 2, progress: { ...zero, percent: 3 } };
    act(() => es.frame(3, 'scan_started', { engines: ['secrets'], snapshot_id: 'snap_1', file_count: 300, attempt: 2 }));
    await waitFor(() => expect(screen.getByRole('progressbar', { name: 'Scan progress' })).toHaveAttribute('aria-valuenow', '3'), { timeout: 3000 });
  });

  it('reads a stage a cancel stopped as Cancelled, not Failed', async () => {
    const cancelled: Scan = {
      ...baseScan,
      status: 'cancelled',
      finished_at: '2026-01-01T00:05:00Z',
      stages: [
        { engine: 'codex', stage: 'run', status: 'cancelled', message: 'cancelled on request' },
        { engine: 'secrets', stage: 'run', status: 'failed', message: 'stopped' },
      ],
    };
    renderWithApp(page, { fetch: serve(cancelled, []), route: '/scans/scan_1' });
    const stages = await screen.findByText(/codex · run/);
    expect(stages.closest('li')?.textContent).toMatch(/^Cancelled/);
    expect(screen.getByText(/secrets · run/).closest('li')?.textContent).toMatch(/^Cancelled/);
    expect(screen.queryByText('Failed')).toBeNull();
  });
});
