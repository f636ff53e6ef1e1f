import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Finding, ThreatProfile } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import { SeverityBadge } from './Badges';
import { niceCeil } from './BarChart';
import { CodeView } from './CodeView';
import { FindingsView, sortFindings } from './FindingsView';
import { ThreatProfileEditor } from './ThreatProfilePanel';
import { TriageForm } from './Triage';

const finding = (over: Partial<Finding>): Finding => ({
  id: 'fnd_1',
  scan_id: 'scan_1',
  repository_id: 'repo_1',
  project_id: 'prj_1',
  fingerprint: 'fp',
  engine: 'secrets',
  title: 'AWS secret key',
  severity: 'high',
  confidence: 'high',
  category: 'secret',
  rule_id: 'aws-access-token',
  cwe: ['CWE-798'],
  file_path: 'config/app.py',
  start_line: 3,
  end_line: 3,
  description: '',
  evidence: '',
  recommendation: '',
  locations: null,
  status: 'open',
  first_seen_scan_id: 'scan_1',
  last_seen_scan_id: 'scan_1',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  ...over,
});

describe('SeverityBadge', () => {
  it('shows severity as text, not only colour', () => {
    render(<SeverityBadge severity="critical" />);
    const badge = screen.getByText('Critical').closest('[data-severity]')!;
    expect(badge).toHaveAttribute('data-severity', 'critical');
    expect(badge.className).toContain('sev-critical');
  });
});

describe('CodeView', () => {
  it('numbers lines, highlights the range with context and renders hostile code as text', () => {
    const content = ['a', 'b', '<img src=x onerror=alert(1)>', 'd', 'e', 'f', 'g'].join('\n');
    const { container } = render(<CodeView label="code" content={content} ranges={[{ start: 3, end: 4 }]} context={1} />);
    const lines = container.querySelectorAll('.line');
    expect([...lines].map((l) => l.getAttribute('data-line'))).toEqual(['2', '3', '4', '5']);
    expect([...container.querySelectorAll('.line.hl')].map((l) => l.getAttribute('data-line'))).toEqual(['3', '4']);
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getByText('<img src=x onerror=alert(1)>')).toBeInTheDocument();
  });
});

describe('TriageForm', () => {
  it('requires a reason to dismiss and sends status, reason and note', async () => {
    const onSubmit = vi.fn(async () => undefined);
    render(<TriageForm title="Triage" onSubmit={onSubmit} />);
    await userEvent.click(screen.getByRole('button', { name: 'Save triage' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole('alert')).toHaveTextContent('Choose a reason');
    await userEvent.selectOptions(screen.getByLabelText('Reason'), 'used_in_tests');
    await userEvent.type(screen.getByLabelText('Note'), 'fixture key');
    await userEvent.click(screen.getByRole('button', { name: 'Save triage' }));
    expect(onSubmit).toHaveBeenCalledWith({ status: 'dismissed', dismissed_reason: 'used_in_tests', note: 'fixture key' });
  });

  it('sends no reason for other statuses', async () => {
    const onSubmit = vi.fn(async () => undefined);
    render(<TriageForm title="Triage" onSubmit={onSubmit} />);
    await userEvent.selectOptions(screen.getByLabelText('Status'), 'confirmed');
    expect(screen.queryByLabelText('Reason')).toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Save triage' }));
    expect(onSubmit).toHaveBeenCalledWith({ status: 'confirmed', dismissed_reason: undefined, note: undefined });
  });
});

describe('ThreatProfileEditor', () => {
  it('edits every field and saves them as the PUT content', async () => {
    const profile: ThreatProfile = {
      id: 'tp_1',
      repository_id: 'repo_1',
      status: 'ready',
      source: 'generated',
      content: { summary: 'A web app', assets: ['user data'], entry_points: null, trust_boundaries: [], focus: [], out_of_scope: [], severity_threshold: '' },
      error: null,
      updated_at: '2026-01-01T00:00:00Z',
      updated_by: 'system',
    };
    const onSave = vi.fn(async () => undefined);
    render(<ThreatProfileEditor profile={profile} onSave={onSave} onCancel={() => undefined} />);
    const summary = screen.getByLabelText('Summary');
    await userEvent.clear(summary);
    await userEvent.type(summary, 'Payments API');
    await userEvent.type(screen.getByLabelText('Assets'), '\ncard numbers\n\n');
    await userEvent.type(screen.getByLabelText('Entry points'), 'POST /pay');
    await userEvent.type(screen.getByLabelText('Trust boundaries'), 'internet → api');
    await userEvent.type(screen.getByLabelText('Focus'), 'injection\nauthz');
    await userEvent.type(screen.getByLabelText('Out of scope'), 'tests/');
    await userEvent.selectOptions(screen.getByLabelText('Severity threshold'), 'medium');
    await userEvent.click(screen.getByRole('button', { name: 'Save threat profile' }));
    expect(onSave).toHaveBeenCalledWith({
      summary: 'Payments API',
      assets: ['user data', 'card numbers'],
      entry_points: ['POST /pay'],
      trust_boundaries: ['internet → api'],
      focus: ['injection', 'authz'],
      out_of_scope: ['tests/'],
      severity_threshold: 'medium',
    });
  });
});

describe('sortFindings / niceCeil', () => {
  it('sorts by severity rank, not alphabetically', () => {
    const items = [finding({ id: '1', severity: 'low' }), finding({ id: '2', severity: 'critical' }), finding({ id: '3', severity: 'medium' })];
    expect(sortFindings(items, 'severity', 'desc').map((f) => f.severity)).toEqual(['critical', 'medium', 'low']);
    expect(sortFindings(items, 'severity', 'asc').map((f) => f.severity)).toEqual(['low', 'medium', 'critical']);
  });
  it('rounds chart maxima to readable ticks', () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(0.013)).toBe(0.02);
    expect(niceCeil(730)).toBe(1000);
    expect(niceCeil(4100)).toBe(5000);
  });
});

