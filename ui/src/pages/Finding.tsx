import { Link, useParams } from 'react-router-dom';
import type { Finding, Location } from '../api/types';
import { useApi, useApp } from '../app-context';
import { SeverityBadge, severityLinks, StatusBadge } from '../components/Badges';
import { CodeView } from '../components/CodeView';
import { Facts, PageHeader } from '../components/Misc';
import { Async, Empty, ErrorState, Loading } from '../components/States';
import { Trail } from '../components/Trail';
import { TriageForm } from '../components/Triage';
import { formatDate, humanize } from '../lib/format';
import { useAsync, useDocumentTitle } from '../lib/hooks';

export default function FindingPage() {
  const { findingId = '' } = useParams();
  const api = useApi();
  const { user } = useApp();
  const finding = useAsync(() => api.getFinding(findingId), [findingId]);
  const history = useAsync(() => api.findingHistory(findingId), [findingId, finding.data?.updated_at]);
  useDocumentTitle(finding.data?.title ?? 'Finding');

  if (finding.error !== undefined && !finding.data) return <ErrorState error={finding.error} onRetry={() => finding.reload()} />;
  if (!finding.data) return <Loading label="Loading finding…" />;
  const f = finding.data;
  const locations: Location[] = f.locations && f.locations.length > 0 ? f.locations : f.file_path ? [{ file_path: f.file_path, start_line: f.start_line, end_line: f.end_line }] : [];

  return (
    <section>
      <PageHeader
        crumbs={<Trail projectId={f.project_id} repositoryId={f.repository_id} tail={<Link to={`/repositories/${f.repository_id}/findings`}>Findings</Link>} />}
        title={f.title}
      />
      <Facts
        items={[
          ['Severity', <SeverityBadge key="s" severity={f.severity} to={severityLinks.repository(f.repository_id)(f.severity)} />],
          ['Confidence', humanize(f.confidence) || '—'],
          ['CWE', (f.cwe ?? []).length ? (f.cwe ?? []).join(', ') : '—'],
          ['Category', f.category || '—'],
          ['Engine', f.engine],
          ['Status', <StatusBadge key="st" status={f.status} />],
          ...(f.dismissed_reason ? ([['Dismissed as', humanize(f.dismissed_reason)]] as [string, string][]) : []),
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
          <h2>Code</h2>
          {locations.length === 0 ? <p className="muted">This finding has no code location.</p> : <Locations finding={f} locations={locations} />}
        </div>
        <aside>
          <div className="panel">
            <TriageForm
              title="Triage"
              initialStatus={f.status === 'open' ? 'dismissed' : f.status}
              onSubmit={async (req) => finding.setData(await api.triageFinding(f.id, req))}
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
                  <ol className="history">
                    {items.map((h) => (
                      <li key={h.id || h.at}>
                        <span className="muted small">{formatDate(h.at)}</span> <strong>{h.actor === user?.id ? (user.display_name || user.email) : h.actor}</strong>: {humanize(h.from_status) || 'new'} →{' '}
                        {humanize(h.to_status)}
                        {h.reason && <> ({humanize(h.reason)})</>}
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
    </section>
  );
}

/** Loads each location's file from the snapshot the finding's scan ran on. */
function Locations({ finding, locations }: { finding: Finding; locations: Location[] }) {
  const api = useApi();
  const scan = useAsync(() => api.getScan(finding.last_seen_scan_id || finding.scan_id), [finding.scan_id, finding.last_seen_scan_id]);
  return (
    <Async state={scan} label="Loading code…">
      {(s) => (
        <>
          {locations.map((l, i) => (
            <LocationCode key={`${l.file_path}:${l.start_line}:${i}`} repositoryId={finding.repository_id} snapshotId={s.snapshot_id} location={l} />
          ))}
        </>
      )}
    </Async>
  );
}

function LocationCode({ repositoryId, snapshotId, location }: { repositoryId: string; snapshotId: string; location: Location }) {
  const api = useApi();
  const file = useAsync(() => api.file(repositoryId, location.file_path, snapshotId), [repositoryId, snapshotId, location.file_path]);
  const where = `${location.file_path}${location.start_line ? `:${location.start_line}${location.end_line > location.start_line ? `-${location.end_line}` : ''}` : ''}`;
  return (
    <div className="location">
      <h3 className="mono small">
        {where}
        {location.role ? <span className="muted"> · {location.role}</span> : null}
      </h3>
      {location.note && <p className="small">{location.note}</p>}
      <Async state={file} label="Loading file…">
        {(c) => (
          <CodeView
            label={`Code at ${where}`}
            content={c.content}
            truncated={c.truncated}
            ranges={location.start_line ? [{ start: location.start_line, end: location.end_line || location.start_line }] : []}
            context={location.start_line ? 6 : undefined}
          />
        )}
      </Async>
    </div>
  );
}
