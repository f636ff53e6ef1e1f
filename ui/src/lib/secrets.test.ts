import { describe, expect, it } from 'vitest';
import { maskSecret, segmentLine, spansOf } from './secrets';

const KEY = 'AKIAQYLPMN5HHHFPZAM2';

describe('secret masking', () => {
  it('masks like the server: four characters and the length, a quarter below 16', () => {
    expect(maskSecret(KEY)).toBe('AKIA…[20 chars]');
    expect(maskSecret('hunter22')).toBe('hu…[8 chars]');
    expect(maskSecret('😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀')).toBe('😀😀😀😀…[16 chars]');
  });

  it('cuts a span by code point columns, so text before it may hold emoji', () => {
    const line = `é😀 = "${KEY}"`;
    const spans = spansOf([{ file_path: 'a.py', start_line: 1, end_line: 1, start_column: 7, end_column: 26, secret: true }], 'a.py');
    const segs = segmentLine(line, 1, spans, false, () => line);
    expect(segs).toEqual([
      { text: 'é😀 = "', kind: 'plain' },
      { text: 'AKIA…[20 chars]', kind: 'mask' },
      { text: '"', kind: 'plain' },
    ]);
    expect(segs.map((s) => s.text).join('')).not.toContain(KEY);
    const shown = segmentLine(line, 1, spans, true, () => line);
    expect(shown[1]).toEqual({ text: KEY, kind: 'revealed' });
  });

  it('masks a secret across lines: the mask on the first, an ellipsis after', () => {
    const lines = ['-----BEGIN KEY-----', 'MIIEabcdefghijklmnop', 'qrstuvwx', '-----END KEY-----'];
    const at = (n: number) => lines[n - 1];
    const spans = [{ start_line: 2, start_column: 1, end_line: 3, end_column: 8 }];
    expect(segmentLine(lines[1]!, 2, spans, false, at)).toEqual([{ text: 'MIIE…[29 chars]', kind: 'mask' }]);
    expect(segmentLine(lines[2]!, 3, spans, false, at)).toEqual([{ text: '…', kind: 'mask' }]);
    expect(segmentLine(lines[3]!, 4, spans, false, at)).toEqual([{ text: '-----END KEY-----', kind: 'plain' }]);
  });

  it('only marks a span the server already masked, and ignores other files and non-secrets', () => {
    const line = 'K = "AKIA…[20 chars]"';
    expect(segmentLine(line, 5, [{ start_line: 5, start_column: 6, end_line: 5, end_column: 20, masked: true }], false, () => line)[1]).toEqual({
      text: 'AKIA…[20 chars]',
      kind: 'mask',
    });
    const locs = [
      { file_path: 'b.py', start_line: 1, end_line: 1, start_column: 1, end_column: 3, secret: true },
      { file_path: 'a.py', start_line: 2, end_line: 2, start_column: 1, end_column: 3 },
      { file_path: 'a.py', start_line: 4, end_line: 4, secret: true },
    ];
    // a secret without columns masks its whole line
    expect(spansOf(locs, 'a.py')).toEqual([{ start_line: 4, start_column: 1, end_line: 4, end_column: Number.MAX_SAFE_INTEGER }]);
    expect(segmentLine('password123', 4, spansOf(locs, 'a.py'), false, () => 'password123')).toEqual([{ text: 'pa…[11 chars]', kind: 'mask' }]);
  });
});
