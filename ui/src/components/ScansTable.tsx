import { Link } from 'react-router-dom';
import type { Scan } from '../api/types';
import { formatCost, formatDate } from '../lib/format';
import { SeverityCounts, severityLinks, StatusBadge } from './Badges';
import { DataTable } from './DataTable';

/**
 * Scans, newest first. `repositories` (ID → name) adds a Repository column
 * (project pages); scans that carry `changes` (a repository's scan list) get
 * a "New / fixed" column: what each changed since the previous complete scan.
 */
export function ScansTable({ scans, caption, repositories }: { scans: Scan[]; caption: string; repositories?: Record<string, string> }) {
  const withChanges = scans.some((s) => s.changes);
  return (
    <DataTable
      caption={caption}
      columns={['Scan', ...(repositories ? ['Repository'] : []), 'Status', 'Engines', 'Progress', 'Findings', ...(withChanges ? ['New / fixed'] : []), 'Cost', 'Started']}
    >
      {scans.map((s) => (
        <tr key={s.id}>
          <td>
            <Link to={`/scans/${s.id}`} className="mono">
              {s.id}
            </Link>
          </td>
          {repositories && (
            <td>
              <Link to={`/repositories/${s.repository_id}`}>{repositories[s.repository_id] ?? s.repository_id}</Link>
            </td>
          )}
          <td>
            <StatusBadge status={s.status} />
            {s.stop_reason && s.stop_reason !== 'cancelled' ? <span className="muted small"> ({s.stop_reason.replace(/_/g, ' ')})</span> : null}
          </td>
          <td>{(s.engines ?? []).join(', ') || 'default'}</td>
          <td>{s.status === 'completed' ? 100 : s.progress?.percent ?? 0}%</td>
          <td>
            <SeverityCounts counts={s.finding_counts} compact to={severityLinks.scan(s.id)} />
          </td>
          {withChanges && (
            <td className="scan-changes">
              {s.changes ? (
                <Link to={`/scans/${s.id}#changes`} title={s.changes.base_scan_id ? `Since scan ${s.changes.base_scan_id}` : 'First complete scan: everything is new'}>
                  <span className="change-new">+{s.changes.new} new</span> · <span className="change-fixed">{s.changes.fixed} fixed</span>
                </Link>
              ) : (
                '—'
              )}
            </td>
          )}
          <td>{formatCost(s.usage?.cost_usd)}</td>
          <td>{formatDate(s.started_at ?? s.created_at)}</td>
        </tr>
      ))}
    </DataTable>
  );
}
