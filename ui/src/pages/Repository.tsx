import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useApi } from '../app-context';
import { StatusBadge } from '../components/Badges';
import { ConfirmDelete } from '../components/Dialog';
import { FileBrowser } from '../components/FileBrowser';
import { Facts, PageHeader, Pager } from '../components/Misc';
import { OpenFindingsSection } from '../components/Overview';
import { ScansTable } from '../components/ScansTable';
import { StartScan } from '../components/StartScan';
import { Async, Empty, ErrorState, InlineError, Loading } from '../components/States';
import { Trail } from '../components/Trail';
import { ThreatProfilePanel } from '../components/ThreatProfilePanel';
import { formatBytes, formatDate, formatNumber, humanize } from '../lib/format';
import { useAsync, useDocumentTitle, useInterval, usePaged } from '../lib/hooks';

export default function RepositoryPage() {
  const { repositoryId = '' } = useParams();
  const api = useApi();
  const navigate = useNavigate();
  const repo = useAsync(() => api.getRepository(repositoryId), [repositoryId]);
  const snapshots = useAsync(() => api.listSnapshots(repositoryId, { limit: 20 }), [repositoryId, repo.data?.latest_snapshot_id]);
  const scans = usePaged((cursor) => api.listRepositoryScans(repositoryId, { cursor, limit: 20 }), [repositoryId]);
  const lastFinished = scans.data?.items.find((s) => s.finished_at)?.id;
  const overview = useAsync(() => api.repositoryOverview(repositoryId), [repositoryId, lastFinished]);
  const [deleting, setDeleting] = useState(false);
  const [reingestError, setReingestError] = useState<unknown>(null);
  useDocumentTitle(repo.data?.name ?? 'Repository');

  const ingesting = repo.data?.ingest_status === 'pending' || repo.data?.ingest_status === 'ingesting';
  useInterval(() => repo.reload(true), 1500, ingesting);
  const scanActive = (scans.data?.items ?? []).some((s) => ['queued', 'claimed', 'running'].includes(s.status));
  useInterval(() => scans.reload(true), 3000, scanActive);

  if (repo.error !== undefined && !repo.data) return <ErrorState error={repo.error} onRetry={() => repo.reload()} />;
  if (!repo.data) return <Loading label="Loading repository…" />;
  const r = repo.data;
  const snapshot = snapshots.data?.items.find((s) => s.id === r.latest_snapshot_id) ?? snapshots.data?.items[0];
  const ready = r.ingest_status === 'ready';

  return (
    <section>
      <PageHeader
        crumbs={<Trail projectId={r.project_id} />}
        title={
          <>
            {r.name} <StatusBadge status={r.ingest_status} />
          </>
        }
        actions={
          <>
            <Link to={`/repositories/${r.id}/findings`} className="button">
              Findings
            </Link>
            {r.source_type === 'git' && (
              <button
                type="button"
                disabled={ingesting}
                onClick={() => {
                  setReingestError(null);
                  api
                    .reingestRepository(r.id)
                    .then((x) => repo.setData(x))
                    .catch(setReingestError);
                }}
              >
                Re-ingest
              </button>
            )}
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        }
      />
      <InlineError error={reingestError} />
      {ingesting && (
        <p role="status" className="notice">
          <span className="spinner" aria-hidden="true" /> Ingesting the source… this page updates by itself.
        </p>
      )}
      {r.ingest_status === 'failed' && (
        <p role="alert" className="banner banner-bad">
          Ingest failed{r.ingest_error ? `: ${r.ingest_error.message} (${r.ingest_error.code})` : '.'}
        </p>
      )}

      <OpenFindingsSection overview={overview} findingsPath={`/repositories/${r.id}/findings`} trendTitle="Open findings per day, last 30 days" />

      <h2>Snapshot</h2>
      {snapshot ? (
        <Facts
          items={[
            ['Source', `${humanize(r.source_type)}${r.git_url ? ` · ${r.git_url}` : ''}${r.git_ref ? ` @ ${r.git_ref}` : ''}`],
            ['Commit', snapshot.commit_sha ? <span className="mono">{snapshot.commit_sha.slice(0, 12)}</span> : '—'],
            ['Files', formatNumber(snapshot.file_count)],
            ['Size', formatBytes(snapshot.total_bytes)],
            [
              'Languages',
              Object.entries(snapshot.languages ?? {})
                .sort((a, b) => b[1] - a[1])
                .slice(0, 6)
                .map(([l, b]) => `${l} (${formatBytes(b)})`)
                .join(', ') || '—',
            ],
            ['Skipped', `${snapshot.skipped?.symlinks ?? 0} symlinks, ${snapshot.skipped?.ignored ?? 0} ignored, ${snapshot.skipped?.oversized ?? 0} oversized`],
            ['Taken', formatDate(snapshot.created_at)],
          ]}
        />
      ) : snapshots.error !== undefined ? (
        <ErrorState error={snapshots.error} onRetry={() => snapshots.reload()} />
      ) : ready ? (
        <Loading label="Loading snapshot…" />
      ) : (
        <p className="muted">No snapshot yet.</p>
      )}

      {ready && <StartScan repo={r} onStarted={(id) => navigate(`/scans/${id}`)} />}

      <ThreatProfilePanel repositoryId={r.id} canGenerate={ready} />

      <h2>Scan history</h2>
      <Async state={scans} label="Loading scans…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty title="No scans yet">{ready ? <p>Start one above.</p> : <p>Scans can start once the repository is ready.</p>}</Empty>
          ) : (
            <>
              <ScansTable scans={page.items} caption="Scan history" />
              <Pager page={scans.page} hasPrev={scans.hasPrev} hasNext={scans.hasNext} onPrev={scans.prev} onNext={scans.next} total={page.total} />
            </>
          )
        }
      </Async>

      {snapshot && (
        <>
          <h2>Files</h2>
          <FileBrowser repositoryId={r.id} snapshotId={snapshot.id} />
        </>
      )}

      {deleting && (
        <ConfirmDelete
          what={`repository “${r.name}”`}
          consequence="Its snapshots, scans and findings are deleted too. This cannot be undone."
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await api.deleteRepository(r.id);
            navigate(`/projects/${r.project_id}`, { replace: true });
          }}
        />
      )}
    </section>
  );
}
