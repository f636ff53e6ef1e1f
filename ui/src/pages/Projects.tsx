import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { Project } from '../api/types';
import { useApi } from '../app-context';
import { SeverityCounts, severityLinks } from '../components/Badges';
import { ConfirmRowDelete, Dialog, FormActions } from '../components/Dialog';
import { PageHeader, Pager } from '../components/Misc';
import { Empty, ErrorState, Loading } from '../components/States';
import { formatAge } from '../lib/format';
import { useDialog, useDocumentTitle, usePaged, useSubmit } from '../lib/hooks';

export function ProjectsPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const editing = useDialog<Project>();
  const deleting = useDialog<Project>();
  const list = usePaged((cursor) => api.listProjects({ cursor, limit: 48 }), []);
  useDocumentTitle('Projects');

  return (
    <section>
      <PageHeader
        title="Projects"
        actions={
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            New project
          </button>
        }
      />
      {list.error !== undefined && !list.data ? (
        <ErrorState error={list.error} onRetry={() => list.reload()} />
      ) : !list.data ? (
        <Loading label="Loading projects…" />
      ) : list.data.items.length === 0 ? (
        <Empty title="No projects yet">
          <p>A project groups the repositories you scan. Create one to add a repository.</p>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create your first project
          </button>
        </Empty>
      ) : (
        <>
          <ul className="cards" aria-label="Projects">
            {list.data.items.map((p) => (
              <li key={p.id} className="card">
                <h2>
                  <Link to={`/projects/${p.id}`}>{p.name}</Link>
                </h2>
                {p.description && <p className="muted">{p.description}</p>}
                <dl className="card-stats">
                  <div>
                    <dt>Repositories</dt>
                    <dd>{p.repository_count ?? 0}</dd>
                  </div>
                  <div>
                    <dt>Active scans</dt>
                    <dd>{p.active_scans ?? 0}</dd>
                  </div>
                  <div>
                    <dt>Last scan</dt>
                    <dd>{p.last_scan_at ? formatAge(p.last_scan_at) : 'Never'}</dd>
                  </div>
                </dl>
                <div className="card-findings">
                  <span className="small muted">Open findings</span>
                  <SeverityCounts counts={p.open_finding_counts} compact to={severityLinks.project(p.id)} />
                </div>
                <div className="card-actions">
                  <button type="button" className="ghost small" onClick={() => editing.open(p)} aria-label={`Rename ${p.name}`}>
                    Rename
                  </button>
                  <button type="button" className="ghost small danger" onClick={() => deleting.open(p)} aria-label={`Delete ${p.name}`}>
                    Delete
                  </button>
                </div>
              </li>
            ))}
          </ul>
          <Pager page={list.page} hasPrev={list.hasPrev} hasNext={list.hasNext} onPrev={list.prev} onNext={list.next} total={list.data.total} />
        </>
      )}
      {creating && (
        <ProjectForm
          title="New project"
          submitLabel="Create project"
          onClose={() => setCreating(false)}
          onSubmit={async (name, description) => {
            const p = await api.createProject({ name, description });
            navigate(`/projects/${p.id}`);
          }}
        />
      )}
      {editing.item && (
        <RenameProjectDialog
          project={editing.item}
          onClose={editing.close}
          onSaved={() => {
            editing.close();
            list.reload(true);
          }}
        />
      )}
      <ConfirmRowDelete dialog={deleting} list={list} what={projectWhat} consequence={PROJECT_DELETE_CONSEQUENCE} remove={(p) => api.deleteProject(p.id)} />
    </section>
  );
}

/** What deleting a project takes with it: the list and the project's page say it alike. */
export const PROJECT_DELETE_CONSEQUENCE = 'Every repository, snapshot, scan and finding in it is deleted too. This cannot be undone.';
/** ConfirmDelete's `what` for a project, on the list and the project's page. */
export const projectWhat = (p: Project) => `project “${p.name}”`;

/** "Rename project", from the list or the project's page; onSaved gets the project as saved. */
export function RenameProjectDialog({ project, onClose, onSaved }: { project: Project; onClose: () => void; onSaved: (p: Project) => void }) {
  const api = useApi();
  return (
    <ProjectForm
      title="Rename project"
      submitLabel="Save"
      initial={project}
      onClose={onClose}
      onSubmit={async (name, description) => onSaved(await api.updateProject(project.id, { name, description }))}
    />
  );
}

function ProjectForm({
  title,
  submitLabel,
  initial,
  onClose,
  onSubmit,
}: {
  title: string;
  submitLabel: string;
  initial?: Project;
  onClose: () => void;
  onSubmit: (name: string, description: string) => Promise<void>;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const submit = useSubmit(() => onSubmit(name.trim(), description.trim()));
  return (
    <Dialog title={title} onClose={onClose}>
      <form onSubmit={submit.onSubmit}>
        <label>
          Name
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Description
          <textarea rows={3} maxLength={2000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <FormActions error={submit.error} onCancel={onClose} disabled={submit.busy || !name.trim()}>
          {submitLabel}
        </FormActions>
      </form>
    </Dialog>
  );
}
