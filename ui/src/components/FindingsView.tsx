import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router-dom';
import { errorMessage } from '../api/client';
import type { ApiClient } from '../api/client';
import type { BulkTriageFilter, BulkTriagePrevious, BulkTriageResult, ExportFormat, FindingFilters, FindingListPage, FindingSortKey, FindingStatus, TriageRequest } from '../api/types';
import { DISMISSED_REASONS, SEVERITIES } from '../api/types';
import { useApi } from '../app-context';
import { humanize, saveBlob } from '../lib/format';
import { useAsync } from '../lib/hooks';
import type { ListContext } from '../lib/listNav';
import { SeverityBadge, StatusBadge } from './Badges';
import { MultiFilter } from './MultiFilter';
import { Options } from './Options';
import { RuleGroups } from './RuleGroups';
import { Empty, ErrorState, InlineError, Loading } from './States';
import {
  DEFAULT_SORT,
  hasFilters,
  isFiltered,
  isStatusSelected,
  SORT_KEYS,
  MULTI_KEYS,
  nextSort,
  nextStatus,
  PAGE_SIZES,
  rangeLabel,
  selectRange,
  sortDirection,
  STATUS_TABS,
  statusParam,
  tabLabel,
  TEXT_KEYS,
  viewFromParams,
} from './findingsQuery';

export type FindingsScope = { kind: 'project'; id: string } | { kind: 'repository'; id: string } | { kind: 'scan'; id: string };

type Query = FindingFilters & { cursor?: string; limit?: number };

/** The status tabs in order: one per status, then All. */
const TABS: readonly (FindingStatus | 'all')[] = [...STATUS_TABS, 'all'];

function listFor(api: ApiClient, scope: FindingsScope, q: Query): Promise<FindingListPage> {
  if (scope.kind === 'project') return api.listProjectFindings(scope.id, q);
  if (scope.kind === 'repository') return api.listRepositoryFindings(scope.id, q);
  return api.listScanFindings(scope.id, q);
}

/** The bulk-by-filter body for the current scope and filters. */
export function bulkFilter(scope: FindingsScope, f: FindingFilters): BulkTriageFilter {
  const { sort: _sort, ...rest } = f;
  if (scope.kind === 'project') return { ...rest, project_id: scope.id };
  if (scope.kind === 'repository') return { ...rest, repository_id: scope.id };
  return { ...rest, scan_id: scope.id };
}

/** A group of findings Undo can put back: restorable, as the server answered it. */
type UndoGroup = Extract<BulkTriagePrevious, { restorable: true }>;

/** What Undo needs: the bulk triage's answer, its restorable groups. */
interface Undo {
  message: string;
  groups: UndoGroup[];
}

const isRestorable = (g: BulkTriagePrevious): g is UndoGroup => g.restorable;

/**
 * Undo re-triages the changed findings back, one bulk-triage by ids per
 * group of the bulk action's answer (`previous`: the changed findings
 * grouped by the status and reason each had, read by the server in the
 * transaction that changed them). Never by re-filtering: a filter could
 * also catch findings that were already in the new status before the action.
 * A group holds at most 10,000 ids, what one request takes.
 */
export async function undoBulk(api: ApiClient, u: Pick<Undo, 'groups'>): Promise<void> {
  for (const g of u.groups) {
    await api.bulkTriage(g.ids, {
      status: g.status,
      ...(g.dismissed_reason ? { dismissed_reason: g.dismissed_reason } : {}),
      ...(g.note !== undefined ? { note: g.note } : {}),
    });
  }
}

/**
 * The toast after a bulk action. Undo puts back what a user can set; a state
 * Vega made itself (fixed, dismissed as suppressed_in_source) is not a
 * user's choice to restore: the server marks those groups unrestorable,
 * Undo leaves them out, and the next scan sets them again while the reason
 * holds (docs/findings.md).
 */
