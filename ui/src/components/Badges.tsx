import { Link } from 'react-router-dom';
import type { Severity, SeverityCounts as Counts } from '../api/types';
import { SEVERITIES } from '../api/types';
import { humanize } from '../lib/format';

// Severity is always colour AND text, so it survives colour blindness and
// greyscale printing; the shape glyph adds a third cue.
const GLYPH: Record<Severity, string> = { critical: '◆', high: '▲', medium: '●', low: '▼', info: '○' };

/**
 * Where a severity pill leads: the findings list of a project, repository or
 * scan, filtered by that severity. A scan's counts are of every status, so
 * its list opens on all statuses.
 */
export const severityLinks = {
  project: (id: string) => (s: string) => `/projects/${id}/findings?severity=${s}`,
  repository: (id: string) => (s: string) => `/repositories/${id}/findings?severity=${s}`,
  scan: (id: string) => (s: string) => `/scans/${id}?severity=${s}&status=all`,
};

/** A severity pill; with `to`, a link to the list filtered by that severity. */
export function SeverityBadge({ severity, to }: { severity: string; to?: string }) {
  const s = (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : 'info';
  const pill = (
    <span className={`badge sev sev-${s}`} data-severity={s}>
      <span aria-hidden="true">{GLYPH[s]} </span>
      {humanize(severity || 'unknown')}
    </span>
  );
  return to ? (
    <Link to={to} className="pill-link" title={`Only ${s} findings`}>
      {pill}
    </Link>
  ) : (
    pill
  );
}

/** Counts by severity; with `to`, each count links to the list filtered by its severity. */
export function SeverityCounts({ counts, compact = false, to }: { counts: Counts | null | undefined; compact?: boolean; to?: (s: Severity) => string }) {
  const c = counts ?? { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const total = SEVERITIES.reduce((n, s) => n + (c[s] ?? 0), 0);
  if (compact && total === 0) return <span className="muted">None</span>;
  return (
    <ul className="sev-counts" aria-label="Findings by severity">
      {SEVERITIES.map((s) =>
        compact && !c[s] ? null : (
          <li key={s} className={`sev-count sev-${s}`}>
            {to ? (
              <Link to={to(s)} className="pill-link" title={`Only ${s} findings`}>
                <span className="sev-count-n">{c[s] ?? 0}</span> {humanize(s)}
              </Link>
            ) : (
              <>
                <span className="sev-count-n">{c[s] ?? 0}</span> {humanize(s)}
              </>
            )}
          </li>
        ),
      )}
    </ul>
  );
}

const STATUS_TONE: Record<string, string> = {
  ready: 'ok',
  completed: 'ok',
  succeeded: 'ok',
  fixed: 'ok',
  confirmed: 'warn',
  running: 'info',
  claimed: 'info',
  ingesting: 'info',
  generating: 'info',
  queued: 'muted',
  pending: 'muted',
  waiting: 'muted',
  open: 'warn',
  dismissed: 'muted',
  empty: 'muted',
  failed: 'bad',
  cancelled: 'muted',
  expired: 'muted',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status status-${STATUS_TONE[status] ?? 'muted'}`}>{humanize(status || 'unknown')}</span>;
}
