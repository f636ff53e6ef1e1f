import { describe, expect, it } from 'vitest';
import type { ScanEvent } from '../api/types';
import { emptyBuffer, eventFromFrame, mergeEvents } from './scanEvents';

const ev = (seq: number, kind = 'scan_log'): ScanEvent => ({ scan_id: 's', seq, kind, payload: {}, created_at: '2026-01-01T00:00:00Z' });

describe('mergeEvents', () => {
  it('appends in seq order and drops duplicates from a reconnect or overlapping poll', () => {
    let b = mergeEvents(emptyBuffer, [ev(2), ev(1), ev(3)]);
    b = mergeEvents(b, [ev(3), ev(4), ev(4), ev(2)]);
    expect(b.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(b.lastSeq).toBe(4);
  });

  it('returns the same buffer when nothing is new (no re-render)', () => {
    const b = mergeEvents(emptyBuffer, [ev(1)]);
    expect(mergeEvents(b, [ev(1)])).toBe(b);
  });

  it('caps memory and counts what it dropped', () => {
    const many = Array.from({ length: 25 }, (_, i) => ev(i + 1));
    const b = mergeEvents(emptyBuffer, many, 10);
    expect(b.events).toHaveLength(10);
    expect(b.events[0]!.seq).toBe(16);
    expect(b.dropped).toBe(15);
  });
});

describe('eventFromFrame', () => {
  it('reads a frame whose data is the whole event', () => {
    const e = eventFromFrame('s', 'scan_log', '7', { scan_id: 's', seq: 7, kind: 'scan_log', payload: { message: 'hi' }, created_at: '2026-01-01T00:00:00Z' });
    expect(e).toEqual({ scan_id: 's', seq: 7, kind: 'scan_log', payload: { message: 'hi' }, created_at: '2026-01-01T00:00:00Z' });
  });
  it('takes seq and kind from the SSE id/event fields when data is only the payload', () => {
    const e = eventFromFrame('s', 'scan_progress', '3', { percent: 40, message: 'auditing' });
    expect(e?.seq).toBe(3);
    expect(e?.kind).toBe('scan_progress');
    expect(e?.payload).toEqual({ percent: 40, message: 'auditing' });
  });
  it('drops frames without a usable seq or kind', () => {
    expect(eventFromFrame('s', 'message', '', { hello: 1 })).toBeNull();
    expect(eventFromFrame('s', 'scan_log', 'x', { message: 'm' })).toBeNull();
    expect(eventFromFrame('s', 'scan_log', '1', null)).toBeNull();
  });
});
