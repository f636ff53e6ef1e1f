import { useEffect, useState } from 'react';
import type { ThreatProfile, ThreatProfileContent } from '../api/types';
import { SEVERITIES } from '../api/types';
import { useApi } from '../app-context';
import { formatDate, humanize, linesOf } from '../lib/format';
import { useAction, useAsync, useInterval, useSubmit } from '../lib/hooks';
import { StatusBadge } from './Badges';
import { Async, InlineError } from './States';
import { ConfirmAction, Dialog, FormActions } from './Dialog';
import { Options } from './Options';

type ListField = 'assets' | 'entry_points' | 'trust_boundaries' | 'focus' | 'out_of_scope';
export const LIST_FIELDS: [ListField, string, string][] = [
  ['assets', 'Assets', 'What must be protected, one per line'],
  ['entry_points', 'Entry points', 'Where untrusted input enters, one per line'],
  ['trust_boundaries', 'Trust boundaries', 'One per line'],
  ['focus', 'Focus', 'Bug classes to prioritise, one per line'],
  ['out_of_scope', 'Out of scope', 'Paths or classes to skip, one per line'],
];

interface Draft {
  summary: string;
  lists: Record<ListField, string>;
  severity_threshold: string;
}

function toDraft(c: ThreatProfileContent | undefined): Draft {
  const lists = {} as Record<ListField, string>;
  for (const [k] of LIST_FIELDS) lists[k] = (c?.[k] ?? []).join('\n');
  return { summary: c?.summary ?? '', lists, severity_threshold: c?.severity_threshold ?? '' };
}

export function fromDraft(d: Draft): ThreatProfileContent {
  return {
    summary: d.summary.trim(),
    assets: linesOf(d.lists.assets),
    entry_points: linesOf(d.lists.entry_points),
    trust_boundaries: linesOf(d.lists.trust_boundaries),
    focus: linesOf(d.lists.focus),
    out_of_scope: linesOf(d.lists.out_of_scope),
    severity_threshold: d.severity_threshold,
  };
}

/** Which engines honour out_of_scope (docs/threat-profile.md). */
export const OUT_OF_SCOPE_NOTE =
  'The Codex AI audit skips these paths. The secrets engine scans them anyway: a secret leaked in a test or vendor folder is still leaked.';

/** Threat profile: view, generate (async, polled), edit every field, and restore a kept version. */
export function ThreatProfilePanel({ repositoryId, canGenerate }: { repositoryId: string; canGenerate: boolean }) {
  const api = useApi();
  const profile = useAsync(() => api.getThreatProfile(repositoryId), [repositoryId]);
  const [editing, setEditing] = useState(false);
  const [confirmGenerate, setConfirmGenerate] = useState(false);
  const [history, setHistory] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const generating = profile.data?.status === 'generating';
  useInterval(() => profile.reload(true), 2000, generating);

  const generate = async () => {
    setError(null);
    try {
      profile.setData(await api.generateThreatProfile(repositoryId));
    } catch (e) {
      setError(e);
    }
  };
  // A person's edits (or a version they chose) are not replaced without asking.
  const manual = profile.data?.source === 'edited' || profile.data?.source === 'restored';

  return (
    <section className="panel" aria-labelledby="tp-title">
      <div className="section-head">
        <h2 id="tp-title">Threat profile</h2>
        <div className="actions">
          {profile.data && <StatusBadge status={profile.data.status} />}
          <button type="button" onClick={() => (manual ? setConfirmGenerate(true) : void generate())} disabled={generating || !canGenerate}>
            {generating ? 'Generating…' : 'Generate'}
          </button>
          {!editing && (
            <button type="button" onClick={() => setEditing(true)} disabled={!profile.data || generating}>
              Edit
            </button>
          )}
          <button type="button" onClick={() => setHistory(true)} disabled={!profile.data}>
            History
          </button>
        </div>
      </div>
      <InlineError error={error} />
      <Async state={profile} label="Loading threat profile…">
        {(tp) =>
          editing ? (
            <ThreatProfileEditor
              profile={tp}
              onCancel={() => setEditing(false)}
              onSave={async (content) => {
                profile.setData(await api.putThreatProfile(repositoryId, content));
                setEditing(false);
              }}
            />
          ) : (
            <ThreatProfileView profile={tp} />
          )
        }
      </Async>
      {confirmGenerate && profile.data && (
        <ConfirmAction
          title="Replace your edits?"
          confirmLabel="Generate and replace"
          onClose={() => setConfirmGenerate(false)}
          onConfirm={async () => {
            await generate();
            setConfirmGenerate(false);
          }}
        >
          <p>
            This profile was {profile.data.source === 'restored' ? 'restored from an earlier version' : 'edited by hand'} on{' '}
            {formatDate(profile.data.updated_at)}. Generating replaces it with one derived from the code. The current profile stays in History and
            can be restored.
          </p>
        </ConfirmAction>
      )}
      {history && (
        <ProfileHistory
          repositoryId={repositoryId}
          current={profile.data}
          onClose={() => setHistory(false)}
          onRestored={(tp) => {
            profile.setData(tp);
            setEditing(false);
            setHistory(false);
          }}
        />
      )}
    </section>
  );
}

