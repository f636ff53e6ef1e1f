// A project's webhooks (docs/webhooks.md): register an endpoint, see its
// signing secret once, send a test event and read the delivery log.
import { useState } from 'react';
import type { CreatedWebhook, Severity, Webhook, WebhookDelivery, WebhookEvent } from '../api/types';
import { SEVERITIES } from '../api/types';
import { useApi } from '../app-context';
import { formatAge, formatDate } from '../lib/format';
import { useAction, useAsync, useDialog, useInterval, useSubmit } from '../lib/hooks';
import { StatusBadge } from './Badges';
import { DataTable } from './DataTable';
import { ConfirmRowDelete, Dialog, FormActions } from './Dialog';
import { SectionHead } from './Misc';
import { Options } from './Options';
import { SecretOnce, useCreateWithSecret } from './SecretOnce';
import { Async, Empty, InlineError } from './States';

const EVENTS: { value: WebhookEvent; label: string }[] = [
  { value: 'scan.completed', label: 'Scan completed' },
  { value: 'scan.failed', label: 'Scan failed' },
  { value: 'finding.new', label: 'New findings' },
];

export function ProjectWebhooks({ projectId }: { projectId: string }) {
  const api = useApi();
  const hooks = useAsync(() => api.listProjectWebhooks(projectId, { limit: 100 }), [projectId]);
  const create = useCreateWithSecret<CreatedWebhook>(hooks);
  const deleting = useDialog<Webhook>();
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section className="panel" aria-labelledby="webhooks-title">
      <SectionHead title="Webhooks" titleId="webhooks-title" action="Add webhook" onAction={create.open} />
      <p className="muted small">
        Vega POSTs signed JSON (or a Slack message) when a scan completes or fails, or finds something new. Failed deliveries are retried for 24 hours.
      </p>
      {create.created && (
        <SecretOnce heading="Copy the signing secret now — it will not be shown again." label="Signing secret" secret={create.created.secret} onSaved={create.saved} />
      )}
      <Async state={hooks} label="Loading webhooks…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty title="No webhooks" />
          ) : (
            <ul className="webhooks">
              {page.items.map((w) => (
                <WebhookRow
                  key={w.id}
                  hook={w}
                  open={open === w.id}
                  onToggle={() => setOpen(open === w.id ? null : w.id)}
                  onDelete={() => deleting.open(w)}
                />
              ))}
            </ul>
          )
        }
      </Async>
      {create.creating && <AddWebhookDialog projectId={projectId} onClose={create.close} onCreated={create.onCreated} />}
      <ConfirmRowDelete
        dialog={deleting}
        list={hooks}
        what={(w) => `webhook to ${hostOf(w.url)}`}
        consequence="Pending deliveries are dropped and its delivery log is deleted."
        remove={(w) => api.deleteWebhook(w.id)}
      />
    </section>
  );
}

function WebhookRow({ hook, open, onToggle, onDelete }: { hook: Webhook; open: boolean; onToggle: () => void; onDelete: () => void }) {
  const api = useApi();
  const test = useAction();
  const [refresh, setRefresh] = useState(0);
  const label = hostOf(hook.url);
  return (
    <li className="webhook">
      <div className="section-head">
        <div>
          <span className="mono">{label}</span>{' '}
          <span className="muted small">
            {hook.events.join(', ')}
            {hook.events.includes('finding.new') && ` (≥ ${hook.min_severity})`} · {hook.format}
            {hook.description && ` · ${hook.description}`}
          </span>
        </div>
        <div className="actions">
          <button
            type="button"
            className="small"
            disabled={test.busy}
            aria-label={`Send test to ${label}`}
            onClick={() =>
              void test.run(async () => {
                await api.testWebhook(hook.id);
                setRefresh((n) => n + 1);
                if (!open) onToggle();
              })
            }
          >
            Send test
          </button>
          <button type="button" className="small" aria-expanded={open} aria-label={`Deliveries of ${label}`} onClick={onToggle}>
            Deliveries
          </button>
          <button type="button" className="danger small" aria-label={`Delete webhook to ${label}`} onClick={onDelete}>
            Delete
          </button>
        </div>
      </div>
      <InlineError error={test.error} />
      {open && <DeliveryLog webhookId={hook.id} refresh={refresh} />}
    </li>
  );
}

