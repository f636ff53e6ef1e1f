import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { FindingFilters, FindingListPage } from '../api/types';
import { useApi } from '../app-context';
import { useAsync } from '../lib/hooks';
import { SeverityBadge } from './Badges';
import type { FindingsScope } from './FindingsView';
import { Empty, ErrorState, Loading } from './States';

/** One row per rule (count, highest severity); a row expands into its findings. */
export function RuleGroups({ scope, filters, load }: { scope: FindingsScope; filters: FindingFilters; load: (q: FindingFilters & { limit?: number }) => Promise<FindingListPage> }) {
  const api = useApi();
  const { sort: _s, ...f } = filters;
  const target = scope.kind === 'scan' ? { scanId: scope.id } : scope.kind === 'project' ? { projectId: scope.id } : { repositoryId: scope.id };
  const rules = useAsync(() => api.findingRules(target, f), [scope.kind, scope.id, JSON.stringify(f)]);
  const [open, setOpen] = useState<string | null>(null);
  if (rules.error !== undefined && !rules.data) return <ErrorState error={rules.error} onRetry={() => rules.reload()} />;
  if (!rules.data) return <Loading label="Loading rules…" />;
  if (rules.data.items.length === 0) return <Empty title="No findings" />;
  return (
    <table className="rule-groups">
      <caption className="sr-only">Findings by rule</caption>
      <thead>
        <tr>
          <th scope="col">Rule</th>
          <th scope="col">Severity</th>
          <th scope="col">Findings</th>
        </tr>
      </thead>
      <tbody>
        {rules.data.items.map((r) => (
          <RuleRow
            key={r.rule_id}
            rule={r.rule_id}
            severity={r.severity}
            count={r.count}
            expanded={open === r.rule_id}
            onToggle={() => setOpen(open === r.rule_id ? null : r.rule_id)}
            load={() => load({ ...filters, rule: r.rule_id, limit: 50 })}
            query={JSON.stringify(filters)}
          />
        ))}
      </tbody>
    </table>
  );
}

function RuleRow({
  rule,
  severity,
  count,
  expanded,
  onToggle,
  load,
  query,
}: {
  rule: string;
  severity: Parameters<typeof SeverityBadge>[0]['severity'];
  count: number;
  expanded: boolean;
  onToggle: () => void;
  load: () => Promise<FindingListPage>;
  /** The list's filters: an open rule's findings reload when they change. */
  query: string;
}) {
  const [params] = useSearchParams();
  const bySeverity = new URLSearchParams(params);
  bySeverity.set('severity', severity);
  bySeverity.delete('cursor');
  bySeverity.delete('page');
  return (
    <>
      <tr>
        <td>
          <button type="button" className="link" aria-expanded={expanded} onClick={onToggle}>
            {expanded ? '▾' : '▸'} <span className="mono">{rule}</span>
          </button>
        </td>
        <td>
          <SeverityBadge severity={severity} to={`?${bySeverity.toString()}`} />
        </td>
        <td>{count}</td>
      </tr>
      {expanded && (
        <tr>
          <td colSpan={3}>
            <RuleFindings load={load} query={query} />
          </td>
        </tr>
      )}
    </>
  );
}

function RuleFindings({ load, query }: { load: () => Promise<FindingListPage>; query: string }) {
  const page = useAsync(load, [query]);
  if (page.error !== undefined && !page.data) return <ErrorState error={page.error} onRetry={() => page.reload()} />;
  if (!page.data) return <Loading label="Loading findings…" />;
  return (
    <ul className="rule-findings">
      {page.data.items.map((f) => (
        <li key={f.id}>
          <Link to={`/findings/${f.id}`}>{f.title}</Link> <span className="mono small">{f.file_path}{f.start_line ? `:${f.start_line}` : ''}</span>
        </li>
      ))}
      {page.data.total > page.data.items.length && <li className="muted small">and {page.data.total - page.data.items.length} more — filter by this rule to see them all</li>}
    </ul>
  );
}
