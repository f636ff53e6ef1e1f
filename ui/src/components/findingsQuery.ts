import type { FindingFilters, FindingSort, FindingSortKey, FindingStatus, FindingStatusCounts } from '../api/types';

/**
 * URL <-> findings query. Everything the list shows (filters, status tab,
 * sort, page size, cursor) lives in the search params so reload and Back
 * return to the same view (docs/findings.md describes the server side).
 */
export const MULTI_KEYS = ['severity', 'engine', 'rule'] as const;
export const TEXT_KEYS = ['path_prefix', 'cwe', 'q'] as const;
export const SORT_KEYS: readonly FindingSortKey[] = ['severity', 'path', 'rule', 'first_seen', 'last_seen', 'status'];
export const PAGE_SIZES = [25, 50, 100, 200] as const;
export const STATUS_TABS: readonly FindingStatus[] = ['open', 'confirmed', 'dismissed', 'fixed'];
/** The tab shown when the URL names none. */
export const DEFAULT_STATUS: FindingStatus = 'open';
export const DEFAULT_SORT: FindingSort = '-severity';

/** The selected status tabs, in tab order; "all" is the All tab (no status filter). */
export type StatusSelection = readonly FindingStatus[] | 'all';

export interface ListView {
  filters: FindingFilters;
  status: StatusSelection;
  sort: FindingSort;
  limit: number;
  cursor: string | null;
  page: number;
}

export function splitList(v: string | null | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function isSort(v: string): v is FindingSort {
  return SORT_KEYS.includes(v.replace(/^-/, '') as FindingSortKey);
}

export function viewFromParams(p: URLSearchParams, defaultLimit = 50): ListView {
  const filters: FindingFilters = {};
  for (const k of MULTI_KEYS) {
    const vs = splitList(p.get(k));
    if (vs.length) filters[k] = vs.join(',');
  }
  for (const k of TEXT_KEYS) {
    const v = p.get(k);
    if (v) filters[k] = v;
  }
  const status = statusFromParam(p.get('status'));
  if (status !== 'all') filters.status = status.join(',');
  const rawSort = p.get('sort') ?? '';
  const sort = isSort(rawSort) ? rawSort : DEFAULT_SORT;
  const n = Number(p.get('limit'));
  const limit = PAGE_SIZES.includes(n as (typeof PAGE_SIZES)[number]) ? n : defaultLimit;
  const page = Math.max(1, Number(p.get('page')) || 1);
  return { filters, status, sort, limit, cursor: p.get('cursor') || null, page };
}

/**
 * ?status= as a selection: "all", or the known statuses it lists (comma
 * separated, as the API takes them) in tab order; none known means the
 * default tab.
 */
export function statusFromParam(raw: string | null): StatusSelection {
  if (raw === 'all') return 'all';
  const listed = splitList(raw);
  const picked = STATUS_TABS.filter((s) => listed.includes(s));
  return picked.length ? picked : [DEFAULT_STATUS];
}

/** The ?status= value of a selection; empty for the default (Open alone). */
export function statusParam(sel: StatusSelection): string {
  if (sel === 'all') return 'all';
  return sel.length === 1 && sel[0] === DEFAULT_STATUS ? '' : sel.join(',');
}

/**
 * The selection after activating a tab. A plain click shows that tab alone;
 * an additive one (ctrl, cmd or shift held) adds the status to the selected
 * ones or removes it, keeping at least one. All is never part of a set: an
 * additive click on All selects All, and one on a status while All is
 * selected starts from that status.
 */
export function nextStatus(current: StatusSelection, tab: FindingStatus | 'all', additive: boolean): StatusSelection {
  if (tab === 'all') return 'all';
  if (!additive || current === 'all') return [tab];
  if (current.includes(tab)) return current.length > 1 ? current.filter((s) => s !== tab) : current;
  return STATUS_TABS.filter((s) => s === tab || current.includes(s));
}

export function isStatusSelected(sel: StatusSelection, tab: FindingStatus | 'all'): boolean {
  return sel === 'all' ? tab === 'all' : tab !== 'all' && sel.includes(tab);
}

/** Clicking a column: first click sorts descending, a second click flips it. */
export function nextSort(current: FindingSort, key: FindingSortKey): FindingSort {
  if (current === `-${key}`) return key;
  return `-${key}`;
}

export function sortDirection(current: FindingSort, key: FindingSortKey): 'ascending' | 'descending' | 'none' {
  if (current === key) return 'ascending';
  if (current === `-${key}`) return 'descending';
  return 'none';
}

/** "1–50 of 285" for page `page` of size `limit` showing `shown` rows. */
export function rangeLabel(page: number, limit: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return `0 of ${total}`;
  const start = (page - 1) * limit + 1;
  return `${start}–${start + shown - 1} of ${total}`;
}

export function tabLabel(counts: FindingStatusCounts | undefined, s: FindingStatus): string {
  const name = s.charAt(0).toUpperCase() + s.slice(1);
  return counts ? `${name} ${counts[s]}` : name;
}

/** Selection after clicking row `index`; shift extends from `anchor` over the range. */
export function selectRange(selected: Set<string>, ids: string[], index: number, anchor: number | null, shift: boolean): Set<string> {
  const next = new Set(selected);
  const id = ids[index];
  if (id === undefined) return next;
  if (shift && anchor !== null && ids[anchor] !== undefined) {
    const on = !selected.has(id);
    const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
    for (let i = a; i <= b; i++) {
      if (on) next.add(ids[i]!);
      else next.delete(ids[i]!);
    }
    return next;
  }
  if (next.has(id)) next.delete(id);
  else next.add(id);
  return next;
}

/** Whether any filter besides the status tab and sort is set. */
export function hasFilters(f: FindingFilters): boolean {
  return [...MULTI_KEYS, ...TEXT_KEYS].some((k) => !!f[k]);
}

/** Whether the view differs from the default (Open, no filter): what "Clear filters" resets. */
export function isFiltered(v: Pick<ListView, 'filters' | 'status'>): boolean {
  return hasFilters(v.filters) || statusParam(v.status) !== '';
}
