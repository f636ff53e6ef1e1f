// Masks detected secrets in code views (docs/redaction.md, "Code views").
// Columns are 1-based Unicode code points, end inclusive, as the server
// reports them; Array.from splits a string the same way.
import type { Location, SecretSpan } from '../api/types';

/**
 * The mask of a detected secret, the same as the server's redact.Secret:
 * four characters and the length (a quarter of the characters below 16).
 */
export function maskSecret(secret: string): string {
  const cps = Array.from(secret);
  const show = cps.length >= 16 ? 4 : Math.floor(cps.length / 4);
  return `${cps.slice(0, show).join('')}…[${cps.length} chars]`;
}

/** The secret spans among a finding's locations in one file. */
export function spansOf(locations: Location[], path: string): SecretSpan[] {
  return locations
    .filter((l) => l.secret && l.file_path === path && l.start_line > 0)
    .map((l) =>
      l.start_column && l.end_column
        ? { start_line: l.start_line, start_column: l.start_column, end_line: Math.max(l.start_line, l.end_line), end_column: l.end_column }
        : // no usable columns: the whole lines are the secret's
          { start_line: l.start_line, start_column: 1, end_line: Math.max(l.start_line, l.end_line), end_column: Number.MAX_SAFE_INTEGER },
    );
}

/** The whole value a span covers; lineAt(n) returns file line n or undefined. */
export function spanValue(lineAt: (n: number) => string | undefined, s: SecretSpan): string {
  const parts: string[] = [];
  for (let n = s.start_line; n <= s.end_line; n++) {
    const cps = Array.from(lineAt(n) ?? '');
    const from = n === s.start_line ? s.start_column - 1 : 0;
    const to = n === s.end_line ? Math.min(cps.length, s.end_column) : cps.length;
    parts.push(cps.slice(from, to).join(''));
  }
  return parts.join('\n');
}

export interface Segment {
  text: string;
  /** plain code, a masked secret, or a secret shown after a Reveal */
  kind: 'plain' | 'mask' | 'revealed';
}

/**
 * Cuts line n into plain text and secrets. Unrevealed secrets become their
 * mask on their first line and "…" on the lines after; a span already masked
 * by the server is only marked as a mask.
 */
export function segmentLine(text: string, n: number, spans: SecretSpan[], revealed: boolean, lineAt: (n: number) => string | undefined): Segment[] {
  const cps = Array.from(text);
  const here = spans
    .filter((s) => n >= s.start_line && n <= s.end_line)
    .map((s) => ({ s, from: n === s.start_line ? s.start_column - 1 : 0, to: n === s.end_line ? Math.min(cps.length, s.end_column) : cps.length }))
    .sort((a, b) => a.from - b.from);
  const out: Segment[] = [];
  let pos = 0;
  for (const { s, from, to } of here) {
    if (from < pos || from >= to) continue; // overlapping, or empty on this line
    if (from > pos) out.push({ text: cps.slice(pos, from).join(''), kind: 'plain' });
    const value = cps.slice(from, to).join('');
    if (s.masked) out.push({ text: value, kind: 'mask' });
    else if (revealed) out.push({ text: value, kind: 'revealed' });
    else out.push({ text: n === s.start_line ? maskSecret(spanValue(lineAt, s)) : '…', kind: 'mask' });
    pos = to;
  }
  if (pos < cps.length || out.length === 0) out.push({ text: cps.slice(pos).join(''), kind: 'plain' });
  return out;
}
