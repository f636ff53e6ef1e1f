import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { ListPage } from '../api/types';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Re-runs the loader; `quiet` keeps the current data on screen (polling). */
  reload: (quiet?: boolean) => void;
  setData: (d: T) => void;
}

/** Runs `load` when `deps` change; ignores answers that arrive after a newer request. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback((quiet = false) => {
    const g = ++generation.current;
    if (!quiet) setLoading(true);
    loadRef
      .current()
      .then((d) => {
        if (g !== generation.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (g !== generation.current) return;
        setError(e);
      })
      .finally(() => {
        if (g === generation.current) setLoading(false);
      });
  }, []);

  useEffect(() => {
    run();
    return () => {
      generation.current++;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  return { data, error, loading, reload: run, setData };
}

export interface PagedState<T> extends AsyncState<ListPage<T>> {
  page: number;
  hasNext: boolean;
  hasPrev: boolean;
  next: () => void;
  prev: () => void;
}

/** Cursor pagination: remembers the cursors of earlier pages so "Previous" works. */
export function usePaged<T>(load: (cursor: string | null) => Promise<ListPage<T>>, deps: unknown[]): PagedState<T> {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const depKey = JSON.stringify(deps);
  const [lastKey, setLastKey] = useState(depKey);
  if (lastKey !== depKey) {
    // filters changed: back to the first page
    setLastKey(depKey);
    setCursors([null]);
  }
  const cursor = cursors[cursors.length - 1] ?? null;
  const state = useAsync(() => load(cursor), [depKey, cursor]);
  const nextCursor = state.data?.next_cursor ?? null;
  return {
    ...state,
    page: cursors.length,
    hasNext: !!nextCursor,
    hasPrev: cursors.length > 1,
    next: () => nextCursor && setCursors((c) => [...c, nextCursor]),
    prev: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
}

/** Calls `fn` every `ms` while `active`; stops when the tab is hidden to spare the server. */
export function useInterval(fn: () => void, ms: number, active: boolean) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => {
      if (typeof document === 'undefined' || document.visibilityState !== 'hidden') ref.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

export function useDocumentTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Vega` : 'Vega';
  }, [title]);
}

export interface ActionState {
  busy: boolean;
  /** The last failure, for `<InlineError>`; cleared when the action runs again. */
  error: unknown;
  setError: (e: unknown) => void;
  /**
   * Runs `action` with `busy` set. A failure is kept in `error`. With
   * `stayBusy`, success leaves `busy` on: the caller is about to close or
   * navigate, and the button must not be pressed twice meanwhile.
   */
  run: (action: () => Promise<unknown>, opts?: { stayBusy?: boolean }) => Promise<void>;
}

/** Busy and error state around one async action (forms, dialogs). */
export function useAction(): ActionState {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(async (action: () => Promise<unknown>, opts?: { stayBusy?: boolean }) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      if (!opts?.stayBusy) setBusy(false);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }, []);
  return { busy, error, setError, run };
}

export interface SubmitState {
  busy: boolean;
  error: unknown;
  /** The form's onSubmit: no page load, then the action with busy and error state. */
  onSubmit: (e: FormEvent) => void;
}

/**
 * A form's submit: every form prevents the page load and runs one action with
 * useAction's busy and error state. By default success stays busy (stayBusy):
 * the dialog is about to close or navigate.
 */
export function useSubmit(action: () => Promise<unknown>, { stayBusy = true }: { stayBusy?: boolean } = {}): SubmitState {
  const { busy, error, run } = useAction();
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void run(action, { stayBusy });
  };
  return { busy, error, onSubmit };
}

export interface DialogState<T> {
  /** What the dialog is open for; null while closed. */
  item: T | null;
  open: (item: T) => void;
  close: () => void;
}

/** Which row a list's dialog (edit, delete) is open for: one state for "open on this row" and "closed". */
export function useDialog<T>(): DialogState<T> {
  const [item, setItem] = useState<T | null>(null);
  return { item, open: (t: T) => setItem(() => t), close: () => setItem(null) };
}
