import type { ReactNode } from 'react';

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div className="progress">
      <div className="progress-track" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={v}>
        <div className="progress-fill" style={{ width: `${v}%` }} />
      </div>
      <span className="progress-text">{v}%</span>
    </div>
  );
}

export function Pager({ page, hasPrev, hasNext, onPrev, onNext, total }: { page: number; hasPrev: boolean; hasNext: boolean; onPrev: () => void; onNext: () => void; total?: number }) {
  if (!hasPrev && !hasNext) return total !== undefined ? <p className="muted small">{total} total</p> : null;
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" onClick={onPrev} disabled={!hasPrev}>
        Previous
      </button>
      <span>
        Page {page}
        {total !== undefined ? ` · ${total} total` : ''}
      </span>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        Next
      </button>
    </nav>
  );
}

export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function PageHeader({ title, crumbs, actions }: { title: ReactNode; crumbs?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      {crumbs && <nav aria-label="Breadcrumb" className="crumbs">{crumbs}</nav>}
      <div className="page-header-row">
        <h1>{title}</h1>
        {actions && <div className="actions">{actions}</div>}
      </div>
    </header>
  );
}

/** A section's heading with its one action button beside it (Add …, Create …; `danger` for a destructive one). */
export function SectionHead({ title, titleId, action, onAction, danger = false }: { title: string; titleId?: string; action: string; onAction: () => void; danger?: boolean }) {
  return (
    <div className="section-head">
      <h2 id={titleId}>{title}</h2>
      <button type="button" className={danger ? 'danger' : 'primary'} onClick={onAction}>
        {action}
      </button>
    </div>
  );
}
