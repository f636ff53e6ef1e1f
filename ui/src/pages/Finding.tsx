import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { FindingHistory, TriageRequest } from '../api/types';
import { useApi, useApp } from '../app-context';
import { SeverityBadge, severityLinks, StatusBadge } from '../components/Badges';
import { Dialog } from '../components/Dialog';
import { DismissMenu } from '../components/DismissMenu';
import { Facts, PageHeader } from '../components/Misc';
import { Occurrences, useOccurrencePage } from '../components/Occurrences';
import { Async, Empty, ErrorState, InlineError, Loading } from '../components/States';
import { Trail } from '../components/Trail';
import { TriageForm } from '../components/Triage';
import { formatDate, humanize } from '../lib/format';
import { useAsync, useDocumentTitle } from '../lib/hooks';
import { useListNav } from '../lib/listNav';
import { useShortcuts } from '../lib/shortcuts';

export const SHORTCUTS: [string, string][] = [
  ['j', 'Next finding in the list'],
  ['k', 'Previous finding in the list'],
  ['c', 'Confirm'],
  ['d', 'Dismiss (choose a reason)'],
  ['?', 'Show these shortcuts'],
];

export default function FindingPage() {
  const { findingId = '' } = useParams();
  const api = useApi();
  const { user } = useApp();
  const finding = useAsync(() => api.getFinding(findingId), [findingId]);
  // All three start at once: the page waits for none of them to ask for the others.
  const history = useAsync(() => api.findingHistory(findingId), [findingId]);
  const occurrences = useOccurrencePage(findingId);
  const nav = useListNav(findingId);
  const [dismissOpen, setDismissOpen] = useState(false);
  const [help, setHelp] = useState(false);
  const [dialog, setDialog] = useState(false);
  const [busy, setBusy] = useState(false);
  const [triageError, setTriageError] = useState<unknown>(null);
  useDocumentTitle(finding.data?.title ?? 'Finding');

  const f = finding.data?.id === findingId ? finding.data : undefined;
  const triage = async (req: TriageRequest) => {
    if (!f || busy) return;
    setBusy(true);
    setTriageError(null);
    try {
      finding.setData(await api.triageFinding(f.id, req));
      history.reload(true);
    } catch (e) {
      setTriageError(e);
    } finally {
      setBusy(false);
    }
  };
  useShortcuts(
    {
      j: nav.next,
      k: nav.prev,
      c: () => void triage({ status: 'confirmed' }),
      d: () => f && setDismissOpen(true),
      '?': () => setHelp(true),
    },
    !help && !dialog && !dismissOpen,
  );

  if (finding.error !== undefined && !finding.data) return <ErrorState error={finding.error} onRetry={() => finding.reload()} />;
  if (!f) return <Loading label="Loading finding…" />;

  return (
    <section className="finding-page">
      <PageHeader
        crumbs={
          <Trail
            projectId={f.project_id}
            repositoryId={f.repository_id}
            tail={<Link to={nav.ctx?.back ?? `/repositories/${f.repository_id}/findings`}>Findings</Link>}
          />
        }
        title={f.title}
        actions={
          <div className="finding-actions" role="group" aria-label="Triage">
            <span className="finding-status" data-testid="finding-status">
              <StatusBadge status={f.status} />
              {f.status === 'dismissed' && f.dismissed_reason ? <span className="small"> as {humanize(f.dismissed_reason)}</span> : null}
            </span>
            {f.status !== 'confirmed' && (
              <button type="button" disabled={busy} onClick={() => void triage({ status: 'confirmed' })} aria-keyshortcuts="c">
                Confirm
              </button>
            )}
            <DismissMenu
              open={dismissOpen}
              onOpenChange={setDismissOpen}
              disabled={busy}
              current={f.status === 'dismissed' ? f.dismissed_reason : undefined}
              onDismiss={(reason) => void triage({ status: 'dismissed', dismissed_reason: reason })}
            />
            {f.status !== 'open' && (
              <button type="button" disabled={busy} onClick={() => void triage({ status: 'open' })}>
                Reopen
              </button>
            )}
          </div>
        }
      />
      <InlineError error={triageError} />
      <ListNav nav={nav} onHelp={() => setHelp(true)} />
      <Facts
        items={[
          ['Severity', <SeverityBadge key="s" severity={f.severity} to={severityLinks.repository(f.repository_id)(f.severity)} />],
          ['Confidence', humanize(f.confidence) || '—'],
          ['CWE', (f.cwe ?? []).length ? (f.cwe ?? []).join(', ') : '—'],
          ['Rule', f.rule_id || f.category || '—'],
          ['Engine', f.engine],
          ...(f.suppression
            ? ([
                [
                  'Suppressed in source',
                  <span key="sup" title={f.suppression.text}>
                    <code>
                      {f.suppression.file_path}
                      {f.suppression.line > 0 ? `:${f.suppression.line}` : ''}
                    </code>{' '}
                    <span className="muted small">{f.suppression.text}</span>
                  </span>,
                ],
              ] as [string, React.ReactNode][])
            : []),
          [
            'Seen',
            <>
              <Link to={`/scans/${f.first_seen_scan_id}`} title={f.first_seen_scan_id}>
                First scan
              </Link>
              {' · '}
              <Link to={`/scans/${f.last_seen_scan_id || f.scan_id}`} title={f.last_seen_scan_id || f.scan_id}>
                Latest scan
              </Link>
            </>,
          ],
        ]}
      />
      <div className="finding-body">
        <div>
          <h2>Description</h2>
          <p className="prewrap">{f.description || '—'}</p>
          {f.evidence && (
            <>
              <h2>Evidence</h2>
              <pre className="evidence">{f.evidence}</pre>
            </>
          )}
          <h2>Recommendation</h2>
          <p className="prewrap">{f.recommendation || '—'}</p>
          <Occurrences finding={f} pager={occurrences} onRevealed={() => history.reload(true)} onDialog={setDialog} />
        </div>
        <aside>
          <div className="panel">
            <TriageForm
              title="Triage"
              initialStatus={f.status === 'open' ? 'dismissed' : f.status}
              onSubmit={async (req) => {
                finding.setData(await api.triageFinding(f.id, req));
                history.reload(true);
              }}
            />
            {f.triage_note && (
              <p className="small">
                <strong>Current note:</strong> <span className="prewrap">{f.triage_note}</span>
              </p>
            )}
          </div>
          <div className="panel">
            <h2>History</h2>
            <Async state={history} label="Loading history…">
              {(items) =>
                items.length === 0 ? (
                  <Empty title="No changes yet" />
                ) : (
                  <ol className="history" aria-label="History">
                    {items.map((h) => (
                      <li key={h.id || h.at}>
                        <span className="muted small">{formatDate(h.at)}</span> <strong>{h.actor === user?.id ? user.display_name || user.email : h.actor}</strong>:{' '}
                        <HistoryChange h={h} />
                        {h.note && <div className="prewrap small">{h.note}</div>}
                      </li>
                    ))}
                  </ol>
                )
              }
            </Async>
          </div>
        </aside>
      </div>
      {help && (
        <Dialog title="Keyboard shortcuts" onClose={() => setHelp(false)}>
          <dl className="shortcuts">
            {SHORTCUTS.map(([k, what]) => (
              <div key={k}>
                <dt>
                  <kbd>{k}</kbd>
                </dt>
                <dd>{what}</dd>
              </div>
            ))}
          </dl>
        </Dialog>
      )}
    </section>
  );
}

