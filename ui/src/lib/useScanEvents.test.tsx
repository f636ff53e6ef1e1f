import { act, renderHook, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, MemoryTokenStore } from '../api/client';
import { FakeEventSource } from '../test/eventSource';
import { useScanEvents } from './scanEvents';

beforeEach(() => {
  FakeEventSource.instances = [];
  vi.stubGlobal('EventSource', FakeEventSource);
});
afterEach(() => vi.unstubAllGlobals());

/** Opens the stream and delivers the frames [seq, kind, payload] on it, as a server does right after connecting. */
function openAndSend(es: FakeEventSource, ...frames: [number, string, Record<string, unknown>][]) {
  act(() => {
    es.open();
    for (const [seq, kind, payload] of frames) es.frame(seq, kind, payload);
  });
}

function client(fetchFn: typeof fetch = vi.fn() as unknown as typeof fetch) {
  return new ApiClient({ baseUrl: '', fetch: fetchFn, tokens: new MemoryTokenStore({ accessToken: 'tok', refreshToken: 'r' }) });
}

describe('useScanEvents', () => {
  it('streams named SSE events in order, hands each batch over once, and stops at the terminal event', async () => {
    const batches: number[][] = [];
    const api = client();
    const { result } = renderHook(() => useScanEvents(api, 'scan_1', true, (evs) => batches.push(evs.map((e) => e.seq))));
    const es = FakeEventSource.instances[0]!;
    expect(es.url).toBe('/v1/scans/scan_1/events/stream?access_token=tok');
    act(() => {
      es.open();
      es.frame(1, 'scan_started', { engines: ['secrets'] });
      es.frame(2, 'scan_progress', { percent: 50 });
      es.frame(2, 'scan_progress', { percent: 50 }); // duplicate after a reconnect
    });
    await waitFor(() => expect(result.current.buffer.lastSeq).toBe(2));
    expect(result.current.mode).toBe('live');
    act(() => es.frame(3, 'scan_completed', { duration_ms: 10 }));
    await waitFor(() => expect(result.current.mode).toBe('done'));
    await waitFor(() => expect(result.current.buffer.lastSeq).toBe(3));
    expect(result.current.buffer.events.map((e) => e.kind)).toEqual(['scan_started', 'scan_progress', 'scan_completed']);
    expect(batches.flat()).toEqual([1, 2, 3]);
    expect(es.readyState).toBe(FakeEventSource.CLOSED);
  });

  it('after a refused stream, refreshes the session and resumes after the last seq', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const fetchFn = vi.fn(async () => new Response(JSON.stringify({ id: 'usr_1' }), { status: 200 })) as unknown as typeof fetch;
      const api = client(fetchFn);
      const { result } = renderHook(() => useScanEvents(api, 'scan_1', true, () => undefined));
      const first = FakeEventSource.instances[0]!;
      openAndSend(first, [1, 'scan_log', { message: 'a' }], [2, 'scan_log', { message: 'b' }]);
      await waitFor(() => expect(result.current.buffer.lastSeq).toBe(2));
      act(() => first.refuse());
      await act(async () => {
        await vi.advanceTimersByTimeAsync(1000);
      });
      expect(fetchFn).toHaveBeenCalled(); // GET /v1/auth/me: refreshes an expired token on 401
      const second = FakeEventSource.instances[1]!;
      expect(second.url).toBe('/v1/scans/scan_1/events/stream?access_token=tok&last_event_id=2');
    } finally {
      vi.useRealTimers();
    }
  });

  it('on the server\'s reconnect event (shutdown), opens a new stream after the last seq', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const api = client();
      const { result } = renderHook(() => useScanEvents(api, 'scan_1', true, () => undefined));
      const first = FakeEventSource.instances[0]!;
      openAndSend(first, [1, 'scan_started', { engines: ['secrets'] }], [2, 'scan_log', { message: 'a' }]);
      await waitFor(() => expect(result.current.buffer.lastSeq).toBe(2));
      act(() => first.signal('reconnect', { reason: 'server_shutdown' }));
      expect(first.readyState).toBe(FakeEventSource.CLOSED);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(1100);
      });
      const second = FakeEventSource.instances[1]!;
      expect(second.url).toBe('/v1/scans/scan_1/events/stream?access_token=tok&last_event_id=2');
      openAndSend(second, [3, 'scan_completed', { duration_ms: 10 }]);
      await waitFor(() => expect(result.current.mode).toBe('done'));
      await waitFor(() => expect(result.current.buffer.events.map((e) => e.seq)).toEqual([1, 2, 3]));
    } finally {
      vi.useRealTimers();
    }
  });

  it('polls ?after_seq= for a finished scan instead of opening a stream', async () => {
    const urls: string[] = [];
    const fetchFn = vi.fn(async (u: RequestInfo | URL) => {
      urls.push(String(u));
      const ev = (seq: number, kind: string) => ({ scan_id: 'scan_1', seq, kind, payload: {}, created_at: '2026-01-01T00:00:00Z' });
      return new Response(JSON.stringify({ items: [ev(1, 'scan_started'), ev(2, 'scan_completed')], next_cursor: null }), { status: 200 });
    }) as unknown as typeof fetch;
    const api = client(fetchFn);
    const { result } = renderHook(() => useScanEvents(api, 'scan_1', false, () => undefined));
    await waitFor(() => expect(result.current.mode).toBe('done'));
    await waitFor(() => expect(result.current.buffer.lastSeq).toBe(2));
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(urls[0]).toBe('/v1/scans/scan_1/events?after_seq=0&limit=500');
  });

  it('keys the log by scan ID: a new ID never shows the old log and opens its own stream from seq 0', async () => {
    const api = client();
    const { result, rerender } = renderHook(({ id }) => useScanEvents(api, id, true, () => undefined), { initialProps: { id: 'scan_1' } });
    const first = FakeEventSource.instances[0]!;
    openAndSend(first, [1, 'scan_log', { message: 'old' }], [2, 'scan_log', { message: 'older' }]);
    await waitFor(() => expect(result.current.buffer.lastSeq).toBe(2));
    rerender({ id: 'scan_2' });
    // The very first render with the new ID already has an empty log.
    expect(result.current.buffer.events).toHaveLength(0);
    expect(result.current.mode).toBe('connecting');
    expect(first.readyState).toBe(FakeEventSource.CLOSED);
    const second = FakeEventSource.instances[1]!;
    expect(second.url).toBe('/v1/scans/scan_2/events/stream?access_token=tok');
    act(() => first.frame(3, 'scan_log', { message: 'late frame of the old stream' }));
    openAndSend(second, [1, 'scan_started', { engines: ['secrets'] }]);
    await waitFor(() => expect(result.current.buffer.lastSeq).toBe(1));
    expect(result.current.buffer.events.map((e) => e.kind)).toEqual(['scan_started']);
    expect(result.current.mode).toBe('live');
  });
});
