import { useEffect, useRef } from 'react';
import type { DismissedReason } from '../api/types';
import { DISMISSED_REASONS } from '../api/types';
import { humanize } from '../lib/format';

/**
 * "Dismiss ▾": a menu of reasons, no default. Opened by click or by the d
 * shortcut (open is controlled), focus moves to the first reason; arrows
 * move, Enter picks, Escape closes.
 */
export function DismissMenu({
  open,
  onOpenChange,
  onDismiss,
  disabled = false,
  current,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onDismiss: (reason: DismissedReason) => void;
  disabled?: boolean;
  /** The saved reason, marked in the menu. */
  current?: string;
}) {
  const menu = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) menu.current?.querySelector<HTMLElement>('[role=menuitem]')?.focus();
  }, [open]);
  const close = () => {
    onOpenChange(false);
    button.current?.focus();
  };
  const onKeyDown = (e: React.KeyboardEvent) => {
    const items = Array.from(menu.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? []);
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      close();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = items.length;
      items[(i + (e.key === 'ArrowDown' ? 1 : n - 1)) % n]?.focus();
    }
  };
  return (
    <div className="menu">
      <button ref={button} type="button" disabled={disabled} aria-haspopup="menu" aria-expanded={open} aria-keyshortcuts="d" onClick={() => onOpenChange(!open)}>
        Dismiss ▾
      </button>
      {open && (
        <div role="menu" className="menu-items" ref={menu} onKeyDown={onKeyDown} aria-label="Dismiss as">
          {DISMISSED_REASONS.map((r) => (
            <button
              key={r}
              type="button"
              role="menuitem"
              aria-current={current === r ? 'true' : undefined}
              onClick={() => {
                onOpenChange(false);
                onDismiss(r);
              }}
            >
              {humanize(r)}
              {current === r ? ' ✓' : ''}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
