import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import type { Repository, RepositoryRollup } from '../api/types';
import { useApi } from '../app-context';
import { AddRepositoryDialog } from '../components/AddRepository';
import { SeverityCounts, severityLinks, StatusBadge } from '../components/Badges';
import { DataTable } from '../components/DataTable';
import { ConfirmDelete } from '../components/Dialog';
import { FindingsView } from '../components/FindingsView';
import { Facts, PageHeader, Pager, SectionHead } from '../components/Misc';
import { OpenFindingsSection } from '../components/Overview';
import { ScansTable } from '../components/ScansTable';
import { Async, Empty, ErrorState, Loading } from '../components/States';
import { ProjectWebhooks } from '../components/Webhooks';
import { formatAge, humanize } from '../lib/format';
import { useAsync, useDocumentTitle, useInterval, usePaged } from '../lib/hooks';
import { PROJECT_DELETE_CONSEQUENCE, projectWhat, RenameProjectDialog } from './Projects';

export default function ProjectPage() {
  const { projectId = '' } = useParams();
  const api = useApi();
  const navigate = useNavigate();
  const project = useAsync(() => api.getProject(projectId), [projectId]);
  const repos = usePaged((cursor) => api.listProjectRepositories(projectId, { cursor, limit: 100 }), [projectId]);
  const scans = useAsync(() => api.listProjectScans(projectId, { limit: 20 }), [projectId]);
  // One request for every rollup of the page (open findings, trend, each
  // repository's open findings and last scan), refreshed with the scans.
  const overview = useAsync(() => api.projectOverview(projectId), [projectId]);
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [savingSuppressions, setSavingSuppressions] = useState(false);
  useDocumentTitle(project.data?.name ?? 'Project');

  const busyIngest = (repos.data?.items ?? []).some((r) => r.ingest_status === 'pending' || r.ingest_status === 'ingesting');
  const activeScans = (scans.data?.items ?? []).some((s) => ['queued', 'claimed', 'running'].includes(s.status));
  useInterval(() => repos.reload(true), 2000, busyIngest);
  useInterval(
    () => {
      scans.reload(true);
      project.reload(true);
      overview.reload(true);
    },
    3000,
    activeScans,
  );

  if (project.error !== undefined && !project.data) return <ErrorState error={project.error} onRetry={() => project.reload()} />;
  if (!project.data) return <Loading label="Loading project…" />;
  const p = project.data;

  return (
    <section>
      <PageHeader
        crumbs={<Link to="/">Projects</Link>}
        title={p.name}
        actions={
          <>
            <button type="button" onClick={() => setEditing(true)}>
              Rename
            </button>
            <button type="button" className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        }
      />
      {p.description && <p className="muted">{p.description}</p>}
      <Facts
        items={[
          ['Repositories', p.repository_count ?? 0],
          ['Active scans', p.active_scans ?? 0],
          ['Last scan', p.last_scan_at ? formatAge(p.last_scan_at) : 'Never'],
        ]}
      />
      <OpenFindingsSection overview={overview} findingsPath={`/projects/${p.id}/findings`} trendTitle="Open findings per day across the project, last 30 days" />
      <label className="muted small" title="Off: findings suppressed by gitleaks:allow, .gitleaksignore or vega:ignore come back open on the next scan (for reviewing untrusted code).">
        <input
          type="checkbox"
          checked={p.honor_suppressions}
          disabled={savingSuppressions}
          onChange={async (e) => {
            setSavingSuppressions(true);
            try {
              project.setData({ ...p, ...(await api.updateProject(p.id, { honor_suppressions: e.target.checked })) });
            } finally {
              setSavingSuppressions(false);
            }
          }}
        />{' '}
        Honour in-source suppressions (gitleaks:allow, .gitleaksignore, vega:ignore)
      </label>

      <SectionHead title="Repositories" action="Add repository" onAction={() => setAdding(true)} />
      <Async state={repos} label="Loading repositories…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty title="No repositories yet">
              <p>Add one from a Git URL, an archive upload, or a git push.</p>
            </Empty>
          ) : (
            <>
              <RepositoriesTable repos={page.items} rollups={rollupsById(overview.data?.repositories)} loading={overview.loading && !overview.data} />
              <Pager page={repos.page} hasPrev={repos.hasPrev} hasNext={repos.hasNext} onPrev={repos.prev} onNext={repos.next} total={page.total} />
            </>
          )
        }
      </Async>

      <h2>Recent scans</h2>
      <Async state={scans} label="Loading scans…">
        {(page) =>
          page.items.length === 0 ? (
            <Empty title="No scans yet" />
          ) : (
            <ScansTable scans={page.items} caption="Project scans" repositories={Object.fromEntries((overview.data?.repositories ?? []).map((r) => [r.id, r.name]))} />
          )
        }
      </Async>

      <div className="section-head">
        <h2>Findings</h2>
        <Link to={`/projects/${p.id}/findings`}>Open findings view</Link>
      </div>
      <FindingsView scope={{ kind: 'project', id: p.id }} pageSize={20} />

      <ProjectWebhooks projectId={p.id} />

      {adding && (
        <AddRepositoryDialog
          projectId={p.id}
          onClose={() => setAdding(false)}
          onCreated={(r) => {
            setAdding(false);
            repos.reload(true);
            project.reload(true);
            overview.reload(true);
            if (r) navigate(`/repositories/${r.id}`);
          }}
        />
      )}
      {editing && (
        <RenameProjectDialog
          project={p}
          onClose={() => setEditing(false)}
          onSaved={(saved) => {
            project.setData({ ...p, ...saved });
            setEditing(false);
          }}
        />
      )}
      {deleting && (
        <ConfirmDelete
          what={projectWhat(p)}
          consequence={PROJECT_DELETE_CONSEQUENCE}
          onClose={() => setDeleting(false)}
          onConfirm={() => api.deleteProject(p.id).then(() => navigate('/', { replace: true }))}
        />
      )}
    </section>
  );
}

