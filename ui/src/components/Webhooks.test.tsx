import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Webhook, WebhookDelivery } from '../api/types';
import { jsonResponse, renderWithApp } from '../test/render';
import { ProjectWebhooks } from './Webhooks';

const hook: Webhook = {
  id: 'whk_1',
  project_id: 'prj_1',
  owner_user_id: 'usr_1',
  url: 'https://hooks.slack.com/services/T0/B0/secretpath',
  events: ['scan.completed', 'finding.new'],
  min_severity: 'high',
  format: 'slack',
  description: 'team channel',
  created_at: '2026-01-01T00:00:00Z',
};

function delivery(over: Partial<WebhookDelivery>): WebhookDelivery {
  return {
    id: 'whd_1',
    webhook_id: 'whk_1',
    project_id: 'prj_1',
    owner_user_id: 'usr_1',
    event: 'webhook.test',
    payload: {},
    status: 'pending',
    next_attempt_at: '2026-01-01T00:00:00Z',
    attempts: [],
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    ...over,
  };
}

/** A fetch double for the webhook endpoints that records what was sent. */
function hooksServer(initial: Webhook[]) {
  const calls: { method: string; url: string; body?: unknown }[] = [];
  let hooks = [...initial];
  let deliveries: WebhookDelivery[] = [];
  const fetchFn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const url = String(input);
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url, body });
    if (url.startsWith('/v1/projects/prj_1/webhooks') && method === 'GET') return jsonResponse(200, { items: hooks, next_cursor: null });
    if (url === '/v1/projects/prj_1/webhooks' && method === 'POST') {
      const created = { ...hook, id: 'whk_2', url: body.url, events: body.events, format: body.format, min_severity: body.min_severity, description: '' };
      hooks = [created, ...hooks];
      return jsonResponse(201, { ...created, secret: 'whsec_shown_once' });
    }
    if (url === '/v1/webhooks/whk_1/test' && method === 'POST') {
      // The test is delivered in the background: pending first, then logged.
      deliveries = [delivery({ status: 'succeeded', attempts: [{ at: '2026-01-01T00:00:01Z', duration_ms: 42, response_code: 200 }] })];
      return jsonResponse(202, delivery({}));
    }
    if (url.startsWith('/v1/webhooks/whk_1/deliveries')) return jsonResponse(200, { items: deliveries, next_cursor: null });
    if (url === '/v1/webhooks/whk_1' && method === 'DELETE') {
      hooks = hooks.filter((h) => h.id !== 'whk_1');
      return new Response(null, { status: 204 });
    }
    return jsonResponse(404, { schema_version: 1, error: { code: 'not_found', message: 'no', retryable: false, details: {}, request_id: 'r' } });
  });
  return { fetchFn: fetchFn as unknown as typeof fetch, calls };
}

describe('ProjectWebhooks', () => {
  it('lists webhooks by host only: a Slack URL path is a credential', async () => {
    const { fetchFn } = hooksServer([hook]);
    renderWithApp(<ProjectWebhooks projectId="prj_1" />, { fetch: fetchFn });
    expect(await screen.findByText('hooks.slack.com')).toBeInTheDocument();
    expect(screen.queryByText(/secretpath/)).toBeNull();
    expect(screen.getByText(/scan.completed, finding.new \(≥ high\) · slack · team channel/)).toBeInTheDocument();
  });

  it('creates a webhook and shows its signing secret once', async () => {
    const { fetchFn, calls } = hooksServer([]);
    renderWithApp(<ProjectWebhooks projectId="prj_1" />, { fetch: fetchFn });
    expect(await screen.findByText('No webhooks')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Add webhook' }));
    const dialog = screen.getByRole('dialog', { name: 'Add webhook' });
    await userEvent.click(within(dialog).getByLabelText('Endpoint URL'));
    await userEvent.paste('https://ci.example.com/hook');
    await userEvent.click(within(dialog).getByLabelText('Scan failed'));
    await userEvent.selectOptions(within(dialog).getByLabelText('Minimum severity of new findings'), 'medium');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Add webhook' }));
    const secret = await screen.findByLabelText('Signing secret');
    expect(secret).toHaveValue('whsec_shown_once');
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.body).toEqual({ url: 'https://ci.example.com/hook', events: ['scan.completed', 'finding.new'], min_severity: 'medium', format: 'json' });
    expect(await screen.findByText('ci.example.com')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'I have saved it' }));
    expect(screen.queryByLabelText('Signing secret')).toBeNull();
  }, 15000);

  it('sends a test and shows the delivery log with status, response code and duration', async () => {
    const { fetchFn, calls } = hooksServer([hook]);
    renderWithApp(<ProjectWebhooks projectId="prj_1" />, { fetch: fetchFn });
    await userEvent.click(await screen.findByRole('button', { name: 'Send test to hooks.slack.com' }));
    expect(calls.some((c) => c.method === 'POST' && c.url === '/v1/webhooks/whk_1/test')).toBe(true);
    const log = await screen.findByRole('table', { name: 'Deliveries' });
    await waitFor(() => expect(within(log).getByText('Succeeded')).toBeInTheDocument());
    expect(within(log).getByText('webhook.test')).toBeInTheDocument();
    expect(within(log).getByText('200')).toBeInTheDocument();
    expect(within(log).getByText('42 ms')).toBeInTheDocument();
  });

  it('deletes a webhook after confirmation', async () => {
    const { fetchFn, calls } = hooksServer([hook]);
    renderWithApp(<ProjectWebhooks projectId="prj_1" />, { fetch: fetchFn });
    await userEvent.click(await screen.findByRole('button', { name: 'Delete webhook to hooks.slack.com' }));
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    await userEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'DELETE' && c.url === '/v1/webhooks/whk_1')).toBe(true));
    expect(await screen.findByText('No webhooks')).toBeInTheDocument();
  });
});
