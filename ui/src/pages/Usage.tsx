import { useSearchParams } from 'react-router-dom';
import type { UsageGroupBy } from '../api/types';
import { useApi } from '../app-context';
import { BarChart } from '../components/BarChart';
import { DataTable } from '../components/DataTable';
import { Facts, PageHeader } from '../components/Misc';
import { Options } from '../components/Options';
import { Async, Empty } from '../components/States';
import { formatCost, formatNumber } from '../lib/format';
import { useAsync, useDocumentTitle } from '../lib/hooks';

function isoDay(d: Date) {
  return d.toISOString().slice(0, 10);
}

type Metric = 'cost_usd' | 'tokens' | 'requests';
const GROUP_BY_LABELS: Record<UsageGroupBy, string> = { day: 'Day', project: 'Project', scan: 'Scan' };
const METRIC_LABELS: Record<Metric, string> = { cost_usd: 'Cost', tokens: 'Tokens', requests: 'Requests' };

export default function UsagePage() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const today = new Date();
  const from = params.get('from') || isoDay(new Date(today.getTime() - 29 * 86400_000));
  const to = params.get('to') || isoDay(today);
  const groupBy = (params.get('group_by') as UsageGroupBy) || 'day';
  const metric = (params.get('metric') as Metric) || 'cost_usd';
  // the API range is [from, to): include the whole "to" day
  const toExclusive = isoDay(new Date(new Date(`${to}T00:00:00Z`).getTime() + 86400_000));
  const report = useAsync(() => api.usage({ from: `${from}T00:00:00Z`, to: `${toExclusive}T00:00:00Z`, group_by: groupBy }), [from, to, groupBy]);
  useDocumentTitle('Usage');
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(params);
    n.set(k, v);
    setParams(n, { replace: true });
  };
  const value = (r: { cost_usd: number; input_tokens: number; output_tokens: number; requests: number }) =>
    metric === 'cost_usd' ? r.cost_usd : metric === 'tokens' ? r.input_tokens + r.output_tokens : r.requests;
  const fmt = metric === 'cost_usd' ? formatCost : (v: number) => formatNumber(Math.round(v));

  return (
    <section>
      <PageHeader title="Usage" />
      <form className="filters" aria-label="Usage range" onSubmit={(e) => e.preventDefault()}>
        <label>
          From
          <input type="date" value={from} max={to} onChange={(e) => e.target.value && set('from', e.target.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} min={from} onChange={(e) => e.target.value && set('to', e.target.value)} />
        </label>
        <label>
          Group by
          <select value={groupBy} onChange={(e) => set('group_by', e.target.value)}>
            <Options labels={GROUP_BY_LABELS} />
          </select>
        </label>
        <label>
          Chart
          <select value={metric} onChange={(e) => set('metric', e.target.value)}>
            <Options labels={METRIC_LABELS} />
          </select>
        </label>
      </form>
      <Async state={report} label="Loading usage…">
        {(r) => (
          <>
            <Facts
              items={[
                ['Requests', formatNumber(r.totals.requests)],
                ['Input tokens', formatNumber(r.totals.input_tokens)],
                ['Cached input', formatNumber(r.totals.cached_input_tokens)],
                ['Output tokens', formatNumber(r.totals.output_tokens)],
                ['Cost', formatCost(r.totals.cost_usd)],
              ]}
            />
            {(r.rows ?? []).length === 0 ? (
              <Empty title="No usage in this period">
                <p>Model usage appears here once scans with the codex engine have run.</p>
              </Empty>
            ) : (
              <>
                <BarChart
                  title={`${metric === 'cost_usd' ? 'Cost' : metric === 'tokens' ? 'Tokens' : 'Requests'} per ${groupBy}`}
                  bars={r.rows.map((row) => ({ key: row.key, label: row.label || row.key, value: value(row) }))}
                  format={fmt}
                />
                <DataTable caption={`Usage per ${groupBy}`} columns={[groupBy === 'day' ? 'Day' : groupBy === 'project' ? 'Project' : 'Scan', 'Requests', 'Input tokens', 'Cached input', 'Output tokens', 'Cost']}>
                  {r.rows.map((row) => (
                    <tr key={row.key}>
                      <td>{row.label || row.key}</td>
                      <td>{formatNumber(row.requests)}</td>
                      <td>{formatNumber(row.input_tokens)}</td>
                      <td>{formatNumber(row.cached_input_tokens)}</td>
                      <td>{formatNumber(row.output_tokens)}</td>
                      <td>{formatCost(row.cost_usd)}</td>
                    </tr>
                  ))}
                </DataTable>
              </>
            )}
          </>
        )}
      </Async>
    </section>
  );
}
