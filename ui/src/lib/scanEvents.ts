import { useEffect, useRef, useState } from 'react';
import type { ApiClient } from '../api/client';
import type { ScanEvent } from '../api/types';
import { EVENT_KINDS } from '../api/types';

/** The events kept in memory for the log view; older ones are counted, not kept. */
export const EVENT_CAP = 2000;

export interface EventBuffer {
  events: ScanEvent[];
  lastSeq: number;
  dropped: number;
}

export const emptyBuffer: EventBuffer = { events: [], lastSeq: 0, dropped: 0 };

/**
 * Appends events in seq order, ignoring ones already seen: a reconnecting
 * stream or an overlapping poll must neither lose nor duplicate entries.
 */
export function mergeEvents(buf: EventBuffer, incoming: ScanEvent[], cap = EVENT_CAP): EventBuffer {
  const fresh = incoming.filter((e) => Number.isFinite(e.seq) && e.seq > buf.lastSeq).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0) return buf;
  const unique: ScanEvent[] = [];
  let last = buf.lastSeq;
  for (const e of fresh) {
    if (e.seq > last) {
      unique.push(e);
      last = e.seq;
    }
  }
  let events = buf.events.concat(unique);
  let dropped = buf.dropped;
  if (events.length > cap) {
    dropped += events.length - cap;
    events = events.slice(events.length - cap);
  }
  return { events, lastSeq: last, dropped };
}

/**
 * Builds an event from one SSE frame. The frame's own `id:` (seq) and
 * `event:` (kind) fields are authoritative; `data:` is the event JSON
 * ({scan_id, seq, kind, payload, created_at}) — or, from servers that send
 * only the payload, the payload itself.
 */
export function eventFromFrame(scanId: string, type: string, lastEventId: string, data: unknown): ScanEvent | null {
  if (!data || typeof data !== 'object') return null;
  const d = data as Partial<ScanEvent> & Record<string, unknown>;
  const whole = typeof d.seq === 'number' && typeof d.kind === 'string' && typeof d.payload === 'object';
  const seq = Number(lastEventId) || (whole ? (d.seq as number) : NaN);
  const kind = type && type !== 'message' ? type : whole ? (d.kind as string) : '';
  if (!Number.isFinite(seq) || seq <= 0 || !kind) return null;
  return {
    scan_id: scanId,
    seq,
    kind,
    payload: (whole ? d.payload : d) as Record<string, unknown>,
    created_at: whole && typeof d.created_at === 'string' ? d.created_at : new Date().toISOString(),
  };
}

export const TERMINAL_KINDS = new Set(['scan_completed', 'scan_failed', 'scan_cancelled']);

export type StreamMode = 'connecting' | 'live' | 'polling' | 'done';

/**
 * Follows a scan's events: SSE first (token in the query string, since
 * EventSource cannot send headers), falling back to polling ?after_seq= when
 * the stream keeps failing. `onBatch` sees each batch of new events once.
 */
