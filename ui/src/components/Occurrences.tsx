import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { Finding, Occurrence, OccurrencePage } from '../api/types';
import { useApi } from '../app-context';
import { useAsync } from '../lib/hooks';
import { CodeView } from './CodeView';
import { RevealDialog, RevealToggle } from './Reveal';
import { Async } from './States';

export const OCCURRENCES_PER_PAGE = 10;

const MISSING: Record<string, string> = {
  not_in_snapshot: 'This file is not in the snapshot the scan read.',
  binary: 'This is a binary file.',
  out_of_range: 'The referenced lines are not in this file.',
};

/**
 * A finding's occurrences, a page at a time: one request per page (the
 * server reads each file once and masks secrets), the page in the URL
 * (?occurrences=2). A Reveal shows this page's secrets after the server has
 * logged it, and is forgotten on any navigation.
 */
/**
 * The current page of a finding's occurrences. The finding page calls it
 * beside its own fetch of the finding, so both requests run at once.
 */
export function useOccurrencePage(findingId: string) {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Math.floor(Number(params.get('occurrences')) || 1));
  const offset = (page - 1) * OCCURRENCES_PER_PAGE;
  const key = `${findingId}:${offset}`;
  const occ = useAsync(() => api.findingOccurrences(findingId, { offset, limit: OCCURRENCES_PER_PAGE }).then((p) => ({ ...p, key })), [findingId, offset]);
  const setPage = (p: number) =>
    setParams((prev) => {
      const n = new URLSearchParams(prev);
      if (p <= 1) n.delete('occurrences');
      else n.set('occurrences', String(p));
      return n;
    });
  return { occ, page, offset, key, setPage };
}

export function Occurrences({
  finding,
  pager,
  onRevealed,
  onDialog,
}: {
  finding: Finding;
  pager: ReturnType<typeof useOccurrencePage>;
  onRevealed: () => void;
  onDialog?: (open: boolean) => void;
}) {
  const api = useApi();
  const { occ, page, offset, key, setPage } = pager;
  const [revealed, setRevealed] = useState<(OccurrencePage & { key: string }) | null>(null);
  const [asking, setAsking] = useState(false);
  useEffect(() => setRevealed(null), [key]);
  useEffect(() => onDialog?.(asking), [asking, onDialog]);
  const hasCode = (finding.locations?.length ?? 0) > 0 || !!finding.file_path;

  if (!hasCode)
    return (
      <>
        <h2>Code</h2>
        <p className="muted">This finding has no code location.</p>
      </>
    );
  const shown = revealed?.key === key ? revealed : occ.data?.key === key ? occ.data : undefined;
  const total = shown?.total ?? occ.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / OCCURRENCES_PER_PAGE));
  const anySecret = (shown?.items ?? []).some((o) => o.secret);
  return (
    <section aria-labelledby="occurrences-title" className="occurrences">
      <div className="occurrences-head">
        <h2 id="occurrences-title">
          {total === 1 ? 'Code' : 'Occurrences'} {total > 1 && <span className="muted small">{total}</span>}
        </h2>
        {anySecret && <RevealToggle revealed={revealed?.key === key} onHide={() => setRevealed(null)} onAsk={() => setAsking(true)} />}
      </div>
      <Async state={{ ...occ, data: shown }} label="Loading code…">
        {(pg) => (
          <>
            <ol className="occurrence-list" start={offset + 1} aria-label="Occurrences">
              {pg.items.map((o) => (
                <li key={`${o.index}`}>
                  <OccurrenceCode finding={finding} snapshotId={pg.snapshot_id} occurrence={o} />
                </li>
              ))}
            </ol>
            {total > OCCURRENCES_PER_PAGE && (
              <nav className="pager" aria-label="Occurrence pages">
                <button type="button" onClick={() => setPage(page - 1)} disabled={page <= 1}>
                  Previous
                </button>
                <span data-testid="occurrence-range">
                  {offset + 1}–{Math.min(total, offset + OCCURRENCES_PER_PAGE)} of {total}
                </span>
                <button type="button" onClick={() => setPage(page + 1)} disabled={page >= pages}>
                  Next
                </button>
              </nav>
            )}
          </>
        )}
      </Async>
      {asking && (
        <RevealDialog
          onClose={() => setAsking(false)}
          onReveal={async () => {
            const pg = await api.revealFinding(finding.id, { offset, limit: OCCURRENCES_PER_PAGE });
            setRevealed({ ...pg, key });
            onRevealed();
          }}
        />
      )}
    </section>
  );
}

/** Links an occurrence to the file browser at its line, in the snapshot the scan read. */
export function fileLink(repositoryId: string, snapshotId: string, path: string, line: number): string {
  const q = new URLSearchParams({ file: path });
  if (line > 0) q.set('line', String(line));
  if (snapshotId) q.set('snapshot', snapshotId);
  return `/repositories/${repositoryId}/files?${q.toString()}`;
}

function OccurrenceCode({ finding, snapshotId, occurrence: o }: { finding: Finding; snapshotId: string; occurrence: Occurrence }) {
  const where = `${o.file_path}${o.start_line ? `:${o.start_line}${o.end_line > o.start_line ? `-${o.end_line}` : ''}` : ''}`;
  return (
    <div className="location">
      <h3 className="mono small">
        <Link to={fileLink(finding.repository_id, snapshotId, o.file_path, o.start_line)} title="Open in the file browser">
          {where}
        </Link>
        {o.role ? <span className="muted"> · {o.role}</span> : null}
      </h3>
      {o.note && <p className="small">{o.note}</p>}
      {o.missing ? (
        <p className="muted small">{MISSING[o.missing] ?? 'The code is not available.'}</p>
      ) : (
        <CodeView
          label={`Code at ${where}`}
          lines={o.lines}
          firstLine={o.from_line}
          truncated={o.truncated}
          ranges={o.start_line ? [{ start: o.start_line, end: o.end_line || o.start_line }] : []}
          secrets={o.spans.map((s) => ({ ...s, masked: o.masked }))}
          revealed={!o.masked}
        />
      )}
    </div>
  );
}
