import { Link } from 'react-router-dom';
import type { Scan } from '../api/types';
import { formatCost, formatDate } from '../lib/format';
import { SeverityCounts, StatusBadge } from './Badges';

export function ScansTable({ scans, caption }: { scans: Scan[]; caption: string }) {
  return (
    <div className="table-wrap">
      <table>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Scan</th>
            <th scope="col">Status</th>
            <th scope="col">Engines</th>
            <th scope="col">Progress</th>
            <th scope="col">Findings</th>
            <th scope="col">Cost</th>
            <th scope="col">Started</th>
          </tr>
        </thead>
        <tbody>
          {scans.map((s) => (
            <tr key={s.id}>
              <td>
                <Link to={`/scans/${s.id}`} className="mono">
                  {s.id}
                </Link>
              </td>
              <td>
                <StatusBadge status={s.status} />
                {s.stop_reason && s.stop_reason !== 'cancelled' ? <span className="muted small"> ({s.stop_reason.replace(/_/g, ' ')})</span> : null}
              </td>
              <td>{(s.engines ?? []).join(', ') || 'default'}</td>
              <td>{s.progress?.percent ?? 0}%</td>
              <td>
                <SeverityCounts counts={s.finding_counts} compact />
              </td>
              <td>{formatCost(s.usage?.cost_usd)}</td>
              <td>{formatDate(s.started_at ?? s.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
