import { useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../api/client';
import type { GitUpload, Repository } from '../api/types';
import { useApi } from '../app-context';
import { formatBytes, formatDate } from '../lib/format';
import { useInterval, useSubmit } from '../lib/hooks';
import { Dialog, FormActions } from './Dialog';
import { ProgressBar } from './Misc';
import { InlineError } from './States';

type Mode = 'git' | 'archive' | 'push';
const MODES: [Mode, string][] = [
  ['git', 'Git URL'],
  ['archive', 'Upload archive'],
  ['push', 'Git push'],
];

const ARCHIVE_ACCEPT = '.zip,.tar,.tgz,.tar.gz,.tar.zst,application/zip,application/x-tar,application/gzip';

/** "Add repository": clone a Git URL, upload an archive with progress, or push to a temporary remote. */
export function AddRepositoryDialog({ projectId, onClose, onCreated }: { projectId: string; onClose: () => void; onCreated: (r: Repository | null) => void }) {
  const [mode, setMode] = useState<Mode>('git');
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  // WAI-ARIA tabs with automatic activation: arrows, Home and End move focus
  // to a tab and select it; Tab leaves the tab list for the panel.
  const onTabKey = (e: React.KeyboardEvent, i: number) => {
    const last = MODES.length - 1;
    const next = { ArrowRight: i === last ? 0 : i + 1, ArrowLeft: i === 0 ? last : i - 1, Home: 0, End: last }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    setMode(MODES[next]![0]);
    tabs.current[next]?.focus();
  };
  return (
    <Dialog title="Add repository" onClose={onClose} wide>
      <div role="tablist" aria-label="Source" className="tabs">
        {MODES.map(([m, label], i) => (
          <button
            key={m}
            ref={(el) => {
              tabs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${m}`}
            aria-selected={mode === m}
            aria-controls={`panel-${m}`}
            tabIndex={mode === m ? 0 : -1}
            onClick={() => setMode(m)}
            onKeyDown={(e) => onTabKey(e, i)}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${mode}`} aria-labelledby={`tab-${mode}`}>
        {mode === 'git' && <GitForm projectId={projectId} onClose={onClose} onCreated={onCreated} />}
        {mode === 'archive' && <ArchiveForm projectId={projectId} onClose={onClose} onCreated={onCreated} />}
        {mode === 'push' && <PushForm projectId={projectId} onClose={onClose} onCreated={onCreated} />}
      </div>
    </Dialog>
  );
}

interface FormProps {
  projectId: string;
  onClose: () => void;
  onCreated: (r: Repository | null) => void;
}

function nameFromUrl(url: string): string {
  const m = /([^/:]+?)(\.git)?\/?$/.exec(url.trim());
  return m?.[1] ?? '';
}

function GitForm({ projectId, onClose, onCreated }: FormProps) {
  const api = useApi();
  const [url, setUrl] = useState('');
  const [name, setName] = useState('');
  const [ref, setRef] = useState('');
  const [token, setToken] = useState('');
  const { busy, error, onSubmit } = useSubmit(async () => {
    const repo = await api.createGitRepository(projectId, {
      name: name.trim() || nameFromUrl(url),
      git_url: url.trim(),
      git_ref: ref.trim() || undefined,
      git_token: token || undefined,
    });
    onCreated(repo);
  });
  return (
    <form onSubmit={onSubmit}>
      <label>
        Git URL
        <input type="url" required placeholder="https://github.com/org/repo.git" value={url} onChange={(e) => setUrl(e.target.value)} />
      </label>
      <label>
        Repository name
        <input value={name} placeholder={nameFromUrl(url) || 'derived from the URL'} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Branch, tag or commit (optional)
        <input value={ref} placeholder="default branch" onChange={(e) => setRef(e.target.value)} />
      </label>
      <label>
        Access token for a private repository (optional)
        <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
        <span className="hint small muted">Used for this clone only and never stored.</span>
      </label>
      <FormActions error={error} onCancel={onClose} disabled={busy || !url.trim()}>
        {busy ? 'Adding…' : 'Add repository'}
      </FormActions>
    </form>
  );
}

function ArchiveForm({ projectId, onClose, onCreated }: FormProps) {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setError(null);
    setProgress(0);
    abort.current = new AbortController();
    try {
      const repo = await api.uploadArchiveRepository(
        projectId,
        name.trim() || file.name.replace(/\.(zip|tar|tgz|tar\.gz|tar\.zst)$/i, ''),
        file,
        (f) => setProgress(f * 100),
        abort.current.signal,
      );
      onCreated(repo);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') setError(new Error('Upload cancelled.'));
      else setError(err);
      setProgress(null);
    }
  };
  const uploading = progress !== null;
  return (
    <form onSubmit={(e) => void submit(e)}>
      <label>
        Archive file
        <input type="file" name="archive" accept={ARCHIVE_ACCEPT} required onChange={(e) => setFile(e.target.files?.[0] ?? null)} disabled={uploading} />
        <span className="hint small muted">zip, tar, tar.gz or tar.zst. One top-level folder is stripped.</span>
      </label>
      {file && (
        <p className="small muted">
          {file.name} · {formatBytes(file.size)}
        </p>
      )}
      <label>
        Repository name
        <input value={name} placeholder={file ? file.name.replace(/\..*$/, '') : 'derived from the file name'} onChange={(e) => setName(e.target.value)} disabled={uploading} />
      </label>
      {uploading && <ProgressBar value={progress} label="Upload progress" />}
      <InlineError error={error} />
      <div className="dialog-actions">
        {uploading ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            Cancel upload
          </button>
        ) : (
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        )}
        <button type="submit" className="primary" disabled={uploading || !file}>
          {uploading ? 'Uploading…' : 'Upload'}
        </button>
      </div>
    </form>
  );
}

function PushForm({ projectId, onClose, onCreated }: FormProps) {
  const api = useApi();
  const [name, setName] = useState('');
  const [upload, setUpload] = useState<GitUpload | null>(null);
  const [status, setStatus] = useState('');
  const create = useSubmit(async () => setUpload(await api.createGitUpload(projectId, name.trim())), { stayBusy: false });
  // the push happens in the user's terminal: watch for it
  useInterval(() => void check(), 3000, !!upload && status !== 'received' && status !== 'expired');
  const check = async () => {
    if (!upload) return;
    try {
      const u = await api.getGitUpload(upload.id);
      setStatus(u.status ?? '');
      if (u.status === 'received') onCreated(u.repository_id ? await api.getRepository(u.repository_id) : null);
    } catch (err) {
      setStatus(errorMessage(err));
    }
  };
  if (!upload)
    return (
      <form onSubmit={create.onSubmit}>
        <p>Get a one-time remote and push your code to it from your machine. Nothing leaves your network but the push.</p>
        <label>
          Repository name
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <FormActions error={create.error} onCancel={onClose} disabled={create.busy || !name.trim()}>
          Create push remote
        </FormActions>
      </form>
    );
  const command = `git push ${upload.remote_url} HEAD:refs/heads/main`;
  return (
    <div>
      <p>Run this in your repository. The remote accepts one push and expires {formatDate(upload.expires_at)}.</p>
      <label>
        Push command
        <input readOnly value={command} onFocus={(e) => e.currentTarget.select()} className="mono" />
      </label>
      <p className="small muted">The URL contains a secret token: do not share it.</p>
      <p role="status">{status === 'expired' ? 'This remote expired. Create a new one.' : status === 'received' ? 'Push received.' : 'Waiting for your push…'}</p>
      <div className="dialog-actions">
        <button type="button" onClick={() => void navigator.clipboard?.writeText(command)}>
          Copy command
        </button>
        <button type="button" onClick={() => void check()}>
          Check for push
        </button>
        <button type="button" className="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}