/** The delivery log of one webhook, polled while a delivery is still pending. */
export function DeliveryLog({ webhookId, refresh = 0 }: { webhookId: string; refresh?: number }) {
  const api = useApi();
  const log = useAsync(() => api.listWebhookDeliveries(webhookId, { limit: 20 }), [webhookId, refresh]);
  const pending = (log.data?.items ?? []).some((d) => d.status === 'pending');
  useInterval(() => log.reload(true), 2000, pending);
  return (
    <Async state={log} label="Loading deliveries…">
      {(page) =>
        page.items.length === 0 ? (
          <p className="muted small">No deliveries yet.</p>
        ) : (
          <DataTable caption="Deliveries" columns={['Event', 'Status', 'Attempts', 'Response', 'Duration', 'Queued']}>
            {page.items.map((d) => (
              <DeliveryRow key={d.id} d={d} />
            ))}
          </DataTable>
        )
      }
    </Async>
  );
}

function DeliveryRow({ d }: { d: WebhookDelivery }) {
  const attempts = d.attempts ?? [];
  const last = attempts.at(-1);
  return (
    <tr>
      <td className="mono">{d.event}</td>
      <td>
        <StatusBadge status={d.status} />
        {d.status === 'pending' && attempts.length > 0 && <span className="muted small"> next {formatAge(d.next_attempt_at)}</span>}
      </td>
      <td>{attempts.length}</td>
      <td title={last?.error}>
        {last ? (last.response_code ? last.response_code : '—') : ''}
        {last?.error && <span className="muted small"> {last.error}</span>}
      </td>
      <td>{last ? `${last.duration_ms} ms` : ''}</td>
      <td title={formatDate(d.created_at)}>{formatAge(d.created_at)}</td>
    </tr>
  );
}

function AddWebhookDialog({ projectId, onClose, onCreated }: { projectId: string; onClose: () => void; onCreated: (w: CreatedWebhook) => void }) {
  const api = useApi();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<WebhookEvent[]>(['scan.completed', 'scan.failed', 'finding.new']);
  const [minSeverity, setMinSeverity] = useState<Severity>('high');
  const [format, setFormat] = useState<'json' | 'slack'>('json');
  const [description, setDescription] = useState('');
  const toggle = (e: WebhookEvent, on: boolean) => setEvents((cur) => (on ? [...cur, e] : cur.filter((x) => x !== e)));
  const { busy, error, onSubmit } = useSubmit(async () => {
    onCreated(await api.createWebhook(projectId, { url: url.trim(), events, min_severity: minSeverity, format, description: description.trim() || undefined }));
  });
  return (
    <Dialog title="Add webhook" onClose={onClose}>
      <form onSubmit={onSubmit}>
        <label>
          Endpoint URL
          <input required type="url" placeholder="https://hooks.example.com/vega" maxLength={2048} value={url} onChange={(e) => setUrl(e.target.value)} />
        </label>
        <fieldset>
          <legend>Events</legend>
          {EVENTS.map((ev) => (
            <label key={ev.value}>
              <input type="checkbox" checked={events.includes(ev.value)} onChange={(e) => toggle(ev.value, e.target.checked)} /> {ev.label}
            </label>
          ))}
        </fieldset>
        {events.includes('finding.new') && (
          <label>
            Minimum severity of new findings
            <select value={minSeverity} onChange={(e) => setMinSeverity(e.target.value as Severity)}>
              <Options values={SEVERITIES} />
            </select>
          </label>
        )}
        <label>
          Format
          <select value={format} onChange={(e) => setFormat(e.target.value as 'json' | 'slack')}>
            <option value="json">Signed JSON event</option>
            <option value="slack">Slack message (incoming webhook URL)</option>
          </select>
        </label>
        <label>
          Description (optional)
          <input maxLength={200} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <FormActions error={error} onCancel={onClose} disabled={busy || !url.trim() || events.length === 0}>
          Add webhook
        </FormActions>
      </form>
    </Dialog>
  );
}

/** The host of a webhook URL: what the page shows by default, since a URL's path can be a credential (Slack). */
function hostOf(u: string): string {
  try {
    return new URL(u).host;
  } catch {
    return u;
  }
}
