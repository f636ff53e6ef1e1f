import { useId } from 'react';

// A dependency-free bar chart in inline SVG (no chart library: first-load budget).
export interface Bar {
  key: string;
  label: string;
  value: number;
}

export function BarChart({ bars, title, format, height = 220 }: { bars: Bar[]; title: string; format: (v: number) => string; height?: number }) {
  const width = 720;
  const pad = { top: 16, right: 12, bottom: 56, left: 64 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const top = niceCeil(max);
  const slot = bars.length ? innerW / bars.length : innerW;
  const barW = Math.max(2, Math.min(48, slot * 0.7));
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  const labelEvery = Math.max(1, Math.ceil(bars.length / 12));
  const id = useId();
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{bars.map((b) => `${b.label}: ${format(b.value)}`).join('; ')}</desc>
        {ticks.map((t) => {
          const y = pad.top + innerH - (top ? (t / top) * innerH : 0);
          return (
            <g key={t}>
              <line x1={pad.left} x2={width - pad.right} y1={y} y2={y} className="chart-grid" />
              <text x={pad.left - 6} y={y + 4} textAnchor="end" className="chart-axis">
                {format(t)}
              </text>
            </g>
          );
        })}
        {bars.map((b, i) => {
          const h = top ? (b.value / top) * innerH : 0;
          const x = pad.left + i * slot + (slot - barW) / 2;
          return (
            <g key={b.key}>
              <rect x={x} y={pad.top + innerH - h} width={barW} height={Math.max(h, b.value > 0 ? 1 : 0)} className="chart-bar">
                <title>{`${b.label}: ${format(b.value)}`}</title>
              </rect>
              {i % labelEvery === 0 && (
                <text x={x + barW / 2} y={height - pad.bottom + 14} textAnchor="end" transform={`rotate(-35 ${x + barW / 2} ${height - pad.bottom + 14})`} className="chart-axis">
                  {b.label.length > 16 ? `${b.label.slice(0, 15)}…` : b.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** Rounds a maximum up to 1, 2 or 5 × 10^n so axis ticks are readable. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * exp) return m * exp;
  return 10 * exp;
}
