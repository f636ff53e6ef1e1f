import { useId } from 'react';
import { Link } from 'react-router-dom';
import type { Overview, SeverityCounts, TrendDay } from '../api/types';
import { SEVERITIES } from '../api/types';
import { humanize } from '../lib/format';
import type { AsyncState } from '../lib/hooks';
import { niceCeil } from './BarChart';
import { ErrorState, Loading } from './States';

const total = (c: SeverityCounts | undefined) => SEVERITIES.reduce((n, s) => n + (c?.[s] ?? 0), 0);

/**
 * Open findings (open or confirmed) by severity: one number per severity,
 * each a link to the findings list filtered by it, over a bar split in the
 * same proportions. `findingsPath` is the scope's findings list.
 */
export function OpenFindings({ counts, findingsPath }: { counts: SeverityCounts | undefined; findingsPath: string }) {
  const n = total(counts);
  return (
    <div className="open-findings" aria-label="Open findings by severity" role="group">
      <ul className="open-numbers">
        {SEVERITIES.map((s) => (
          <li key={s} className={`open-number open-${s}`} data-severity={s}>
            <Link to={`${findingsPath}?severity=${s}`} aria-label={`${counts?.[s] ?? 0} open ${s} findings`}>
              <span className="open-n">{counts?.[s] ?? 0}</span>
              <span className="open-label">{humanize(s)}</span>
            </Link>
          </li>
        ))}
        <li className="open-number open-total">
          <Link to={findingsPath}>
            <span className="open-n">{n}</span>
            <span className="open-label">Open</span>
          </Link>
        </li>
      </ul>
      <div className="sev-bar" aria-hidden="true">
        {n === 0 ? (
          <span className="sev-bar-empty" />
        ) : (
          SEVERITIES.map((s) => (counts?.[s] ? <span key={s} className={`sev-${s}`} style={{ width: `${(100 * (counts[s] ?? 0)) / n}%` }} /> : null))
        )}
      </div>
    </div>
  );
}

/** Open findings per day, one stacked bar per day (most severe at the bottom); inline SVG, no chart library. */
export function TrendChart({ days, title }: { days: TrendDay[]; title: string }) {
  const id = useId();
  const width = 720;
  const height = 200;
  const pad = { top: 12, right: 12, bottom: 36, left: 44 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const top = niceCeil(Math.max(0, ...days.map((d) => total(d.counts))));
  const slot = days.length ? innerW / days.length : innerW;
  const barW = Math.max(2, slot * 0.7);
  const first = days[0];
  const last = days[days.length - 1];
  const desc = first && last ? `${first.date}: ${total(first.counts)} open; ${last.date}: ${total(last.counts)} open (${SEVERITIES.map((s) => `${last.counts[s]} ${s}`).join(', ')})` : 'No data';
  return (
    <figure className="chart trend">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-t ${id}-d`} preserveAspectRatio="xMidYMid meet">
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{desc}</desc>
        {[0, 0.5, 1].map((f) => {
          const y = pad.top + innerH - f * innerH;
          return (
            <g key={f}>
              <line x1={pad.left} x2={width - pad.right} y1={y} y2={y} className="chart-grid" />
              <text x={pad.left - 6} y={y + 4} textAnchor="end" className="chart-axis">
                {Math.round(f * top)}
              </text>
            </g>
          );
        })}
        {days.map((d, i) => {
          const x = pad.left + i * slot + (slot - barW) / 2;
          let y = pad.top + innerH;
          return (
            <g key={d.date} data-date={d.date} data-open={total(d.counts)}>
              <title>{`${d.date}: ${total(d.counts)} open — ${SEVERITIES.filter((s) => d.counts[s]).map((s) => `${d.counts[s]} ${s}`).join(', ') || 'none'}`}</title>
              {SEVERITIES.map((s) => {
                const h = ((d.counts[s] ?? 0) / top) * innerH;
                if (h <= 0) return null;
                y -= h;
                return <rect key={s} x={x} y={y} width={barW} height={h} className={`trend-${s}`} />;
              })}
              {(i === 0 || i === days.length - 1 || i % 7 === 0) && (
                <text x={x + barW / 2} y={height - pad.bottom + 14} textAnchor="middle" className="chart-axis">
                  {d.date.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption className="trend-legend small">
        {SEVERITIES.map((s) => (
          <span key={s}>
            <span className={`legend-swatch sev-${s}`} aria-hidden="true" /> {humanize(s)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** The "Open findings" section a project's and a repository's page share: numbers and trend, or loading, or the error with Retry. */
export function OpenFindingsSection({ overview, findingsPath, trendTitle }: { overview: Pick<AsyncState<Overview>, 'data' | 'error' | 'reload'>; findingsPath: string; trendTitle: string }) {
  return (
    <>
      <h2>Open findings</h2>
      {overview.data ? (
        <>
          <OpenFindings counts={overview.data.open_counts} findingsPath={findingsPath} />
          <TrendChart days={overview.data.trend} title={trendTitle} />
        </>
      ) : overview.error !== undefined ? (
        <ErrorState error={overview.error} onRetry={() => overview.reload()} />
      ) : (
        <Loading label="Loading open findings…" />
      )}
    </>
  );
}
