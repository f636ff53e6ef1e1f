import type { ScanEvent } from '../api/types';

/**
 * An EventSource double with the browser's semantics, for every test of the
 * live scan stream: named events go to addEventListener(kind) listeners (not
 * onmessage), a refused connection ends in readyState CLOSED followed by an
 * error event, and every stream opened is recorded in `instances`.
 */
export class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static instances: FakeEventSource[] = [];
  readyState = FakeEventSource.CONNECTING;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((m: MessageEvent) => void) | null = null;
  private listeners = new Map<string, ((m: MessageEvent) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }
  addEventListener(kind: string, fn: (m: MessageEvent) => void) {
    this.listeners.set(kind, [...(this.listeners.get(kind) ?? []), fn]);
  }
  close() {
    this.readyState = FakeEventSource.CLOSED;
  }
  open() {
    this.readyState = FakeEventSource.OPEN;
    this.onopen?.();
  }
  /** A scan event frame (with its seq as the event id), of scan_1 unless `scanId` says otherwise. */
  frame(seq: number, kind: string, payload: Record<string, unknown>, { scanId = 'scan_1', createdAt = '2026-01-01T00:00:00Z' } = {}) {
    const ev: ScanEvent = { scan_id: scanId, seq, kind, payload, created_at: createdAt };
    const msg = new MessageEvent(kind, { data: JSON.stringify(ev), lastEventId: String(seq) });
    for (const fn of this.listeners.get(kind) ?? []) fn(msg);
  }
  /** A frame without an id, as the server's shutdown notice. */
  signal(kind: string, data: Record<string, unknown>) {
    const msg = new MessageEvent(kind, { data: JSON.stringify(data) });
    for (const fn of this.listeners.get(kind) ?? []) fn(msg);
  }
  refuse() {
    this.readyState = FakeEventSource.CLOSED;
    this.onerror?.();
  }
}
