import { Link } from 'react-router-dom';
import { useApi } from '../app-context';
import { useAsync } from '../lib/hooks';

/** Breadcrumb "Projects / <project> / <repository>" with names looked up by id. */
export function Trail({ projectId, repositoryId, tail }: { projectId: string; repositoryId?: string; tail?: React.ReactNode }) {
  const api = useApi();
  const project = useAsync(() => api.getProject(projectId), [projectId]);
  const repo = useAsync(() => (repositoryId ? api.getRepository(repositoryId) : Promise.resolve(null)), [repositoryId]);
  return (
    <>
      <Link to="/">Projects</Link> / <Link to={`/projects/${projectId}`}>{project.data?.name ?? 'Project'}</Link>
      {repositoryId && (
        <>
          {' / '}
          <Link to={`/repositories/${repositoryId}`}>{repo.data?.name ?? 'Repository'}</Link>
        </>
      )}
      {tail && <> / {tail}</>}
    </>
  );
}
