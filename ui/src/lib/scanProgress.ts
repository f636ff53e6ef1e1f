import type { ScanEvent, ScanProgress, SeverityCounts } from '../api/types';
import { SEVERITIES } from '../api/types';
import { formatCost, formatDuration, formatNumber, humanize } from './format';

/**
 * The estimated time left, once the rate is known: at least 5 % done and 5 s
 * spent. Progress is the whole scan's (it never goes down), so the rate is
 * percent per second since the start. null while unknown.
 */
export function estimateRemaining(percent: number, startedAt: number | null, now: number): number | null {
  if (startedAt === null || !(percent >= 5) || percent >= 100) return null;
  const elapsed = now - startedAt;
  if (elapsed < 5000) return null;
  return (elapsed * (100 - percent)) / percent;
}

/** "ETA 1m 20s" / "less than 5 s left". */
export function formatRemaining(ms: number): string {
  if (ms < 5000) return 'less than 5 s left';
  return `about ${formatDuration(ms)} left`;
}

/**
 * The progress to show: never below what was shown before. The stream and
 * the scan row (refetched, heartbeat-stored) can arrive out of order; the
 * backend only rises, and so does the screen.
 */
export function monotonic(prev: ScanProgress | undefined, next: ScanProgress): ScanProgress {
  if (!prev || !(prev.percent > next.percent)) return next;
  return { ...next, percent: prev.percent };
}

const plural = (n: number, one: string, many = `${one}s`) => `${formatNumber(n)} ${n === 1 ? one : many}`;

function countsSentence(c: SeverityCounts | undefined): string {
  const parts = SEVERITIES.filter((s) => c?.[s]).map((s) => `${c?.[s]} ${s}`);
  const total = SEVERITIES.reduce((n, s) => n + (c?.[s] ?? 0), 0);
  return total === 0 ? 'no findings' : `${plural(total, 'finding')} (${parts.join(', ')})`;
}

/** One event of a scan's log as a sentence, never raw JSON. */
export function describeEvent(e: ScanEvent): string {
  const p = e.payload ?? {};
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : '');
  const num = (k: string) => (typeof p[k] === 'number' ? (p[k] as number) : 0);
  switch (e.kind) {
    case 'scan_started': {
      const engines = Array.isArray(p.engines) ? (p.engines as string[]).join(', ') : '';
      const attempt = num('attempt') > 1 ? ` (attempt ${num('attempt')})` : '';
      return `Scan started${attempt}: ${engines || 'default engines'} on ${plural(num('file_count'), 'file')}.`;
    }
    case 'scan_progress': {
      const who = str('engine') ? `${str('engine')}: ` : '';
      // units are named in the plural by the engines ("files", "components")
      const units = num('total') > 0 ? ` — ${formatNumber(num('done'))} of ${formatNumber(num('total'))} ${str('unit') || 'units'}` : '';
      const msg = str('message');
      return `${who}${msg || humanize(str('stage')) || 'working'}${units}. Scan ${num('percent')}% done.`;
    }
    case 'scan_log':
      return `${str('engine') ? `${str('engine')}: ` : ''}${str('message')}`;
    case 'finding_updated': {
      const where = str('file_path') ? ` in ${str('file_path')}${num('start_line') ? `:${num('start_line')}` : ''}` : '';
      return `Found a ${str('severity') || 'new'} finding: ${str('title')}${where}.`;
    }
    case 'usage':
      return `${str('model') || 'The model'} read ${plural(num('input_tokens'), 'token')} and wrote ${plural(num('output_tokens'), 'token')} (${formatCost(num('cost_usd'))}).`;
    case 'scan_completed': {
      const counts = typeof p.finding_counts === 'object' ? (p.finding_counts as SeverityCounts) : undefined;
      const stop = str('stop_reason') ? `, stopped early: ${humanize(str('stop_reason')).toLowerCase()}` : '';
      return `Scan completed in ${formatDuration(num('duration_ms'))} with ${countsSentence(counts)}${stop}.`;
    }
    case 'scan_failed':
      return `Scan failed: ${str('message') || 'no reason given'}${str('code') ? ` (${str('code')})` : ''}.`;
    case 'scan_cancelled':
      // docs/scan-lifecycle.md: "by" is "user" (user_id) or "system" (reason).
      return str('by') === 'system' ? `Scan cancelled by Vega${str('reason') ? `: ${str('reason')}` : ''}.` : 'Scan cancelled by a user.';
    default: {
      const fields = Object.entries(p)
        .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        .slice(0, 4)
        .map(([k, v]) => `${humanize(k).toLowerCase()} ${String(v)}`);
      return `${humanize(e.kind)}${fields.length ? `: ${fields.join(', ')}` : ''}.`;
    }
  }
}
