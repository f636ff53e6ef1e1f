import { describe, expect, it } from 'vitest';
import type { ScanEvent } from '../api/types';
import { emptyBuffer, mergeEvents } from './scanEvents';

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
