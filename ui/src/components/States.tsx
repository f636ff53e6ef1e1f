import type { ReactNode } from 'react';
import { errorMessage, isApiError } from '../api/client';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function ErrorState({ error, onRetry, title = 'Something went wrong' }: { error: unknown; onRetry?: () => void; title?: string }) {
  const requestId = isApiError(error) ? error.requestId : '';
  const notFound = isApiError(error) && error.code === 'not_found';
  return (
    <div className="state state-error" role="alert">
      <strong>{notFound ? 'Not found' : title}</strong>
      <p>{errorMessage(error)}</p>
      {requestId && <p className="muted small">Request ID: {requestId}</p>}
      {onRetry && !notFound && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

/** Renders loading / error / content for one async value. */
export function Async<T>({
  state,
  children,
  label,
}: {
  state: { data: T | undefined; error: unknown; loading: boolean; reload: () => void };
  children: (data: T) => ReactNode;
  label?: string;
}) {
  if (state.error !== undefined && state.data === undefined) return <ErrorState error={state.error} onRetry={() => state.reload()} />;
  if (state.data === undefined) return <Loading label={label} />;
  return <>{children(state.data)}</>;
}

export function InlineError({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="inline-error" role="alert">
      {errorMessage(error)}
    </p>
  );
}
