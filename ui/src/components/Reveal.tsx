import { useState } from 'react';
import { Dialog } from './Dialog';
import { InlineError } from './States';

/**
 * Asks before secrets are shown. A reveal is never the default: it applies
 * to what is on screen now, is forgotten on navigation, and is recorded in
 * the finding's history by onReveal (POST /v1/findings/:id/reveal).
 */
export function RevealDialog({ onReveal, onClose }: { onReveal: () => Promise<void>; onClose: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Dialog title="Reveal secrets?" onClose={onClose}>
      <p>
        The secret is shown in clear text on this screen until you leave the page, and the reveal is recorded in the finding's history under your name.
      </p>
      <p>Check that no one else can see your screen: no screen share, projector or recording.</p>
      <InlineError error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            setError(null);
            onReveal().then(onClose, (e: unknown) => {
              setError(e);
              setBusy(false);
            });
          }}
        >
          Reveal
        </button>
      </div>
    </Dialog>
  );
}
