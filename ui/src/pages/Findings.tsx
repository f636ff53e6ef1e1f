import { Link, useParams } from 'react-router-dom';
import { useApi } from '../app-context';
import { FindingsView } from '../components/FindingsView';
import { PageHeader } from '../components/Misc';
import { ErrorState } from '../components/States';
import { useAsync, useDocumentTitle } from '../lib/hooks';

/** Findings of a project (/projects/:id/findings) or a repository (/repositories/:id/findings). */
export default function FindingsPage() {
  const { projectId, repositoryId } = useParams();
  const api = useApi();
  const owner = useAsync(async () => {
    if (repositoryId) {
      const r = await api.getRepository(repositoryId);
      return { name: r.name, link: `/repositories/${r.id}`, projectId: r.project_id };
    }
    const p = await api.getProject(projectId ?? '');
    return { name: p.name, link: `/projects/${p.id}`, projectId: p.id };
  }, [projectId, repositoryId]);
  useDocumentTitle('Findings');
  if (owner.error !== undefined && !owner.data) return <ErrorState error={owner.error} onRetry={() => owner.reload()} />;
  return (
    <section>
      <PageHeader
        crumbs={
          <>
            <Link to="/">Projects</Link>
            {owner.data && (
              <>
                {' / '}
                <Link to={owner.data.link}>{owner.data.name}</Link>
              </>
            )}
          </>
        }
        title="Findings"
      />
      {repositoryId ? (
        <FindingsView scope={{ kind: 'repository', id: repositoryId }} />
      ) : (
        <FindingsView scope={{ kind: 'project', id: projectId ?? '' }} />
      )}
    </section>
  );
}