function rollupsById(rs: RepositoryRollup[] | undefined): Map<string, RepositoryRollup> {
  return new Map((rs ?? []).map((r) => [r.id, r]));
}

/** A repository's open findings now and its last scan, from the project overview. */
function RollupCells({ rollup, loading }: { rollup: RepositoryRollup | undefined; loading: boolean }) {
  if (!rollup)
    return (
      <>
        <td className="muted">{loading ? '…' : 'Never'}</td>
        <td className="muted">{loading ? '…' : <SeverityCounts counts={undefined} compact />}</td>
      </>
    );
  const s = rollup.last_scan;
  return (
    <>
      <td>
        {s ? (
          <>
            <Link to={`/scans/${s.id}`}>{formatAge(s.finished_at ?? s.created_at)}</Link> <StatusBadge status={s.status} />
          </>
        ) : (
          <span className="muted">Never</span>
        )}
      </td>
      <td>
        <SeverityCounts counts={rollup.open_counts} compact to={severityLinks.repository(rollup.id)} />
      </td>
    </>
  );
}

function RepositoriesTable({ repos, rollups, loading }: { repos: Repository[]; rollups: Map<string, RepositoryRollup>; loading: boolean }) {
  return (
    <DataTable caption="Repositories" columns={['Name', 'Source', 'Ingest', 'Last scan', 'Open findings']}>
      {repos.map((r) => (
        <tr key={r.id}>
          <td>
            <Link to={`/repositories/${r.id}`}>{r.name}</Link>
          </td>
          <td>
            {humanize(r.source_type)}
            {r.git_url ? <span className="muted small mono"> {r.git_url}</span> : null}
          </td>
          <td>
            <StatusBadge status={r.ingest_status} />
            {r.ingest_error && <span className="inline-error small"> {r.ingest_error.message}</span>}
          </td>
          <RollupCells rollup={rollups.get(r.id)} loading={loading} />
        </tr>
      ))}
    </DataTable>
  );
}
