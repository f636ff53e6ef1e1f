// Previous/next finding within the list the user came from. The list passes
// its context in the router state of each row link (no URL clutter, and a
// finding opened from elsewhere simply has no neighbours).
import { useCallback, useRef, useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import type { FindingFilters, FindingListPage } from '../api/types';
import type { ApiClient } from '../api/client';
import { useApi } from '../app-context';

export type ListScope = { kind: 'project'; id: string } | { kind: 'repository'; id: string } | { kind: 'scan'; id: string };

export interface ListContext {
  scope: ListScope;
  /** The list's filters, sort and page size (no cursor). */
  query: FindingFilters & { limit?: number };
  /** The finding IDs of the page the user came from, in order. */
  ids: string[];
  page: number;
  /** This page's cursor (null: the first page). */
  cursor: string | null;
  /** The previous page's cursor; undefined when unknown. */
  prevCursor?: string | null;
  /**
   * The cursors of other pages of the list, by page number, as far as known:
   * every page crossed is remembered, so moving back over several pages
   * finds each earlier page's cursor.
   */
  cursors?: Record<number, string | null>;
  nextCursor: string | null;
  total: number;
  /** The list's URL (path and query), for "Back to the list". */
  back: string;
}

export function listPage(api: ApiClient, scope: ListScope, q: FindingFilters & { limit?: number; cursor?: string }): Promise<FindingListPage> {
  if (scope.kind === 'project') return api.listProjectFindings(scope.id, q);
  if (scope.kind === 'repository') return api.listRepositoryFindings(scope.id, q);
  return api.listScanFindings(scope.id, q);
}

export function listContextOf(state: unknown): ListContext | undefined {
  const list = (state as { list?: ListContext } | null)?.list;
  return list && Array.isArray(list.ids) ? list : undefined;
}

/**
 * The cursor of page p of the list: null for the first page (it starts at
 * the beginning), undefined when unknown.
 */
export function pageCursor(ctx: ListContext, p: number): string | null | undefined {
  if (p < 1) return undefined;
  if (p === 1) return null;
  if (p === ctx.page) return ctx.cursor;
  if (p === ctx.page - 1 && ctx.prevCursor !== undefined) return ctx.prevCursor;
  return ctx.cursors?.[p];
}

/**
 * The list context after moving one page (delta) from ctx to the page pg,
 * loaded with `cursor`: it keeps every cursor known so far, so the page
 * before the new one has its cursor whichever way the user came.
 */
export function movedContext(ctx: ListContext, delta: 1 | -1, cursor: string | null, pg: FindingListPage): ListContext {
  const cursors: Record<number, string | null> = { ...ctx.cursors, [ctx.page]: ctx.cursor };
  if (ctx.page > 1 && ctx.prevCursor !== undefined) cursors[ctx.page - 1] = ctx.prevCursor;
  const next: ListContext = {
    ...ctx,
    ids: pg.items.map((f) => f.id),
    page: ctx.page + delta,
    cursor,
    cursors,
    nextCursor: pg.next_cursor,
    total: pg.total ?? ctx.total,
  };
  return { ...next, prevCursor: pageCursor({ ...next, prevCursor: undefined }, next.page - 1) };
}

/** Where a finding stands in its list, and moves to its neighbours. */
export function neighbours(ctx: ListContext | undefined, id: string) {
  const i = ctx ? ctx.ids.indexOf(id) : -1;
  if (!ctx || i < 0) return { index: -1, position: 0, hasPrev: false, hasNext: false };
  const size = ctx.query.limit ?? ctx.ids.length;
  return {
    index: i,
    position: (ctx.page - 1) * size + i + 1,
    hasPrev: i > 0 || (ctx.page > 1 && pageCursor(ctx, ctx.page - 1) !== undefined),
    hasNext: i < ctx.ids.length - 1 || !!ctx.nextCursor,
  };
}

export function useListNav(findingId: string) {
  const api = useApi();
  const navigate = useNavigate();
  const ctx = listContextOf(useLocation().state);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const n = neighbours(ctx, findingId);
  // Where the last move went, before React re-renders with it: a second j
  // pressed quickly moves on from there, not again from the old finding.
  const at = useRef({ id: findingId, ctx });
  const rendered = useRef(findingId);
  if (rendered.current !== findingId || !at.current.ctx) {
    rendered.current = findingId;
    at.current = { id: findingId, ctx };
  }

  const go = useCallback(
    async (delta: 1 | -1) => {
      const { id, ctx } = at.current;
      const index = ctx ? ctx.ids.indexOf(id) : -1;
      if (!ctx || index < 0 || busy) return;
      const j = index + delta;
      if (j >= 0 && j < ctx.ids.length) {
        at.current = { id: ctx.ids[j]!, ctx };
        navigate(`/findings/${ctx.ids[j]}`, { state: { list: ctx } });
        return;
      }
      // Across a page boundary: load the neighbouring page of the same list.
      const cursor = delta > 0 ? ctx.nextCursor : pageCursor(ctx, ctx.page - 1);
      if ((delta > 0 && !cursor) || (delta < 0 && (ctx.page <= 1 || cursor === undefined))) return;
      setBusy(true);
      setError(null);
      try {
        const pg = await listPage(api, ctx.scope, { ...ctx.query, ...(cursor ? { cursor } : {}) });
        if (pg.items.length === 0) return;
        const next = movedContext(ctx, delta, cursor ?? null, pg);
        const target = delta > 0 ? next.ids[0]! : next.ids[next.ids.length - 1]!;
        at.current = { id: target, ctx: next };
        navigate(`/findings/${target}`, { state: { list: next } });
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
    },
    [api, busy, navigate],
  );
  return { ctx, ...n, busy, error, next: () => void go(1), prev: () => void go(-1) };
}
