import { describe, expect, it } from 'vitest';
import type { ScanEvent, ScanProgress } from '../api/types';
import { describeEvent, estimateRemaining, formatRemaining, monotonic } from './scanProgress';

const p = (percent: number): ScanProgress => ({ percent, message: `at ${percent}`, component: '', components_done: 0, components_total: 0 });
const ev = (kind: string, payload: Record<string, unknown>): ScanEvent => ({ scan_id: 's', seq: 1, kind, payload, created_at: '2026-01-01T00:00:00Z' });

describe('scan progress', () => {
  it('never shows less than before, but takes the newer message', () => {
    expect(monotonic(p(85), p(67))).toEqual({ ...p(67), percent: 85 });
    expect(monotonic(p(26), p(66))).toEqual(p(66));
    expect(monotonic(undefined, p(3))).toEqual(p(3));
  });

  it('estimates the time left only once the rate is known', () => {
    const start = 1_000_000;
    expect(estimateRemaining(50, start, start + 3000)).toBeNull(); // too early
    expect(estimateRemaining(2, start, start + 60000)).toBeNull(); // too little done
    expect(estimateRemaining(40, null, start)).toBeNull();
    expect(estimateRemaining(100, start, start + 9000)).toBeNull();
    expect(estimateRemaining(25, start, start + 20000)).toBe(60000);
    expect(formatRemaining(60000)).toBe('about 1m 0s left');
    expect(formatRemaining(2000)).toBe('less than 5 s left');
  });
});

describe('describeEvent', () => {
  it('renders every kind as a sentence, never JSON', () => {
    const cases: [ScanEvent, string][] = [
      [ev('scan_started', { engines: ['secrets', 'codex'], file_count: 312, attempt: 2 }), 'Scan started (attempt 2): secrets, codex on 312 files.'],
      [ev('scan_progress', { percent: 41, message: 'Auditing api', engine: 'codex', stage: 'audit', done: 3, total: 8, unit: 'components' }), 'codex: Auditing api — 3 of 8 components. Scan 41% done.'],
      [ev('scan_log', { level: 'info', message: 'scanning 312 files', engine: 'secrets' }), 'secrets: scanning 312 files'],
      [ev('finding_updated', { severity: 'high', title: 'AWS access key', file_path: 'deploy/prod.env', start_line: 3 }), 'Found a high finding: AWS access key in deploy/prod.env:3.'],
      [ev('usage', { model: 'gpt-5', input_tokens: 1200, output_tokens: 1, cost_usd: 0.5 }), 'gpt-5 read 1,200 tokens and wrote 1 token ($0.50).'],
      [ev('scan_completed', { duration_ms: 53000, finding_counts: { critical: 2, high: 1, medium: 0, low: 0, info: 0 } }), 'Scan completed in 53s with 3 findings (2 critical, 1 high).'],
      [ev('scan_failed', { code: 'engine_failed', message: 'Engine(s) failed: codex' }), 'Scan failed: Engine(s) failed: codex (engine_failed).'],
      [ev('scan_cancelled', { by: 'user', user_id: 'usr_1' }), 'Scan cancelled by a user.'],
      [ev('scan_cancelled', { by: 'system', reason: 'repository deleted' }), 'Scan cancelled by Vega: repository deleted.'],
      [ev('something_new', { nested: { a: 1 }, note: 'hi' }), 'Something new: note hi.'],
    ];
    for (const [e, want] of cases) {
      expect(describeEvent(e)).toBe(want);
      expect(describeEvent(e)).not.toMatch(/[{}]/);
    }
  });
});
