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