export function useScanEvents(
  api: ApiClient,
  scanId: string,
  follow: boolean,
  onBatch: (events: ScanEvent[]) => void,
): { buffer: EventBuffer; mode: StreamMode } {
  // The buffer and mode are keyed by scan ID: on navigation to another scan
  // (Retry) the previous scan's log is never shown, not even for one render,
  // and the effect below opens a new stream for the new ID.
  const [state, setState] = useState<{ scanId: string; buffer: EventBuffer; mode: StreamMode }>({ scanId, buffer: emptyBuffer, mode: 'connecting' });
  const onBatchRef = useRef(onBatch);
  onBatchRef.current = onBatch;

  useEffect(() => {
    // Local to this scan's effect: a late flush of the previous scan cannot
    // write into the next one's buffer.
    const bufRef = { current: emptyBuffer };
    let stopped = false;
    const setBuffer = (b: EventBuffer) => {
      if (!stopped) setState((s) => ({ scanId, buffer: b, mode: s.scanId === scanId ? s.mode : 'connecting' }));
    };
    const setMode = (m: StreamMode) => {
      if (!stopped) setState((s) => (s.scanId === scanId ? { ...s, mode: m } : { scanId, buffer: emptyBuffer, mode: m }));
    };
    let es: EventSource | null = null;
    let pollTimer: ReturnType<typeof setTimeout> | null = null;
    let failures = 0;
    let pending: ScanEvent[] = [];
    let flushScheduled = false;

    // Bursts of events are applied once per animation frame, not per event.
    const flush = () => {
      flushScheduled = false;
      if (stopped) return;
      if (pending.length === 0) return;
      const before = bufRef.current.lastSeq;
      const next = mergeEvents(bufRef.current, pending);
      pending = [];
      if (next === bufRef.current) return;
      bufRef.current = next;
      setBuffer(next);
      onBatchRef.current(next.events.filter((e) => e.seq > before));
    };
    const push = (evs: ScanEvent[]) => {
      pending.push(...evs);
      if (!flushScheduled) {
        flushScheduled = true;
        if (typeof requestAnimationFrame === 'function' && document.visibilityState !== 'hidden') requestAnimationFrame(flush);
        else setTimeout(flush, 16);
      }
    };
    const isDone = (evs: ScanEvent[]) => evs.some((e) => TERMINAL_KINDS.has(e.kind));

    const poll = async () => {
      if (stopped) return;
      setMode('polling');
      try {
        // drain everything after what we have, page by page
        for (;;) {
          const page = await api.listScanEvents(scanId, Math.max(bufRef.current.lastSeq, lastPushed()), 500);
          push(page.items);
          if (isDone(page.items)) {
            setMode('done');
            return;
          }
          if (!page.next_cursor || page.items.length === 0) break;
        }
        if (!follow) {
          setMode('done');
          return;
        }
      } catch {
        // transient: keep polling
      }
      if (!stopped) pollTimer = setTimeout(() => void poll(), 2000);
    };
    const lastPushed = () => pending.reduce((m, e) => Math.max(m, e.seq), 0);

    const open = () => {
      if (stopped) return;
      if (typeof EventSource === 'undefined' || !follow) {
        void poll();
        return;
      }
      setMode('connecting');
      es = new EventSource(api.eventStreamUrl(scanId, Math.max(bufRef.current.lastSeq, lastPushed())));
      const handle = (msg: MessageEvent<string>) => {
        failures = 0;
        setMode('live');
        try {
          const ev = eventFromFrame(scanId, msg.type, msg.lastEventId, JSON.parse(msg.data));
          if (!ev) return;
          push([ev]);
          if (TERMINAL_KINDS.has(ev.kind)) {
            es?.close();
            setMode('done');
          }
        } catch {
          // a malformed frame is skipped; the seq check keeps order
        }
      };
      for (const k of EVENT_KINDS) es.addEventListener(k, handle as EventListener);
      es.onmessage = handle;
      // The server is shutting down (a restart, a deploy): it closes the
      // stream right after this frame. Reopen at once from the last seq; the
      // browser's own retry would not, for a stream this code closes on error.
      es.addEventListener('reconnect', () => {
        es?.close();
        failures = 0;
        setMode('connecting');
        setTimeout(open, 1000);
      });
      es.onopen = () => {
        failures = 0;
        setMode('live');
      };
      es.onerror = () => {
        if (!es || es.readyState !== EventSource.CLOSED) return; // browser is reconnecting by itself
        es.close();
        failures++;
        if (failures >= 3) {
          void poll();
          return;
        }
        // A closed stream is most often an expired access token: a cheap
        // authenticated call refreshes it, then the stream reopens after lastSeq.
        api
          .me()
          .catch(() => undefined)
          .finally(() => setTimeout(open, 500 * failures));
      };
    };

    open();
    return () => {
      stopped = true;
      es?.close();
      if (pollTimer) clearTimeout(pollTimer);
    };
  }, [api, scanId, follow]);

  return state.scanId === scanId ? { buffer: state.buffer, mode: state.mode } : { buffer: emptyBuffer, mode: 'connecting' };
}
