import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { errorMessage } from '../api/client';
import type { ExportFormat, Finding, FindingFilters } from '../api/types';
import { FINDING_STATUSES, SEVERITIES } from '../api/types';
import { useApi } from '../app-context';
import { humanize, saveBlob } from '../lib/format';
import { usePaged } from '../lib/hooks';
import { SeverityBadge, StatusBadge } from './Badges';
import { Pager } from './Misc';
import { Empty, ErrorState, InlineError, Loading } from './States';
import { TriageForm } from './Triage';

export type FindingsScope = { kind: 'project'; id: string } | { kind: 'repository'; id: string } | { kind: 'scan'; id: string };

const FILTER_KEYS = ['severity', 'status', 'engine', 'path_prefix', 'cwe', 'q'] as const;
type SortKey = 'severity' | 'title' | 'file' | 'status' | 'engine';
const SEVERITY_RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

/** Sorts one page of findings; severity then title keeps ties stable. */
export function sortFindings(items: Finding[], key: SortKey, dir: 'asc' | 'desc'): Finding[] {
  const sign = dir === 'asc' ? 1 : -1;
  const val = (f: Finding): string | number => {
    switch (key) {
      case 'severity':
        return SEVERITY_RANK[f.severity] ?? -1;
      case 'title':
        return f.title.toLowerCase();
      case 'file':
        return `${f.file_path}:${String(f.start_line).padStart(8, '0')}`;
      case 'status':
        return f.status;
      case 'engine':
        return f.engine;
    }
  };
  return [...items].sort((a, b) => {
    const x = val(a);
    const y = val(b);
    if (x < y) return -1 * sign;
    if (x > y) return 1 * sign;
    return a.title.localeCompare(b.title);
  });
}

/** Reads the findings filters from the URL so filtered views are deep-linkable. */
export function filtersFromParams(p: URLSearchParams): FindingFilters {
  const f: FindingFilters = {};
  for (const k of FILTER_KEYS) {
    const v = p.get(k);
    if (v) f[k] = v;
  }
  return f;
}

