import { ConfirmAction } from './Dialog';

/**
 * Asks before secrets are shown. A reveal is never the default: it applies
 * to what is on screen now, is forgotten on navigation, and is recorded in
 * the finding's history by onReveal (POST /v1/findings/:id/reveal).
 */
export function RevealDialog({ onReveal, onClose }: { onReveal: () => Promise<void>; onClose: () => void }) {
  return (
    <ConfirmAction title="Reveal secrets?" confirmLabel="Reveal" onClose={onClose} onConfirm={() => onReveal().then(onClose)} danger>
      <p>
        The secret is shown in clear text on this screen until you leave the page, and the reveal is recorded in the finding's history under your name.
      </p>
      <p>Check that no one else can see your screen: no screen share, projector or recording.</p>
    </ConfirmAction>
  );
}

/** The button that hides revealed secrets again, or asks to reveal them (opening RevealDialog through onAsk). */
export function RevealToggle({ revealed, onHide, onAsk }: { revealed: boolean; onHide: () => void; onAsk: () => void }) {
  return revealed ? (
    <button type="button" onClick={onHide}>
      Hide secrets
    </button>
  ) : (
    <button type="button" onClick={onAsk}>
      Reveal secrets
    </button>
  );
}