/** A history line: a status change, or a logged reveal of the secret. */
export function HistoryChange({ h }: { h: FindingHistory }) {
  if (h.reason === 'secret_revealed') return <span className="history-reveal">revealed the secret</span>;
  return (
    <>
      {humanize(h.from_status) || 'new'} → {humanize(h.to_status)}
      {h.reason && <> ({humanize(h.reason)})</>}
    </>
  );
}

function ListNav({ nav, onHelp }: { nav: ReturnType<typeof useListNav>; onHelp: () => void }) {
  return (
    <nav className="finding-nav" aria-label="Findings list">
      {nav.ctx && nav.index >= 0 ? (
        <>
          <button type="button" onClick={nav.prev} disabled={!nav.hasPrev || nav.busy} aria-keyshortcuts="k">
            ← Previous
          </button>
          <span className="small" data-testid="list-position">
            {nav.position} of {nav.ctx.total}
          </span>
          <button type="button" onClick={nav.next} disabled={!nav.hasNext || nav.busy} aria-keyshortcuts="j">
            Next →
          </button>
          <Link to={nav.ctx.back} className="small">
            Back to the list
          </Link>
        </>
      ) : null}
      <button type="button" className="ghost small" onClick={onHelp} aria-keyshortcuts="?">
        Keyboard shortcuts <kbd>?</kbd>
      </button>
      <InlineError error={nav.error} />
    </nav>
  );
}

