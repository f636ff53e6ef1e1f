import { useState } from 'react';
import { Link } from 'react-router-dom';
import { isOperator, useApi, useApp } from '../app-context';
import { DataTable } from '../components/DataTable';
import { ConfirmAction } from '../components/Dialog';
import { PageHeader } from '../components/Misc';
import { engineLabel, unavailableText } from '../components/StartScan';
import { Async, Empty, InlineError } from '../components/States';
import type { EngineStatus, OpsLimits } from '../api/types';
import { formatAge, formatBytes, formatCost, formatDate, formatDuration, formatNumber, humanize } from '../lib/format';
import { useAsync, useDocumentTitle, useInterval } from '../lib/hooks';

const STALE_AFTER_MS = 60_000; // VEGA_WORKER_HEARTBEAT_TTL_SECONDS default

export default function OperationsPage() {
  const api = useApi();
  const { user } = useApp();
  const workers = useAsync(() => api.opsWorkers(), []);
  const queue = useAsync(() => api.opsQueue(), []);
  const limits = useAsync(() => api.opsLimits(), []);
  const engines = useAsync(() => api.listEngines(), []);
  const [result, setResult] = useState<{ action: string; body: Record<string, unknown> } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState('');
  const [confirming, setConfirming] = useState<'Recover' | 'Cleanup' | null>(null);
  useDocumentTitle('Operations');
  useInterval(
    () => {
      workers.reload(true);
      queue.reload(true);
    },
    5000,
    workers.error === undefined && queue.error === undefined,
  );

  if (!isOperator(user))
    return (
      <section>
        <PageHeader title="Operations" />
        <Empty title="Operators only">
          <p>
            Operations need the <code>operator</code> or <code>root</code> group. <Link to="/">Back to projects</Link>
          </p>
        </Empty>
      </section>
    );

  const run = async (action: 'Recover' | 'Cleanup') => {
    setBusy(action);
    setError(null);
    try {
      const body = action === 'Recover' ? await api.opsRecover() : await api.opsCleanup();
      setResult({ action, body: body ?? {} });
      queue.reload(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy('');
      setConfirming(null);
    }
  };

  return (
    <section>
      <PageHeader
        title="Operations"
        actions={
          <>
            <button type="button" disabled={!!busy} onClick={() => setConfirming('Recover')}>
              Recover
            </button>
            <button type="button" disabled={!!busy} onClick={() => setConfirming('Cleanup')}>
              Cleanup
            </button>
          </>
        }
      />
      <p className="muted small">
        Recover re-queues or fails scans whose runner stopped heartbeating. Cleanup removes expired sessions, staged uploads and partial writes older
        than an hour that nothing uses, and orphaned blobs.
      </p>
      <InlineError error={error} />
      {confirming && (
        <ConfirmAction
          title={`${confirming} now?`}
          confirmLabel={`Run ${confirming.toLowerCase()}`}
          danger
          onClose={() => setConfirming(null)}
          onConfirm={() => run(confirming)}
        >
          <p>{CONSEQUENCES[confirming]}</p>
        </ConfirmAction>
      )}
      {result && (
        <div className="panel" role="status">
          <h2>{result.action} finished</h2>
          <KeyValues value={result.body} />
        </div>
      )}
      <h2>Workers</h2>
      <Async state={workers} label="Loading workers…">
        {(ws) =>
          ws.length === 0 ? (
            <Empty title="No workers registered">
              <p>In thread mode the API process runs scans itself.</p>
            </Empty>
          ) : (
            <DataTable caption="Workers" columns={['Worker', 'Host', 'Role', 'Version', 'Started', 'Heartbeat', 'Current scans']}>
              {ws.map((w) => {
                const stale = Date.now() - new Date(w.last_heartbeat_at).getTime() > STALE_AFTER_MS;
                return (
                  <tr key={w.id}>
                    <td className="mono small">{w.id}</td>
                    <td>{w.hostname}</td>
                    <td>{w.role}</td>
                    <td>{w.version}</td>
                    <td>{formatDate(w.started_at)}</td>
                    <td>
                      {formatAge(w.last_heartbeat_at)} {stale && <span className="badge status status-bad">Stale</span>}
                    </td>
                    <td>
                      {(w.current_scan_ids ?? []).length === 0
                        ? 'idle'
                        : (w.current_scan_ids ?? []).map((id) => (
                            <Link key={id} to={`/scans/${id}`} className="mono small">
                              {id}{' '}
                            </Link>
                          ))}
                    </td>
                  </tr>
                );
              })}
            </DataTable>
          )
        }
      </Async>
      <div className="two-col">
        <div className="panel">
          <h2>Queue</h2>
          <Async state={queue} label="Loading queue…">
            {(q) => <KeyValues value={q} />}
          </Async>
        </div>
        <div className="panel">
          <h2>Limits</h2>
          <Async state={limits} label="Loading limits…">
            {({ per_user: _perUser, usage: _usage, ...settings }) => <KeyValues value={settings} />}
          </Async>
        </div>
      </div>
      <h2>Engines</h2>
      <Async state={engines} label="Loading engines…">
        {(page) => <EngineTable engines={page.items} />}
      </Async>
      <h2>Per-user quotas</h2>
      <Async state={limits} label="Loading quotas…">
        {(l) => <QuotaTable limits={l} />}
      </Async>
    </section>
  );
}

const CONSEQUENCES: Record<'Recover' | 'Cleanup', string> = {
  Recover:
    'Every claimed or running scan whose runner stopped heartbeating is re-queued, or failed (interrupted) when it has no attempts left. A scan that is only slow to report may be run again.',
  Cleanup:
    'Expired sessions, staged uploads and partial writes older than an hour that nothing uses, and blobs whose rows are gone are deleted. This cannot be undone.',
};

/** Which engines this server can run, which run by default, and for the others why not and how to enable them. */
export function EngineTable({ engines }: { engines: EngineStatus[] }) {
  return (
    <DataTable caption="Engines" columns={['Engine', 'Status', 'Runs by default', 'Details']}>
      {engines.map((e) => (
        <tr key={e.name}>
          <th scope="row">{engineLabel(e.name)}</th>
          <td>
            <span className={`badge status ${e.available ? 'status-ok' : 'status-bad'}`}>{e.available ? 'Available' : 'Unavailable'}</span>
          </td>
          <td>{e.default ? 'yes' : 'no'}</td>
          <td className="small">{e.available ? <span className="muted">—</span> : unavailableText(e)}</td>
        </tr>
      ))}
    </DataTable>
  );
}

/** A cap as people read it: 0 is "unlimited". */
function capText(n: number, format: (n: number) => string): string {
  return n > 0 ? format(n) : 'unlimited';
}

/** The caps every user is held to, beside the signed-in operator's own usage of them. */
export function QuotaTable({ limits }: { limits: OpsLimits }) {
  const { per_user: cap, usage } = limits;
  const rows: { label: string; used: number; limit: number; format: (n: number) => string; variable: string }[] = [
    { label: 'Projects', used: usage.projects, limit: cap.max_projects, format: formatNumber, variable: 'VEGA_MAX_PROJECTS_PER_USER' },
    { label: 'Repositories', used: usage.repositories, limit: cap.max_repositories, format: formatNumber, variable: 'VEGA_MAX_REPOSITORIES_PER_USER' },
    { label: 'Stored snapshots', used: usage.stored_bytes, limit: cap.max_stored_bytes, format: formatBytes, variable: 'VEGA_MAX_STORED_BYTES_PER_USER' },
  ];
  return (
    <DataTable caption="Per-user quotas" columns={['Quota', 'Limit per user', 'Your usage', 'Set with']}>
      {rows.map((r) => (
        <tr key={r.label}>
          <th scope="row">{r.label}</th>
          <td>{capText(r.limit, r.format)}</td>
          <td>
            {r.format(r.used)}
            {r.limit > 0 && <span className="muted small"> ({Math.min(100, Math.round((r.used / r.limit) * 100))}%)</span>}
          </td>
          <td className="mono small">{r.variable}</td>
        </tr>
      ))}
    </DataTable>
  );
}

/** Renders an object of unknown shape as a definition list (ops payloads vary by runtime). */
export function KeyValues({ value, name = '' }: { value: unknown; name?: string }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === 'number') return <span>{formatSetting(name, value)}</span>;
  if (typeof value !== 'object') return <span>{typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? formatDate(value) : String(value)}</span>;
  if (Array.isArray(value)) return <span>{value.length === 0 ? 'none' : value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')}</span>;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{humanize(k)}</dt>
          <dd>
            <KeyValues value={v} name={k} />
          </dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * A number of an ops payload as people read it, by its key's convention:
 * a cap (max_*) of 0 is "unlimited", *_bytes a size, *_seconds a duration,
 * *_usd money.
 */
export function formatSetting(name: string, n: number): string {
  if (/(^|_)max_/.test(name) && n === 0) return 'unlimited';
  if (name.endsWith('_bytes')) return formatBytes(n);
  if (name.endsWith('_seconds')) return formatDuration(n * 1000);
  if (name.includes('_usd')) return formatCost(n);
  return formatNumber(n);
}