describe('FindingsView', () => {
  it('sends URL filters to the API, and bulk-triages the selected findings', async () => {
    const calls: { url: string; method: string; body?: string }[] = [];
    const fetchFn = vi.fn(async (u: RequestInfo | URL, init?: RequestInit) => {
      calls.push({ url: String(u), method: init?.method ?? 'GET', body: init?.body as string | undefined });
      if (String(u).includes('bulk-triage')) return jsonResponse(200, { updated: 2 });
      return jsonResponse(200, {
        items: [finding({ id: 'fnd_a', title: 'Leaked key', severity: 'low' }), finding({ id: 'fnd_b', title: 'SQL injection', severity: 'critical' })],
        next_cursor: null,
        total: 2,
      });
    }) as unknown as typeof fetch;
    renderWithApp(<FindingsView scope={{ kind: 'repository', id: 'repo_1' }} />, { fetch: fetchFn, route: '/repositories/repo_1/findings?status=open' });
    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(within(rows[0]!).getByText('SQL injection')).toBeInTheDocument(); // severity desc by default
    expect(calls[0]!.url).toBe('/v1/repositories/repo_1/findings?status=open&limit=50');
    expect(screen.getByRole('button', { name: 'Export SARIF' })).toBeInTheDocument();

    await userEvent.click(screen.getByLabelText('Select all findings on this page'));
    await userEvent.click(screen.getByRole('button', { name: 'Triage selected (2)' }));
    await userEvent.selectOptions(screen.getByLabelText('Reason'), 'false_positive');
    await userEvent.click(screen.getByRole('button', { name: 'Save triage' }));
    await waitFor(() => expect(calls.some((c) => c.url === '/v1/findings/bulk-triage')).toBe(true));
    const bulk = calls.find((c) => c.url === '/v1/findings/bulk-triage')!;
    expect(bulk.method).toBe('POST');
    expect(JSON.parse(bulk.body!)).toEqual({ ids: ['fnd_b', 'fnd_a'], status: 'dismissed', dismissed_reason: 'false_positive' });
  });

  it('shows the server error with a retry', async () => {
    const fetchFn = vi.fn(async () =>
      jsonResponse(500, { schema_version: 1, error: { code: 'internal', message: 'Internal error', retryable: true, request_id: 'rq9' } }),
    ) as unknown as typeof fetch;
    renderWithApp(<FindingsView scope={{ kind: 'scan', id: 'scan_1' }} />, { fetch: fetchFn });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Internal error');
    expect(alert).toHaveTextContent('rq9');
    expect(within(alert).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