export function undoFor(req: TriageRequest, res: BulkTriageResult): Undo {
  const verb = req.status === 'dismissed' ? `Dismissed (${humanize(req.dismissed_reason ?? '')})` : humanize(req.status);
  const groups = res.previous.filter(isRestorable);
  const kept = res.previous.filter((g) => !g.restorable).reduce((n, g) => n + g.ids.length, 0);
  const message = `${verb}: ${res.changed} finding${res.changed === 1 ? '' : 's'}${kept ? ` (Undo leaves ${kept} that Vega had marked fixed or suppressed)` : ''}`;
  return { message, groups };
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
  const location = useLocation();
  const [params, setParams] = useSearchParams();
  const view = viewFromParams(params, pageSize);
  const { filters, sort, limit, cursor, page } = view;
  const query: Query = { ...filters, sort, limit, ...(cursor ? { cursor } : {}) };
  const queryKey = JSON.stringify(query);
  const grouped = params.get('group') === 'rule';
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const anchor = useRef<number | null>(null);
  const cursorTrail = useRef<Map<number, string | null>>(new Map([[1, null]]));
  const [exportError, setExportError] = useState<unknown>(null);
  const [exporting, setExporting] = useState(false);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [bulkError, setBulkError] = useState<unknown>(null);
  const [undo, setUndo] = useState<Undo | null>(null);
  const tabHint = useId();

  // Tagged with its query so a stale page (kept while the next one loads)
  // is never labelled with the new page's range.
  const loadKey = `${scope.kind}:${scope.id}:${queryKey}`;
  const list = useAsync(() => listFor(api, scope, query).then((pg) => ({ ...pg, key: loadKey })), [scope.kind, scope.id, queryKey]);
  const current = list.data?.key === loadKey;
  const { reload } = list;
  useEffect(() => {
    if (version > 0) reload(true);
  }, [version, reload]);
  useEffect(() => {
    setSelected(new Set());
    setAllMatching(false);
    anchor.current = null;
  }, [scope.kind, scope.id, queryKey]);
  cursorTrail.current.set(page, cursor);

  const repoNames = useProjectRepositoryNames(scope);
  // The finding page's code is fetched while the list is read, so opening
  // a finding waits only for its data.
  useEffect(() => {
    void import('../pages/Finding');
  }, []);

  const items = useMemo(() => list.data?.items ?? [], [list.data]);
  const ids = items.map((f) => f.id);
  const total = list.data?.total ?? 0;
  // What the finding page needs for previous/next within this list.
  const { cursor: _c, ...listQuery } = query;
  const listContext: ListContext = {
    scope,
    query: listQuery,
    ids,
    page,
    cursor: cursor ?? null,
    prevCursor: page > 1 ? cursorTrail.current.get(page - 1) : undefined,
    nextCursor: list.data?.next_cursor ?? null,
    total,
    back: `${location.pathname}${location.search}`,
  };

  /** Changes the URL; filter changes go back to page 1 and are new history entries. */
  const update = (change: (n: URLSearchParams) => void, opts: { keepPage?: boolean } = {}) => {
    const next = new URLSearchParams(params);
    change(next);
    if (!opts.keepPage) {
      next.delete('cursor');
      next.delete('page');
    }
    setParams(next);
  };
  const setParam = (k: string, v: string) => update((n) => (v ? n.set(k, v) : n.delete(k)));
  /** Every filter off and the status tabs back to Open alone. */
  const clearFilters = () =>
    update((n) => {
      for (const k of [...MULTI_KEYS, ...TEXT_KEYS, 'status']) n.delete(k);
    });
  const goPage = (p: number, c: string | null) =>
    update(
      (n) => {
        if (p <= 1 || !c) {
          n.delete('cursor');
          n.delete('page');
        } else {
          n.set('cursor', c);
          n.set('page', String(p));
        }
      },
      { keepPage: true },
    );
  const prevCursor = cursorTrail.current.get(page - 1);

  const doExport = async (format: ExportFormat) => {
    setExporting(true);
    setExportError(null);
    try {
      const exportScope = scope.kind === 'scan' ? { scanId: scope.id } : scope.kind === 'project' ? { projectId: scope.id } : { repositoryId: scope.id };
      // the status tab is not a filter here: the export carries every status
      // (dismissed ones become SARIF suppressions)
      const { sort: _s, status: _st, ...f } = filters;
      const { blob, filename } = await api.exportFindings(exportScope, format, f);
      saveBlob(blob, filename.includes('.') ? filename : `findings.${format === 'sarif' ? 'sarif' : format}`);
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  };

  /** One request: the answer says what Undo needs (no list reads, no window for the filter to move). */
  const applyBulk = async (req: TriageRequest) => {
    setBulkBusy(true);
    setBulkError(null);
    try {
      const res = allMatching
        ? await api.bulkTriageByFilter(bulkFilter(scope, filters), req)
        : await api.bulkTriage(
            items.filter((f) => selected.has(f.id)).map((f) => f.id),
            req,
          );
      setUndo(undoFor(req, res));
      setSelected(new Set());
      setAllMatching(false);
      reload(true);
    } catch (e) {
      setBulkError(e);
    } finally {
      setBulkBusy(false);
    }
  };

  const doUndo = async () => {
    if (!undo) return;
    const u = undo;
    setUndo(null);
    try {
      await undoBulk(api, u);
    } catch (e) {
      setBulkError(e);
    }
    reload(true);
  };

  const sortHeader = (k: FindingSortKey, label: string) => {
    const dir = sortDirection(sort, k);
    return (
      <th scope="col" key={k} aria-sort={dir}>
        <button type="button" className="sort" onClick={() => setParam('sort', nextSort(sort, k))}>
          {label}
          <span aria-hidden="true">{dir === 'ascending' ? ' ↑' : dir === 'descending' ? ' ↓' : ''}</span>
        </button>
      </th>
    );
  };
  const pageAll = items.length > 0 && items.every((f) => selected.has(f.id));
  const selectionCount = allMatching ? total : selected.size;
  const counts = list.data?.counts;

  return (
    <div className="findings-view">
      <div
        className="status-tabs"
        role="tablist"
        aria-label="Finding status"
        aria-multiselectable="true"
        aria-describedby={tabHint}
        title="Ctrl-, ⌘- or Shift-click to show several statuses"
      >
        {TABS.map((tab) => {
          const on = isStatusSelected(view.status, tab);
          return (
            <button
              key={tab}
              type="button"
              role="tab"
              aria-selected={on}
              className={on ? 'active' : undefined}
              onClick={(e) => setParam('status', statusParam(nextStatus(view.status, tab, e.ctrlKey || e.metaKey || e.shiftKey)))}
            >
              {tab === 'all' ? `All${counts ? ` ${counts.open + counts.confirmed + counts.dismissed + counts.fixed}` : ''}` : tabLabel(counts, tab)}
            </button>
          );
        })}
      </div>
      <p id={tabHint} className="sr-only">
        Hold Control, Command or Shift while choosing a status to add it to the shown statuses or remove it.
      </p>
      <form className="filters" role="search" aria-label="Filter findings" onSubmit={(e) => e.preventDefault()}>
        <MultiFilter label="Severity" options={SEVERITIES.map((s) => ({ value: s, label: humanize(s) }))} value={filters.severity ?? ''} onChange={(v) => setParam('severity', v)} />
        <MultiFilter
          label="Engine"
          options={[
            { value: 'secrets', label: 'secrets' },
            { value: 'codex', label: 'codex' },
          ]}
          value={filters.engine ?? ''}
          onChange={(v) => setParam('engine', v)}
        />
        <RuleFilter scope={scope} value={filters.rule ?? ''} onChange={(v) => setParam('rule', v)} />
        <DebouncedInput key={`p${filters.path_prefix ?? ''}`} label="Path" value={filters.path_prefix ?? ''} placeholder="src/" onCommit={(v) => setParam('path_prefix', v)} />
        <DebouncedInput key={`c${filters.cwe ?? ''}`} label="CWE" value={filters.cwe ?? ''} placeholder="CWE-798" onCommit={(v) => setParam('cwe', v)} />
        <DebouncedInput key={`q${filters.q ?? ''}`} label="Search" value={filters.q ?? ''} placeholder="title or text" onCommit={(v) => setParam('q', v)} />
        {isFiltered(view) && (
          <button type="button" onClick={clearFilters}>
            Clear filters
          </button>
        )}
      </form>
      <div className="toolbar">
        <label>
          <input type="checkbox" checked={grouped} onChange={(e) => setParam('group', e.target.checked ? 'rule' : '')} /> Group by rule
        </label>
        <label>
          Sort
          <select aria-label="Sort findings" value={sort} onChange={(e) => setParam('sort', e.target.value === DEFAULT_SORT ? '' : e.target.value)}>
            {SORT_KEYS.flatMap((k) => [
              <option key={`-${k}`} value={`-${k}`}>
                {humanize(k)} ↓
              </option>,
              <option key={k} value={k}>
                {humanize(k)} ↑
              </option>,
            ])}
          </select>
        </label>
        {exportable && (
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
      {grouped ? (
        <RuleGroups scope={scope} filters={filters} load={(q) => listFor(api, scope, q)} />
      ) : list.error !== undefined && !list.data ? (
        <ErrorState error={list.error} onRetry={() => list.reload()} />
      ) : !list.data ? (
        <Loading label="Loading findings…" />
      ) : items.length === 0 ? (
        <Empty title={hasFilters(filters) ? 'No findings match these filters' : 'No findings'}>
          {hasFilters(filters) && <p>Clear a filter to see more.</p>}
        </Empty>
      ) : (
        <>
          {pageAll && !allMatching && total > items.length && (
            <p className="select-all-matching">
              All {items.length} on this page are selected.{' '}
              <button type="button" className="link" onClick={() => setAllMatching(true)}>
                Select all {total} matching
              </button>
            </p>
          )}
          {allMatching && (
            <p className="select-all-matching">
              All {total} matching findings are selected.{' '}
              <button
                type="button"
                className="link"
                onClick={() => {
                  setAllMatching(false);
                  setSelected(new Set());
                }}
              >
                Clear selection
              </button>
            </p>
          )}
          <div className="table-wrap">
            <table className="findings-table">
              <caption className="sr-only">Findings</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <input
                      type="checkbox"
                      aria-label="Select all findings on this page"
                      checked={pageAll}
                      onChange={() => {
                        setAllMatching(false);
                        setSelected(pageAll ? new Set() : new Set(ids));
                      }}
                    />
                  </th>
                  {sortHeader('severity', 'Severity')}
                  <th scope="col">Title</th>
                  {sortHeader('rule', 'Rule')}
                  {repoNames && <th scope="col">Repository</th>}
                  {sortHeader('path', 'Location')}
                  <th scope="col">Engine</th>
                  {sortHeader('status', 'Status')}
                </tr>
              </thead>
              <tbody>
                {items.map((f, i) => (
                  <tr key={f.id} className={allMatching || selected.has(f.id) ? 'selected' : undefined}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Select ${f.title}`}
                        checked={allMatching || selected.has(f.id)}
                        onClick={(e) => {
                          const shift = e.shiftKey;
                          // Read the anchor now: React runs the updater after
                          // this handler has moved the anchor to this row.
                          const from = anchor.current;
                          setAllMatching(false);
                          setSelected((s) => selectRange(allMatching ? new Set(ids) : s, ids, i, from, shift));
                          anchor.current = i;
                        }}
                        onChange={() => undefined}
                      />
                    </td>
                    <td>
                      <Link to={`?${severityLink(params, f.severity)}`} aria-label={`Only ${f.severity} findings`} className="pill-link">
                        <SeverityBadge severity={f.severity} />
                      </Link>
                    </td>
                    <td>
                      <Link to={`/findings/${f.id}`} state={{ list: listContext }}>
                        {f.title}
                      </Link>
                      {f.cwe && f.cwe.length > 0 && <span className="muted small"> {f.cwe.join(', ')}</span>}
                    </td>
                    <td className="mono small">{f.rule_id}</td>
                    {repoNames && (
                      <td>
                        <Link to={`/repositories/${f.repository_id}`}>{repoNames.get(f.repository_id) ?? f.repository_id}</Link>
                      </td>
                    )}
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
          <nav className="pager" aria-label="Pagination">
            <span className="range" data-testid="range" aria-busy={!current}>
              {current ? rangeLabel(page, limit, items.length, total) : 'Loading…'}
            </span>
            <button type="button" disabled={page <= 1} onClick={() => goPage(page - 1, prevCursor ?? null)}>
              Previous
            </button>
            <button type="button" disabled={!list.data.next_cursor} onClick={() => goPage(page + 1, list.data?.next_cursor ?? null)}>
              Next
            </button>
            <label>
              Per page
              <select value={limit} onChange={(e) => setParam('limit', e.target.value === String(pageSize) ? '' : e.target.value)}>
                <Options values={PAGE_SIZES} />
              </select>
            </label>
          </nav>
        </>
      )}
      {list.error !== undefined && list.data && <p className="inline-error">{errorMessage(list.error)}</p>}
      {selectionCount > 0 && !grouped && <BulkBar count={selectionCount} busy={bulkBusy} error={bulkError} onApply={(r) => void applyBulk(r)} />}
      {undo && (
        <div className="toast" role="status">
          {undo.message}{' '}
          {undo.groups.length > 0 && (
            <button type="button" onClick={() => void doUndo()}>
              Undo
            </button>
          )}
          <button type="button" aria-label="Close" onClick={() => setUndo(null)}>
            ×
          </button>
        </div>
      )}
    </div>
  );
}

/**
 * A project's list spans repositories, so its rows name theirs: the names of
 * the project's repositories (null for other scopes; an ID stands in until
 * they load).
 */
function useProjectRepositoryNames(scope: FindingsScope): Map<string, string> | null {
  const api = useApi();
  const names = useAsync(async () => {
    const out = new Map<string, string>();
    if (scope.kind !== 'project') return out;
    let cursor: string | undefined;
    do {
      const pg = await api.listProjectRepositories(scope.id, { limit: 200, ...(cursor ? { cursor } : {}) });
      for (const r of pg.items) out.set(r.id, r.name);
      cursor = pg.next_cursor ?? undefined;
    } while (cursor);
    return out;
  }, [scope.kind, scope.id]);
  if (scope.kind !== 'project') return null;
  return names.data ?? new Map();
}

function severityLink(params: URLSearchParams, severity: string): string {
  const n = new URLSearchParams(params);
  n.set('severity', severity);
  n.delete('cursor');
  n.delete('page');
  return n.toString();
}

/** The sticky bar under a selection: Confirm, or Dismiss with a reason (no default action). */
export function BulkBar({ count, busy, error, onApply }: { count: number; busy: boolean; error: unknown; onApply: (r: TriageRequest) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="bulk-bar" role="region" aria-label="Bulk triage">
      <span>
        {count} selected
      </span>
      <button type="button" disabled={busy} onClick={() => onApply({ status: 'confirmed' })}>
        Confirm
      </button>
      <div className="menu">
        <button type="button" disabled={busy} aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          Dismiss ▾
        </button>
        {open && (
          <div role="menu" className="menu-items">
            {DISMISSED_REASONS.map((r) => (
              <button
                key={r}
                type="button"
                role="menuitem"
                onClick={() => {
                  setOpen(false);
                  onApply({ status: 'dismissed', dismissed_reason: r });
                }}
              >
                {humanize(r)}
              </button>
            ))}
          </div>
        )}
      </div>
      <InlineError error={error} />
    </div>
  );
}

function RuleFilter({ scope, value, onChange }: { scope: FindingsScope; value: string; onChange: (v: string) => void }) {
  const api = useApi();
  const rules = useAsync(
    () =>
      api.findingRules(scope.kind === 'scan' ? { scanId: scope.id } : scope.kind === 'project' ? { projectId: scope.id } : { repositoryId: scope.id }, {}),
    [scope.kind, scope.id],
  );
  const options = (rules.data?.items ?? []).map((r) => ({ value: r.rule_id, label: `${r.rule_id} (${r.count})` }));
  for (const v of value.split(',').filter(Boolean)) if (!options.some((o) => o.value === v)) options.push({ value: v, label: v });
  return <MultiFilter label="Rule" options={options} value={value} onChange={onChange} />;
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