/** The kept versions, newest first, each restorable but the one in use. */
function ProfileHistory({
  repositoryId,
  current,
  onClose,
  onRestored,
}: {
  repositoryId: string;
  current: ThreatProfile | undefined;
  onClose: () => void;
  onRestored: (tp: ThreatProfile) => void;
}) {
  const api = useApi();
  const versions = useAsync(() => api.listThreatProfileVersions(repositoryId), [repositoryId]);
  const { busy, error, run } = useAction();
  const inUse = current?.status === 'ready' ? versions.data?.items[0]?.id : undefined;
  return (
    <Dialog title="Threat profile history" onClose={onClose} wide>
      <p className="muted small">Every generation, edit and restore is kept (the newest 50). Restoring keeps the current profile here too.</p>
      <InlineError error={error} />
      <Async state={versions} label="Loading versions…">
        {({ items }) =>
          items.length === 0 ? (
            <p className="muted">No versions yet: one is kept each time the profile is generated or saved.</p>
          ) : (
            <ol className="tp-versions" aria-label="Versions">
              {items.map((v) => (
                <li key={v.id}>
                  <div>
                    <strong>{humanize(v.source) || 'Saved'}</strong> <span className="muted small">{formatDate(v.created_at)}</span>
                    {v.id === inUse && <span className="badge status"> In use</span>}
                    <p className="small clamp">{v.content.summary || '—'}</p>
                    <p className="muted small">
                      Focus: {(v.content.focus ?? []).join(', ') || '—'} · Out of scope: {(v.content.out_of_scope ?? []).join(', ') || '—'}
                    </p>
                  </div>
                  {v.id !== inUse && (
                    <button
                      type="button"
                      disabled={busy || current?.status === 'generating'}
                      onClick={() => void run(async () => onRestored(await api.restoreThreatProfileVersion(repositoryId, v.id)))}
                    >
                      Restore
                    </button>
                  )}
                </li>
              ))}
            </ol>
          )
        }
      </Async>
    </Dialog>
  );
}

function ThreatProfileView({ profile }: { profile: ThreatProfile }) {
  const c = profile.content;
  if (profile.status === 'empty' && !c?.summary)
    return <p className="muted">No threat profile yet. Generate one from the code, or write it yourself with Edit.</p>;
  return (
    <div>
      {profile.error && (
        <p className="inline-error" role="alert">
          Generation failed: {profile.error.message}
        </p>
      )}
      <p className="muted small">
        {profile.source ? `${humanize(profile.source)} · ` : ''}updated {formatDate(profile.updated_at)}
      </p>
      <h3>Summary</h3>
      <p className="prewrap">{c?.summary || '—'}</p>
      <div className="tp-grid">
        {LIST_FIELDS.map(([k, label]) => (
          <div key={k}>
            <h3>{label}</h3>
            {k === 'out_of_scope' && <p className="muted small">{OUT_OF_SCOPE_NOTE}</p>}
            {(c?.[k] ?? []).length === 0 ? (
              <p className="muted">—</p>
            ) : (
              <ul>
                {(c?.[k] ?? []).map((x, i) => (
                  <li key={i}>{x}</li>
                ))}
              </ul>
            )}
          </div>
        ))}
        <div>
          <h3>Severity threshold</h3>
          <p>{c?.severity_threshold ? humanize(c.severity_threshold) : 'Report everything'}</p>
        </div>
      </div>
    </div>
  );
}

export function ThreatProfileEditor({
  profile,
  onSave,
  onCancel,
}: {
  profile: ThreatProfile;
  onSave: (c: ThreatProfileContent) => Promise<void>;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<Draft>(() => toDraft(profile.content));
  useEffect(() => setDraft(toDraft(profile.content)), [profile.id]);
  const { busy, error, onSubmit } = useSubmit(() => onSave(fromDraft(draft)));
  return (
    <form onSubmit={onSubmit} aria-label="Edit threat profile" className="tp-editor">
      <label>
        Summary
        <textarea rows={3} value={draft.summary} onChange={(e) => setDraft({ ...draft, summary: e.target.value })} />
      </label>
      {LIST_FIELDS.map(([k, label, hint]) => (
        <label key={k}>
          {label}
          {k === 'out_of_scope' && (
            <span id="tp-out-of-scope-note" className="muted small block">
              {OUT_OF_SCOPE_NOTE}
            </span>
          )}
          <textarea
            rows={3}
            value={draft.lists[k]}
            placeholder={hint}
            aria-label={label}
            aria-describedby={k === 'out_of_scope' ? 'tp-out-of-scope-note' : undefined}
            onChange={(e) => setDraft({ ...draft, lists: { ...draft.lists, [k]: e.target.value } })}
          />
        </label>
      ))}
      <label>
        Severity threshold
        <select value={draft.severity_threshold} onChange={(e) => setDraft({ ...draft, severity_threshold: e.target.value })}>
          <option value="">Report everything</option>
          <Options values={SEVERITIES} label={humanize} />
        </select>
      </label>
      <FormActions error={error} onCancel={onCancel} disabled={busy}>
        Save threat profile
      </FormActions>
    </form>
  );
}
