import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { FileMark, TreeEntry } from '../api/types';
import { useApi } from '../app-context';
import { formatBytes } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { spansOf } from '../lib/secrets';
import { SeverityBadge } from './Badges';
import { CodeView } from './CodeView';
import { RevealDialog, RevealToggle } from './Reveal';
import { Async, Empty, ErrorState, Loading } from './States';

const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');

/**
 * Browses a snapshot one directory at a time and shows a selected file as
 * text. The file and line are in the URL (?file=…&line=…), so a finding's
 * occurrence links straight to its line; lines that carry findings are
 * marked and detected secrets are masked until a logged Reveal.
 */
export function FileBrowser({ repositoryId, snapshotId }: { repositoryId: string; snapshotId: string }) {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const file = params.get('file') || null;
  const line = Number(params.get('line')) || undefined;
  const [dir, setDir] = useState(() => (file ? dirOf(file) : ''));
  const [revealed, setRevealed] = useState(false);
  const [asking, setAsking] = useState(false);
  const tree = useAsync(() => api.tree(repositoryId, dir, snapshotId), [repositoryId, snapshotId, dir]);
  const content = useAsync(() => (file ? api.file(repositoryId, file, snapshotId) : Promise.resolve(null)), [repositoryId, snapshotId, file]);
  const marks = useAsync(() => (file ? api.fileMarks(repositoryId, file) : Promise.resolve(null)), [repositoryId, file]);
  useEffect(() => setRevealed(false), [file, snapshotId]);
  const parts = dir ? dir.split('/') : [];

  const openFile = (path: string) =>
    setParams((p) => {
      const n = new URLSearchParams(p);
      n.set('file', path);
      n.delete('line');
      return n;
    });

  const sorted = (entries: TreeEntry[]) =>
    [...entries].sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));

  // Marks of another file (still shown while this one's load) must never
  // decide this file's masks: the code waits for its own.
  const fileMarks = marks.data && marks.data.path === file ? marks.data.items : null;
  const secrets = useMemo(() => (fileMarks && file ? spansOf(fileMarks, file) : []), [fileMarks, file]);
  const lineMarks = useMemo(() => markLines(fileMarks ?? []), [fileMarks]);
  const revealIds = [...new Set((fileMarks ?? []).filter((m) => m.secret).map((m) => m.finding_id))];

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
                        onClick={() => (e.type === 'dir' ? setDir(e.path) : openFile(e.path))}
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
          {!file ? (
            <p className="muted">Select a file to view it.</p>
          ) : marks.error !== undefined && !fileMarks ? (
            <ErrorState error={marks.error} onRetry={() => marks.reload()} />
          ) : !fileMarks ? (
            <Loading label="Loading file…" />
          ) : (
            <Async state={content} label="Loading file…">
              {(c) =>
                c && c.path === file ? (
                  <>
                    <div className="file-head">
                      <h3 className="mono small">
                        {c.path}
                        {line ? `:${line}` : ''}
                      </h3>
                      {revealIds.length > 0 && <RevealToggle revealed={revealed} onHide={() => setRevealed(false)} onAsk={() => setAsking(true)} />}
                    </div>
                    <CodeView
                      label={`Contents of ${c.path}`}
                      content={c.content}
                      truncated={c.truncated}
                      ranges={line ? [{ start: line, end: line }] : []}
                      focusLine={line}
                      secrets={secrets}
                      revealed={revealed}
                      marks={lineMarks}
                    />
                    <FileFindings marks={fileMarks} complete={marks.data?.complete ?? true} />
                  </>
                ) : null
              }
            </Async>
          )}
        </div>
      </div>
      {asking && (
        <RevealDialog
          onClose={() => setAsking(false)}
          onReveal={async () => {
            // each finding's history records the reveal before it is shown
            for (const id of revealIds) await api.revealFinding(id, { limit: 1, context: 0 });
            setRevealed(true);
          }}
        />
      )}
    </div>
  );
}

/** line → what the findings there are, for the gutter mark's tooltip. */
export function markLines(marks: FileMark[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of marks) {
    if (m.start_line < 1) continue;
    for (let n = m.start_line; n <= Math.max(m.start_line, m.end_line) && n < m.start_line + 1000; n++) {
      const said = `${m.severity}: ${m.title}`;
      const prev = out.get(n);
      out.set(n, prev && !prev.includes(said) ? `${prev}\n${said}` : said);
    }
  }
  return out;
}

function FileFindings({ marks, complete }: { marks: FileMark[]; complete: boolean }) {
  if (marks.length === 0) return complete ? null : <p className="muted small">This repository has more findings than one file lookup reads; some may not be marked.</p>;
  return (
    <div className="file-findings">
      <h4>Findings in this file</h4>
      <ul aria-label="Findings in this file">
        {marks.map((m, i) => (
          <li key={`${m.finding_id}:${m.start_line}:${i}`}>
            <SeverityBadge severity={m.severity} /> <Link to={`/findings/${m.finding_id}`}>{m.title}</Link>{' '}
            <span className="muted small">line {m.start_line}</span>
          </li>
        ))}
      </ul>
      {!complete && <p className="muted small">This repository has more findings than one file lookup reads; some may not be marked.</p>}
    </div>
  );
}
