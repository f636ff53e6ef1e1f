// Shows source lines with numbers, highlighted ranges, lines that carry
// findings, and detected secrets masked until a logged Reveal
// (docs/redaction.md, "Code views"). Content is rendered as text nodes only:
// scanned code is hostile and must never become markup.
import { useEffect, useRef } from 'react';
import type { SecretSpan } from '../api/types';
import { segmentLine } from '../lib/secrets';

export interface LineRange {
  start: number;
  end: number;
}

export function CodeView({
  content,
  lines: givenLines,
  firstLine = 1,
  ranges = [],
  context,
  label,
  truncated = false,
  secrets = [],
  revealed = false,
  marks,
  focusLine,
}: {
  /** The whole text; or lines with firstLine, an excerpt. */
  content?: string;
  lines?: string[];
  firstLine?: number;
  ranges?: LineRange[];
  /** Lines of context around the ranges; undefined shows everything given. */
  context?: number;
  label: string;
  truncated?: boolean;
  /** Detected secrets: masked unless revealed (or already masked by the server). */
  secrets?: SecretSpan[];
  revealed?: boolean;
  /** Lines that carry findings: line number → what to say about them. */
  marks?: Map<number, string>;
  /** A line to scroll to once shown. */
  focusLine?: number;
}) {
  const all = givenLines ?? splitLines(content ?? '');
  const last = firstLine + all.length - 1;
  const lineAt = (n: number) => all[n - firstLine];
  const inRange = (n: number) => ranges.some((r) => n >= r.start && n <= Math.max(r.start, r.end));
  let from = firstLine;
  let to = last;
  if (context !== undefined && ranges.length > 0) {
    from = Math.max(firstLine, Math.min(...ranges.map((r) => r.start)) - context);
    to = Math.min(last, Math.max(...ranges.map((r) => Math.max(r.start, r.end))) + context);
  }
  const shown: number[] = [];
  for (let n = from; n <= to; n++) shown.push(n);
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!focusLine) return;
    const el = ref.current?.querySelector<HTMLElement>(`[data-line="${focusLine}"]`);
    el?.scrollIntoView?.({ block: 'center' });
  }, [focusLine, all.length]);
  return (
    <figure className="code" aria-label={label} ref={ref}>
      <pre>
        <code>
          {shown.map((n) => {
            const hl = inRange(n);
            const mark = marks?.get(n);
            const cls = `line${hl ? ' hl' : ''}${mark ? ' marked' : ''}`;
            return (
              <span key={n} className={cls} data-line={n} aria-current={hl ? 'true' : undefined} title={mark}>
                <span className="ln" aria-hidden="true">
                  {n}
                </span>
                {segmentLine(lineAt(n) ?? '', n, secrets, revealed, lineAt).map((s, i) =>
                  s.kind === 'plain' ? (
                    <span key={i}>{s.text || (i === 0 ? ' ' : '')}</span>
                  ) : (
                    <span key={i} className={s.kind === 'mask' ? 'secret-mask' : 'secret-revealed'} data-secret={s.kind}>
                      {s.text}
                    </span>
                  ),
                )}
                {'\n'}
              </span>
            );
          })}
        </code>
      </pre>
      {truncated && <figcaption className="muted small">File truncated by the server's size cap.</figcaption>}
      {shown.length === 0 && <figcaption className="muted small">The referenced lines are not in this file.</figcaption>}
    </figure>
  );
}

function splitLines(content: string): string[] {
  const lines = content.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
