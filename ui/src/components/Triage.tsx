import { useState, type FormEvent } from 'react';
import type { DismissedReason, FindingStatus, TriageRequest } from '../api/types';
import { DISMISSED_REASONS, FINDING_STATUSES } from '../api/types';
import { humanize } from '../lib/format';
import { useAction } from '../lib/hooks';
import { Options } from './Options';
import { InlineError } from './States';

/** Status + (for a dismissal) a required reason + an optional note. */
export function TriageForm({
  title,
  initialStatus = 'dismissed',
  onSubmit,
  onCancel,
}: {
  title: string;
  initialStatus?: FindingStatus;
  onSubmit: (req: TriageRequest) => Promise<void>;
  onCancel?: () => void;
}) {
  const [status, setStatus] = useState<FindingStatus>(initialStatus);
  const [reason, setReason] = useState<DismissedReason | ''>('');
  const [note, setNote] = useState('');
  const { busy, error, setError, run } = useAction();
  const needsReason = status === 'dismissed';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (needsReason && !reason) {
      setError(new Error('Choose a reason for the dismissal.'));
      return Promise.resolve();
    }
    return run(async () => {
      await onSubmit({ status, dismissed_reason: needsReason ? (reason as DismissedReason) : undefined, note: note.trim() || undefined });
      setNote('');
    });
  };
  return (
    <form className="triage" onSubmit={(e) => void submit(e)} aria-label={title}>
      <h3>{title}</h3>
      <label>
        Status
        <select value={status} onChange={(e) => setStatus(e.target.value as FindingStatus)}>
          <Options values={FINDING_STATUSES} label={humanize} />
        </select>
      </label>
      {needsReason && (
        <label>
          Reason
          <select value={reason} aria-required="true" onChange={(e) => setReason(e.target.value as DismissedReason)}>
            <option value="">Choose a reason…</option>
            <Options values={DISMISSED_REASONS} label={humanize} />
          </select>
        </label>
      )}
      <label>
        Note
        <textarea rows={2} maxLength={4000} value={note} onChange={(e) => setNote(e.target.value)} />
      </label>
      <InlineError error={error} />
      <div className="dialog-actions">
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Save triage
        </button>
      </div>
    </form>
  );
}
