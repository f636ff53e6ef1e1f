import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { DialogState } from '../lib/hooks';
import { InlineError } from './States';

/**
 * A modal dialog with role="dialog", a labelled title, Escape to close, focus
 * moved inside on open and restored on close, and Tab kept inside.
 */
export function Dialog({ title, onClose, children, wide = false }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const titleId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('input, select, textarea, button:not(.dialog-close)');
    (first ?? ref.current)?.focus();
    return () => previous?.focus?.();
  }, []);
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !ref.current) return;
    const focusable = Array.from(
      ref.current.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex="0"]'),
    );
    if (focusable.length === 0) return;
    const first = focusable[0]!;
    const last = focusable[focusable.length - 1]!;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <div className="dialog-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className={`dialog${wide ? ' dialog-wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        ref={ref}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        <div className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="dialog-close ghost" onClick={onClose} aria-label="Close">
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

/**
 * The foot every dialog form shares: the form's error, Cancel, and the primary
 * submit button (labelled by children, disabled while busy or incomplete).
 */
export function FormActions({ error, onCancel, disabled, children }: { error: unknown; onCancel: () => void; disabled: boolean; children: ReactNode }) {
  return (
    <>
      <InlineError error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={disabled}>
          {children}
        </button>
      </div>
    </>
  );
}

/**
 * Asks before an action that replaces or changes something: the consequence,
 * Cancel, and the confirm button (labelled confirmLabel). The dialog stays
 * open with the error when onConfirm fails.
 */
export function ConfirmAction({
  title,
  children,
  confirmLabel,
  onClose,
  onConfirm,
  danger = false,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onClose: () => void;
  onConfirm: () => Promise<void>;
  danger?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title={title} onClose={onClose}>
      {children}
      <InlineError error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className={danger ? 'danger' : 'primary'}
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setError(null);
            onConfirm().catch((e: unknown) => {
              setError(e);
              setBusy(false);
            });
          }}
        >
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** Asks before deleting (or revoking, or ending) something: ConfirmAction with a danger button. */
export function ConfirmDelete({
  what,
  consequence,
  onClose,
  onConfirm,
  confirmLabel = 'Delete',
  title = `${confirmLabel} ${what}?`,
}: {
  what: string;
  consequence: string;
  onClose: () => void;
  onConfirm: () => Promise<void>;
  confirmLabel?: string;
  title?: string;
}) {
  return (
    <ConfirmAction title={title} confirmLabel={confirmLabel} onClose={onClose} onConfirm={onConfirm} danger>
      <p>{consequence}</p>
    </ConfirmAction>
  );
}

/**
 * ConfirmDelete for the row a list's delete button opened `dialog` on: removes
 * it, closes, and reloads the list quietly. Renders nothing while closed.
 */
export function ConfirmRowDelete<T>({
  dialog,
  list,
  what,
  remove,
  ...texts
}: {
  dialog: DialogState<T>;
  list: { reload: (quiet?: boolean) => void };
  what: (row: T) => string;
  remove: (row: T) => Promise<unknown>;
  consequence: string;
  confirmLabel?: string;
}) {
  const row = dialog.item;
  if (row === null) return null;
  return (
    <ConfirmDelete
      {...texts}
      what={what(row)}
      onClose={dialog.close}
      onConfirm={async () => {
        await remove(row);
        dialog.close();
        list.reload(true);
      }}
    />
  );
}
