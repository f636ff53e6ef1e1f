import { useState } from 'react';

/**
 * A secret the server returns once, at creation (an API key, a webhook's
 * signing secret): shown with Copy until the user says it is saved, then
 * gone for good, since no later answer carries it.
 */
export function SecretOnce({ heading, label, secret, onSaved }: { heading: string; label: string; secret: string; onSaved: () => void }) {
  return (
    <div className="secret-once" role="alert">
      <strong>{heading}</strong>
      <label>
        {label}
        <input readOnly className="mono" value={secret} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div className="actions">
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret)}>
          Copy
        </button>
        <button type="button" onClick={onSaved}>
          I have saved it
        </button>
      </div>
    </div>
  );
}

export interface CreateWithSecret<T> {
  /** The create dialog is open. */
  creating: boolean;
  /** What was created, shown with SecretOnce until the user has saved it. */
  created: T | null;
  open: () => void;
  close: () => void;
  /** The create dialog's onCreated: closes it, keeps `x` for SecretOnce, reloads the list quietly. */
  onCreated: (x: T) => void;
  /** SecretOnce's onSaved. */
  saved: () => void;
}

/** The create-then-show-the-secret-once flow API keys and webhooks share. */
export function useCreateWithSecret<T>(list: { reload: (quiet?: boolean) => void }): CreateWithSecret<T> {
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<T | null>(null);
  return {
    creating,
    created,
    open: () => setCreating(true),
    close: () => setCreating(false),
    onCreated: (x) => {
      setCreating(false);
      setCreated(x);
      list.reload(true);
    },
    saved: () => setCreated(null),
  };
}
