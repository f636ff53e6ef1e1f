import { useState } from 'react';
import type { TreeEntry } from '../api/types';
import { useApi } from '../app-context';
import { formatBytes } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { CodeView } from './CodeView';
import { Async, Empty } from './States';

/** Browses a snapshot one directory at a time and shows a selected file as text. */
export function FileBrowser({ repositoryId, snapshotId }: { repositoryId: string; snapshotId: string }) {
  const api = useApi();
  const [dir, setDir] = useState('');
  const [file, setFile] = useState<string | null>(null);
  const tree = useAsync(() => api.tree(repositoryId, dir, snapshotId), [repositoryId, snapshotId, dir]);
  const content = useAsync(() => (file ? api.file(repositoryId, file, snapshotId) : Promise.resolve(null)), [repositoryId, snapshotId, file]);
  const parts = dir ? dir.split('/') : [];

  const sorted = (entries: TreeEntry[]) =>
    [...entries].sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));

  return (
    <div className="file-browser">
      <nav aria-label="Folder path" className="crumbs">
        <button type="button" className="link" onClick={() => setDir('')}>
          (root)
        </button>
        {parts.map((p, i) => (
          <span key={i}>
            {' / '}
            <button type="button" className="link" onClick={() => setDir(parts.slice(0, i + 1).join('/'))}>
              {p}
            </button>
          </span>
        ))}
      </nav>
      <div className="file-browser-body">
        <div className="file-list">
          <Async state={tree} label="Loading files…">
            {(t) =>
              t.entries.length === 0 ? (
                <Empty title="Empty folder" />
              ) : (
                <ul aria-label="Files">
                  {sorted(t.entries).map((e) => (
                    <li key={e.path}>
                      <button
                        type="button"
                        className={`link${file === e.path ? ' active' : ''}`}
                        aria-current={file === e.path ? 'true' : undefined}
                        onClick={() => (e.type === 'dir' ? setDir(e.path) : setFile(e.path))}
                      >
                        <span aria-hidden="true" className="file-glyph">{e.type === 'dir' ? '▸' : '·'}</span>
                        {e.name}
                        {e.type === 'dir' ? '/' : ''}
                      </button>
                      {e.type === 'file' && <span className="muted small"> {formatBytes(e.size)}</span>}
                    </li>
                  ))}
                </ul>
              )
            }
          </Async>
        </div>
        <div className="file-view">
          {file ? (
            <Async state={content} label="Loading file…">
              {(c) => (c ? <CodeView label={`Contents of ${c.path}`} content={c.content} truncated={c.truncated} /> : null)}
            </Async>
          ) : (
            <p className="muted">Select a file to view it.</p>
          )}
        </div>
      </div>
    </div>
  );
}
