import { Link, useParams, useSearchParams } from 'react-router-dom';
import { useApi } from '../app-context';
import { FileBrowser } from '../components/FileBrowser';
import { PageHeader } from '../components/Misc';
import { ErrorState, Loading } from '../components/States';
import { Trail } from '../components/Trail';
import { useAsync, useDocumentTitle } from '../lib/hooks';

/**
 * The file browser on its own page, addressable down to a line:
 * /repositories/:id/files?file=src/a.py&line=12[&snapshot=…]. A finding's
 * occurrences link here with the snapshot its scan read.
 */
export default function FilesPage() {
  const { repositoryId = '' } = useParams();
  const [params] = useSearchParams();
  const api = useApi();
  const repo = useAsync(() => api.getRepository(repositoryId), [repositoryId]);
  const file = params.get('file');
  useDocumentTitle(file ? `${file} · Files` : 'Files');
  if (repo.error !== undefined && !repo.data) return <ErrorState error={repo.error} onRetry={() => repo.reload()} />;
  if (!repo.data) return <Loading label="Loading repository…" />;
  const r = repo.data;
  const snapshotId = params.get('snapshot') || r.latest_snapshot_id;
  return (
    <section>
      <PageHeader crumbs={<Trail projectId={r.project_id} repositoryId={r.id} tail="Files" />} title={`Files of ${r.name}`} />
      {snapshotId !== r.latest_snapshot_id && (
        <p className="muted small">
          Showing the snapshot the finding's scan read, not the latest. <Link to={`?${latestParams(params)}`}>Show the latest snapshot</Link>
        </p>
      )}
      {snapshotId ? <FileBrowser key={snapshotId} repositoryId={r.id} snapshotId={snapshotId} /> : <p className="muted">No snapshot yet.</p>}
    </section>
  );
}

function latestParams(params: URLSearchParams): string {
  const n = new URLSearchParams(params);
  n.delete('snapshot');
  return n.toString();
}
