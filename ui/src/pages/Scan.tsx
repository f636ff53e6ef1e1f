import { useCallback, useEffect, useRef, useState } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import type { EngineProgress, Scan, ScanEvent, StageResult } from '../api/types';
import { isTerminal } from '../api/types';
import { useApi } from '../app-context';
import { SeverityCounts, severityLinks, StatusBadge } from '../components/Badges';
import { FindingsView } from '../components/FindingsView';
import { Facts, PageHeader, ProgressBar } from '../components/Misc';
import { ErrorState, InlineError, Loading } from '../components/States';
import { formatBytes, formatCost, formatDate, formatDuration, formatNumber, humanize, saveBlob } from '../lib/format';
import { useAsync, useDocumentTitle, useInterval } from '../lib/hooks';
import { Trail } from '../components/Trail';
import { ScanComparison } from '../components/ScanComparison';
import { useScanEvents, type StreamMode } from '../lib/scanEvents';
import { describeEvent, estimateRemaining, formatRemaining, monotonic } from '../lib/scanProgress';

export default function ScanPage() {
  const { scanId = '' } = useParams();
  const api = useApi();
  const scan = useAsync(() => api.getScan(scanId), [scanId]);
  useDocumentTitle(scan.data ? `Scan ${scan.data.status}` : 'Scan');
  if (scan.error !== undefined && !scan.data) return <ErrorState error={scan.error} onRetry={() => scan.reload()} />;
  // After Retry the route holds the new scan's ID while the old scan's data
  // is still loaded: never start the live view with another scan's data.
  if (!scan.data || scan.data.id !== scanId) return <Loading label="Loading scan…" />;
  return <LiveScan key={scanId} initial={scan.data} />;
}

