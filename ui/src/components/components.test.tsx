import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { ThreatProfile } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import { SeverityBadge } from './Badges';
import { niceCeil } from './BarChart';
import { CodeView } from './CodeView';
import { FindingsView } from './FindingsView';
import { ThreatProfileEditor } from './ThreatProfilePanel';
import { TriageForm } from './Triage';


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

describe('niceCeil', () => {
  it('rounds chart maxima to readable ticks', () => {
    expect(niceCeil(0)).toBe(1);
    expect(niceCeil(0.013)).toBe(0.02);
    expect(niceCeil(730)).toBe(1000);
    expect(niceCeil(4100)).toBe(5000);
  });
});

describe('FindingsView', () => {
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
