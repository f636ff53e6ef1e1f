import type { Severity, SeverityCounts as Counts } from '../api/types';
import { SEVERITIES } from '../api/types';
import { humanize } from '../lib/format';

// Severity is always colour AND text, so it survives colour blindness and
// greyscale printing; the shape glyph adds a third cue.
const GLYPH: Record<Severity, string> = { critical: '◆', high: '▲', medium: '●', low: '▼', info: '○' };

export function SeverityBadge({ severity }: { severity: string }) {
  const s = (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : 'info';
  return (
    <span className={`badge sev sev-${s}`} data-severity={s}>
      <span aria-hidden="true">{GLYPH[s]} </span>
      {humanize(severity || 'unknown')}
    </span>
  );
}

export function SeverityCounts({ counts, compact = false }: { counts: Counts | null | undefined; compact?: boolean }) {
  const c = counts ?? { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  const total = SEVERITIES.reduce((n, s) => n + (c[s] ?? 0), 0);
  if (compact && total === 0) return <span className="muted">None</span>;
  return (
    <ul className="sev-counts" aria-label="Findings by severity">
      {SEVERITIES.map((s) =>
        compact && !c[s] ? null : (
          <li key={s} className={`sev-count sev-${s}`}>
            <span className="sev-count-n">{c[s] ?? 0}</span> {humanize(s)}
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
