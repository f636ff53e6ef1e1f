// Shows source lines with numbers and highlighted ranges. Content is rendered
// as text nodes only: scanned code is hostile and must never become markup.
export interface LineRange {
  start: number;
  end: number;
}

export function CodeView({
  content,
  ranges = [],
  context,
  label,
  truncated = false,
}: {
  content: string;
  ranges?: LineRange[];
  /** Lines of context around the ranges; undefined shows the whole file. */
  context?: number;
  label: string;
  truncated?: boolean;
}) {
  const lines = content.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const inRange = (n: number) => ranges.some((r) => n >= r.start && n <= Math.max(r.start, r.end));
  let from = 1;
  let to = lines.length;
  if (context !== undefined && ranges.length > 0) {
    from = Math.max(1, Math.min(...ranges.map((r) => r.start)) - context);
    to = Math.min(lines.length, Math.max(...ranges.map((r) => Math.max(r.start, r.end))) + context);
  }
  const shown = lines.slice(from - 1, to);
  return (
    <figure className="code" aria-label={label}>
      <pre>
        <code>
          {shown.map((text, i) => {
            const n = from + i;
            const hl = inRange(n);
            return (
              <span key={n} className={hl ? 'line hl' : 'line'} data-line={n} aria-current={hl ? 'true' : undefined}>
                <span className="ln" aria-hidden="true">
                  {n}
                </span>
                {text || ' '}
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