export function FindingsView({
  scope,
  exportable = true,
  pageSize = 50,
  version = 0,
}: {
  scope: FindingsScope;
  exportable?: boolean;
  pageSize?: number;
  /** Bumping it reloads the list in place (live scans), keeping selection and page. */
  version?: number;
}) {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  const sortKey = (params.get('sort') as SortKey) || 'severity';
  const sortDir = params.get('dir') === 'asc' ? 'asc' : 'desc';
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkOpen, setBulkOpen] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const [exporting, setExporting] = useState(false);

  const list = usePaged(
    (cursor) => {
      const q = { ...filters, cursor, limit: pageSize };
      if (scope.kind === 'project') return api.listProjectFindings(scope.id, q);
      if (scope.kind === 'repository') return api.listRepositoryFindings(scope.id, q);
      return api.listScanFindings(scope.id, q);
    },
    [scope.kind, scope.id, JSON.stringify(filters)],
  );
  const { reload } = list;
  useEffect(() => {
    if (version > 0) reload(true);
  }, [version, reload]);
  const items = useMemo(() => sortFindings(list.data?.items ?? [], sortKey, sortDir), [list.data, sortKey, sortDir]);

  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
    setSelected(new Set());
  };
  const toggleSort = (k: SortKey) => {
    const next = new URLSearchParams(params);
    next.set('sort', k);
    next.set('dir', sortKey === k && sortDir === 'desc' ? 'asc' : 'desc');
    setParams(next, { replace: true });
  };
  const ariaSort = (k: SortKey) => (sortKey === k ? (sortDir === 'asc' ? 'ascending' : 'descending') : 'none');
  const allSelected = items.length > 0 && items.every((f) => selected.has(f.id));

  const doExport = async (format: ExportFormat) => {
    setExporting(true);
    setExportError(null);
    try {
      const exportScope = scope.kind === 'scan' ? { scanId: scope.id } : { repositoryId: scope.id };
      const { blob, filename } = await api.exportFindings(exportScope, format, filters);
      saveBlob(blob, filename.includes('.') ? filename : `findings.${format === 'sarif' ? 'sarif' : format}`);
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  };

  const sortHeader = (k: SortKey, label: string) => (
    <th scope="col" key={k} aria-sort={ariaSort(k)}>
      <button type="button" className="sort" onClick={() => toggleSort(k)}>
        {label}
        <span aria-hidden="true">{sortKey === k ? (sortDir === 'asc' ? ' ↑' : ' ↓') : ''}</span>
      </button>
    </th>
  );

  return (
    <div className="findings-view">
      <form className="filters" role="search" aria-label="Filter findings" onSubmit={(e) => e.preventDefault()}>
        <label>
          Severity
          <select value={filters.severity ?? ''} onChange={(e) => setParam('severity', e.target.value)}>
            <option value="">Any</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={filters.status ?? ''} onChange={(e) => setParam('status', e.target.value)}>
            <option value="">Any</option>
            {FINDING_STATUSES.map((s) => (
              <option key={s} value={s}>
                {humanize(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Engine
          <select value={filters.engine ?? ''} onChange={(e) => setParam('engine', e.target.value)}>
            <option value="">Any</option>
            <option value="secrets">secrets</option>
            <option value="codex">codex</option>
          </select>
        </label>
        <DebouncedInput label="Path" value={filters.path_prefix ?? ''} placeholder="src/" onCommit={(v) => setParam('path_prefix', v)} />
        <DebouncedInput label="CWE" value={filters.cwe ?? ''} placeholder="CWE-798" onCommit={(v) => setParam('cwe', v)} />
        <DebouncedInput label="Search" value={filters.q ?? ''} placeholder="title or text" onCommit={(v) => setParam('q', v)} />
      </form>
      <div className="toolbar">
        <button type="button" disabled={selected.size === 0} onClick={() => setBulkOpen(true)}>
          Triage selected ({selected.size})
        </button>
        {exportable && scope.kind !== 'project' && (
          <div className="export" role="group" aria-label="Export findings">
            <span className="muted small">Export:</span>
            {(['sarif', 'csv', 'json'] as const).map((f) => (
              <button key={f} type="button" disabled={exporting} onClick={() => void doExport(f)}>
                Export {f.toUpperCase()}
              </button>
            ))}
          </div>
        )}
      </div>
      <InlineError error={exportError} />
      {bulkOpen && (
        <div className="bulk-panel" aria-label="Bulk triage">
          <TriageForm
            title={`Triage ${selected.size} finding${selected.size === 1 ? '' : 's'}`}
            onCancel={() => setBulkOpen(false)}
            onSubmit={async (req) => {
              await api.bulkTriage([...selected], req);
              setBulkOpen(false);
              setSelected(new Set());
              list.reload(true);
            }}
          />
        </div>
      )}
      {list.error !== undefined && !list.data ? (
        <ErrorState error={list.error} onRetry={() => list.reload()} />
      ) : !list.data ? (
        <Loading label="Loading findings…" />
      ) : items.length === 0 ? (
        <Empty title={Object.keys(filters).length ? 'No findings match these filters' : 'No findings'}>
          {Object.keys(filters).length > 0 && <p>Clear a filter to see more.</p>}
        </Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="findings-table">
              <caption className="sr-only">Findings</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select all findings on this page"
                      checked={allSelected}
                      onChange={() => setSelected(allSelected ? new Set() : new Set(items.map((f) => f.id)))}
                    />
                  </th>
                  {sortHeader('severity', 'Severity')}
                  {sortHeader('title', 'Title')}
                  {sortHeader('file', 'Location')}
                  {sortHeader('engine', 'Engine')}
                  {sortHeader('status', 'Status')}
                </tr>
              </thead>
              <tbody>
                {items.map((f) => (
                  <tr key={f.id} className={selected.has(f.id) ? 'selected' : undefined}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${f.title}`}
                        checked={selected.has(f.id)}
                        onChange={() =>
                          setSelected((s) => {
                            const n = new Set(s);
                            if (n.has(f.id)) n.delete(f.id);
                            else n.add(f.id);
                            return n;
                          })
                        }
                      />
                    </td>
                    <td>
                      <SeverityBadge severity={f.severity} />
                    </td>
                    <td>
                      <Link to={`/findings/${f.id}`}>{f.title}</Link>
                      {f.cwe && f.cwe.length > 0 && <span className="muted small"> {f.cwe.join(', ')}</span>}
                    </td>
                    <td className="mono small">
                      {f.file_path}
                      {f.start_line ? `:${f.start_line}` : ''}
                    </td>
                    <td>{f.engine}</td>
                    <td>
                      <StatusBadge status={f.status} />
                      {f.dismissed_reason ? <span className="muted small"> {humanize(f.dismissed_reason)}</span> : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted small">Sorting applies to the findings on this page.</p>
          <Pager page={list.page} hasPrev={list.hasPrev} hasNext={list.hasNext} onPrev={list.prev} onNext={list.next} total={list.data.total} />
        </>
      )}
      {list.error !== undefined && list.data && <p className="inline-error">{errorMessage(list.error)}</p>}
    </div>
  );
}

function DebouncedInput({ label, value, placeholder, onCommit }: { label: string; value: string; placeholder?: string; onCommit: (v: string) => void }) {
  const [v, setV] = useState(value);
  const [timer, setTimer] = useState<ReturnType<typeof setTimeout> | null>(null);
  return (
    <label>
      {label}
      <input
        type="search"
        value={v}
        placeholder={placeholder}
        onChange={(e) => {
          const nv = e.target.value;
          setV(nv);
          if (timer) clearTimeout(timer);
          setTimer(setTimeout(() => onCommit(nv.trim()), 350));
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            if (timer) clearTimeout(timer);
            onCommit(v.trim());
          }
        }}
      />
    </label>
  );
}
