import { Link, useSearchParams } from 'react-router-dom';
import type { FindingChange, Scan } from '../api/types';
import { useApi } from '../app-context';
import { usePaged } from '../lib/hooks';
import { SeverityBadge, severityLinks, StatusBadge } from './Badges';
import { DataTable } from './DataTable';
import { Pager } from './Misc';
import { Async } from './States';

const LABEL: Record<FindingChange, string> = { new: 'New', fixed: 'Fixed', unchanged: 'Unchanged' };
const CHANGES: readonly FindingChange[] = ['new', 'fixed', 'unchanged'];
/** The search param that keeps the chosen tab (absent: new). */
export const CHANGE_PARAM = 'changes';

/** The tab the URL names; "new" when it names none (or one the scan cannot show: no earlier scan). */
export function changeFromParams(p: URLSearchParams, hasBase: boolean): FindingChange {
  const v = p.get(CHANGE_PARAM) as FindingChange | null;
  return v && CHANGES.includes(v) && (hasBase || v === 'new') ? v : 'new';
}

/**
 * What the scan changed since the previous complete scan of its repository
 * (GET /v1/scans/:id/findings?change=): counts from the scan's `changes`,
 * and the findings of the chosen change, most severe first.
 */
export function ScanComparison({ scan, version }: { scan: Scan; version: number }) {
  const api = useApi();
  // The tab lives in the URL: reload and Back return to it. Each choice is
  // a history entry, as the findings list's status tabs are.
  const [params, setParams] = useSearchParams();
  const change = changeFromParams(params, !!scan.changes?.base_scan_id);
  const setChange = (k: FindingChange) =>
    setParams((prev) => {
      const n = new URLSearchParams(prev);
      if (k === 'new') n.delete(CHANGE_PARAM);
      else n.set(CHANGE_PARAM, k);
      return n;
    });
  const list = usePaged((cursor) => api.listScanFindings(scan.id, { change, sort: '-severity', limit: 20, ...(cursor ? { cursor } : {}) }), [scan.id, change, version]);
  const c = scan.changes;
  if (!c) return null;
  const counts: Record<FindingChange, number> = { new: c.new, fixed: c.fixed, unchanged: c.unchanged };
  return (
    <div className="comparison" id="changes">
      <p className="comparison-summary" role="status">
        {c.base_scan_id ? (
          <>
            Since the previous complete scan{' '}
            <Link to={`/scans/${c.base_scan_id}`} className="mono">
              {c.base_scan_id}
            </Link>
            : <span className="change-new">{c.new} new</span>, <span className="change-fixed">{c.fixed} fixed</span>, {c.unchanged} unchanged.
          </>
        ) : (
          <>
            No earlier complete scan of this repository: all <span className="change-new">{c.new} findings are new</span>.
          </>
        )}
      </p>
      <div className="comparison-tabs" role="group" aria-label="Compare with the previous complete scan">
        {CHANGES.map((k) => (
          <button key={k} type="button" aria-pressed={change === k} onClick={() => setChange(k)} disabled={!c.base_scan_id && k !== 'new'}>
            {LABEL[k]} {counts[k]}
          </button>
        ))}
      </div>
      <Async state={list} label="Loading changes…">
        {(page) =>
          page.items.length === 0 ? (
            <p className="muted">{change === 'fixed' ? 'Nothing was fixed since the previous scan.' : change === 'new' ? 'Nothing new.' : 'Nothing in common with the previous scan.'}</p>
          ) : (
            <>
              <DataTable caption={`${LABEL[change]} findings since the previous complete scan`} columns={['Severity', 'Title', 'Location', 'Status']}>
                {page.items.map((f) => (
                  <tr key={f.id}>
                    <td>
                      {/* A fixed finding is no longer in this scan: its repository's list has it. */}
                      <SeverityBadge
                        severity={f.severity}
                        to={(change === 'fixed' ? severityLinks.repository(f.repository_id) : severityLinks.scan(scan.id))(f.severity)}
                      />
                    </td>
                    <td>
                      <Link to={`/findings/${f.id}`}>{f.title}</Link>
                    </td>
                    <td className="mono small">
                      {f.file_path}
                      {f.start_line ? `:${f.start_line}` : ''}
                    </td>
                    <td>
                      <StatusBadge status={f.status} />
                    </td>
                  </tr>
                ))}
              </DataTable>
              <Pager page={list.page} hasPrev={list.hasPrev} hasNext={list.hasNext} onPrev={list.prev} onNext={list.next} total={page.total} />
            </>
          )
        }
      </Async>
    </div>
  );
}