function LiveScan({ initial }: { initial: Scan }) {
  const api = useApi();
  const navigate = useNavigate();
  const [scan, setScanState] = useState<Scan>(initial);
  // Progress only rises on screen, whichever of the stream and a refetch
  // lands last; a new attempt (a released scan run again) starts over. A
  // scan first seen queued (attempt 0) and refetched claimed (attempt 1) is
  // the same run: the stream's progress stays (the row's is stored at
  // heartbeats, behind it; taking it sent the bar back to 0 mid-scan).
  const setScan = useCallback(
    (next: Scan) =>
      setScanState((prev) => ({
        ...next,
        progress: prev.attempt > 0 && next.attempt !== prev.attempt ? next.progress : monotonic(prev.progress, next.progress ?? prev.progress),
      })),
    [],
  );
  const [findingsVersion, setFindingsVersion] = useState(0);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const follow = useRef(!isTerminal(initial.status)).current;
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const findingsTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const refetchScan = useCallback(() => {
    if (refetchTimer.current) return;
    refetchTimer.current = setTimeout(() => {
      refetchTimer.current = null;
      api.getScan(initial.id).then(setScan, () => undefined);
    }, 750);
  }, [api, initial.id, setScan]);

  const onBatch = useCallback(
    (events: ScanEvent[]) => {
      let sawFinding = false;
      let needScan = false;
      for (const e of events) {
        if (e.kind === 'scan_progress') {
          const p = e.payload as Partial<Scan['progress']>;
          setScanState((s) => ({
            ...s,
            status: s.status === 'queued' || s.status === 'claimed' ? 'running' : s.status,
            progress: monotonic(s.progress, { ...s.progress, ...p }),
          }));
        } else if (e.kind === 'finding_updated') sawFinding = true;
        else if (e.kind !== 'scan_log') needScan = true;
      }
      if (sawFinding && !findingsTimer.current) {
        // findings arrive in bursts: reload the table at most once a second
        findingsTimer.current = setTimeout(() => {
          findingsTimer.current = null;
          setFindingsVersion((v) => v + 1);
        }, 1000);
      }
      if (needScan || sawFinding) refetchScan();
    },
    [refetchScan, setScan],
  );

  const { buffer, mode } = useScanEvents(api, initial.id, follow, onBatch);
  // safety net for status changes the stream cannot show (e.g. claimed → running)
  useInterval(() => api.getScan(initial.id).then(setScan, () => undefined), 5000, !isTerminal(scan.status));

  const act = async (fn: () => Promise<Scan>, after?: (s: Scan) => void) => {
    setBusy(true);
    setActionError(null);
    try {
      const s = await fn();
      if (after) after(s);
      else setScan(s);
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };

  const active = !isTerminal(scan.status);
  const started = scan.started_at ? new Date(scan.started_at).getTime() : null;
  const finished = scan.finished_at ? new Date(scan.finished_at).getTime() : null;
  const logEvents = buffer.events.slice(-400);
  const logRef = useRef<HTMLDivElement>(null);
  const lastShown = logEvents[logEvents.length - 1]?.seq ?? 0;
  // follow the tail unless the reader has scrolled up to read
  const stickToBottom = useRef(true);
  useEffect(() => {
    const el = logRef.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [lastShown]);

  return (
    <section>
      <PageHeader
        crumbs={<Trail projectId={scan.project_id} repositoryId={scan.repository_id} />}
        title={
          <>
            Scan <span className="mono small">{scan.id}</span> <StatusBadge status={scan.status} />
          </>
        }
        actions={
          <>
            {active && (
              <button type="button" className="danger" disabled={busy || !!scan.cancel_requested_at} onClick={() => void act(() => api.cancelScan(scan.id))}>
                {scan.cancel_requested_at ? 'Cancelling…' : 'Cancel scan'}
              </button>
            )}
            {!active && (
              <button
                type="button"
                disabled={busy}
                onClick={() => void act(() => api.retryScan(scan.id), (s) => (s.id === scan.id ? window.location.reload() : navigate(`/scans/${s.id}`)))}
              >
                Retry scan
              </button>
            )}
          </>
        }
      />
      <InlineError error={actionError} />
      {scan.stop_reason === 'budget_exceeded' && (
        <p className="banner banner-bad" role="alert">
          <strong>Budget exceeded.</strong> This scan hit its LLM budget cap and stopped early. The findings below are what it found before the cap;
          raise the per-scan limits to scan everything.
        </p>
      )}
      {scan.status === 'failed' && scan.stop_reason !== 'budget_exceeded' && (
        <p className="banner banner-bad" role="alert">
          Scan failed{scan.error ? `: ${scan.error.message} (${scan.error.code})` : ''}
          {scan.stop_reason ? ` — ${humanize(scan.stop_reason)}` : ''}
        </p>
      )}
      {scan.status === 'cancelled' && (
        <p className="banner" role="status">
          Scan cancelled. Findings written before the cancellation are kept.
        </p>
      )}

      <div className="scan-top">
        <div className="panel">
          <h2>Progress</h2>
          <ProgressBar value={scan.status === 'completed' ? 100 : scan.progress?.percent ?? 0} label="Scan progress" />
          <p aria-live="polite">
            {scan.progress?.message || (scan.status === 'queued' ? 'Waiting for a worker…' : humanize(scan.status))}
            {scan.progress?.component ? <span className="muted"> · {scan.progress.component}</span> : null}
            {!scan.progress?.engines?.length && scan.progress?.components_total ? (
              // progress stored before per-engine units
              <span className="muted">
                {' '}
                · components {scan.progress.components_done}/{scan.progress.components_total}
              </span>
            ) : null}
          </p>
          {scan.status === 'running' && <Eta percent={scan.progress?.percent ?? 0} startedAt={started} />}
          <EngineList engines={scan.progress?.engines ?? []} />
          <StreamIndicator mode={mode} active={active} />
        </div>
        <UsagePanel scan={scan} />
      </div>

      <Facts
        items={[
          ['Engines', (scan.engines ?? []).join(', ') || 'default'],
          ['Paths', (scan.paths ?? []).join(', ') || 'everything'],
          ['Attempt', scan.attempt],
          ['Created', formatDate(scan.created_at)],
          ['Duration', started ? formatDuration((finished ?? Date.now()) - started) : '—'],
          ['Findings', <SeverityCounts key="c" counts={scan.finding_counts} compact to={severityLinks.scan(scan.id)} />],
        ]}
      />

      <h2>Stages</h2>
      {(scan.stages ?? []).length === 0 ? (
        <p className="muted">{active ? 'No stage has finished yet.' : 'No stages recorded.'}</p>
      ) : (
        <ul className="stages">
          {(scan.stages ?? []).map((st, i) => (
            <li key={i}>
              <StatusBadge status={stageStatus(st, scan)} /> {st.engine} · {st.stage}
              {st.message && <span className="muted small"> — {st.message}</span>}
            </li>
          ))}
        </ul>
      )}

      <h2>Changes</h2>
      {scan.changes ? <ScanComparison scan={scan} version={findingsVersion} /> : <p className="muted">Loading the comparison…</p>}

      <h2>Findings</h2>
      <FindingsView version={findingsVersion} scope={{ kind: 'scan', id: scan.id }} pageSize={50} />

      <h2>Event log</h2>
      <div className="event-log" role="log" aria-label="Event log" aria-live="off" tabIndex={0}
        ref={logRef}
        onScroll={(e) => {
          const el = e.currentTarget;
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {buffer.dropped + buffer.events.length - logEvents.length > 0 && (
          <p className="muted small">{buffer.dropped + buffer.events.length - logEvents.length} earlier events not shown</p>
        )}
        {logEvents.length === 0 ? <p className="muted">No events yet.</p> : logEvents.map((e) => <EventLine key={e.seq} e={e} />)}
      </div>

      <h2>Artifacts</h2>
      {(scan.artifacts ?? []).length === 0 ? (
        <p className="muted">{active ? 'Artifacts are written when the scan ends.' : 'No artifacts.'}</p>
      ) : (
        <ul className="artifacts">
          {(scan.artifacts ?? []).map((a) => (
            <li key={a.name}>
              {presigned(scan, a.name) ? (
                // S3: a presigned URL carries its own authorization
                <a href={presigned(scan, a.name)} rel="noreferrer noopener" download={a.name}>
                  Download {a.name}
                </a>
              ) : (
                <button
                  type="button"
                  className="link"
                  onClick={() =>
                    api
                      .downloadArtifact(scan.id, a.name)
                      .then(({ blob }) => saveBlob(blob, a.name))
                      .catch(setActionError)
                  }
                >
                  Download {a.name}
                </button>
              )}{' '}
              <span className="muted small">{formatBytes(a.size)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** An absolute https download link (presigned S3 URL); API paths need the bearer token instead. */
function presigned(scan: Scan, name: string): string | undefined {
  const u = scan.downloads?.find((d) => d.name === name)?.url;
  return u && /^https:\/\//i.test(u) ? u : undefined;
}

function StreamIndicator({ mode, active }: { mode: StreamMode; active: boolean }) {
  if (!active) return null;
  const text = mode === 'live' ? 'Live' : mode === 'polling' ? 'Updating every 2 s' : mode === 'connecting' ? 'Connecting…' : 'Finished';
  return <p className={`stream stream-${mode} small`}>{text}</p>;
}

function EventLine({ e }: { e: ScanEvent }) {
  const level = typeof e.payload?.level === 'string' ? (e.payload.level as string) : '';
  return (
    <div className={`event event-${e.kind}${level ? ` level-${level}` : ''}`} data-scan={e.scan_id} data-seq={e.seq}>
      <span className="muted mono small">{new Date(e.created_at).toLocaleTimeString('en-GB')}</span> <span>{describeEvent(e)}</span>
    </div>
  );
}

/**
 * How a stage reads: "Cancelled" (not a red "Failed") when the user's
 * cancel stopped it — recorded as cancelled since issue 12, and as a
 * "stopped" failure in a cancelled scan before that.
 */
export function stageStatus(st: StageResult, scan: Scan): string {
  if (st.status === 'succeeded') return 'completed';
  if (st.status === 'failed' && scan.status === 'cancelled' && st.message === 'stopped') return 'cancelled';
  return st.status;
}

function Eta({ percent, startedAt }: { percent: number; startedAt: number | null }) {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 1000, true);
  const left = estimateRemaining(percent, startedAt, now);
  return <p className="muted small eta">{left === null ? 'Estimating time left…' : formatRemaining(left)}</p>;
}

const ENGINE_STATE: Record<string, string> = { pending: 'waiting', running: 'running', done: 'completed', failed: 'failed', stopped: 'cancelled', cancelled: 'cancelled' };

/** Each engine's part: its state, stage and done / total units. */
function EngineList({ engines }: { engines: EngineProgress[] }) {
  if (engines.length === 0) return null;
  return (
    <ul className="engine-progress" aria-label="Progress per engine">
      {engines.map((e) => (
        <li key={e.engine} data-engine={e.engine}>
          <span>
            <strong>{e.engine}</strong> <StatusBadge status={ENGINE_STATE[e.state] ?? e.state} />
          </span>
          <span>
            <ProgressBar value={e.percent} label={`${e.engine} progress`} />
            <span className="muted small">
              {e.stage ? humanize(e.stage) : ''}
              {e.total > 0 ? ` · ${formatNumber(e.done)} / ${formatNumber(e.total)} ${e.unit ?? ''}` : ''}
            </span>
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Engines that call no model: their usage is one line, not a table of zeros. */
const OFFLINE_ENGINES = new Set(['secrets']);

function UsagePanel({ scan }: { scan: Scan }) {
  const engines = scan.engines ?? [];
  const offline = engines.length > 0 && engines.every((e) => OFFLINE_ENGINES.has(e));
  const noCalls = !(scan.usage?.requests > 0);
  if (noCalls && (offline || isTerminal(scan.status))) {
    return (
      <div className="panel">
        <h2>Usage</h2>
        <p className="usage-line muted">{offline ? `No model used: ${engines.join(', ')} runs offline.` : 'No model calls were made.'}</p>
      </div>
    );
  }
  return (
    <div className="panel">
      <h2>Usage</h2>
      <Facts
        items={[
          ['Requests', formatNumber(scan.usage?.requests)],
          ['Input tokens', formatNumber(scan.usage?.input_tokens)],
          ['Cached input', formatNumber(scan.usage?.cached_input_tokens)],
          ['Output tokens', formatNumber(scan.usage?.output_tokens)],
          ['Cost', formatCost(scan.usage?.cost_usd)],
        ]}
      />
    </div>
  );
}
