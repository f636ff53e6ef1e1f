import { useState } from 'react';
import type { EngineStatus, Repository } from '../api/types';
import { useApi } from '../app-context';
import { linesOf } from '../lib/format';
import { useAsync, useSubmit } from '../lib/hooks';
import { Async, InlineError } from './States';

/** What people call each engine; an engine the UI does not know shows its name. */
export const ENGINE_LABELS: Record<string, string> = {
  secrets: 'Secrets (offline, deterministic)',
  codex: 'Codex AI audit',
};

export function engineLabel(name: string): string {
  return ENGINE_LABELS[name] ?? name;
}

/** The reason an engine cannot run here and how an operator enables it, as one sentence each. */
export function unavailableText(e: EngineStatus): string {
  return [e.reason ? `Unavailable: ${e.reason}.` : 'Unavailable on this server.', e.enable ? `To enable it: ${e.enable}.` : '']
    .join(' ')
    .replace(/\.\./g, '.')
    .trim();
}

/**
 * The new-scan form. Engines come from GET /v1/engines: the defaults start
 * checked and say so, and an engine this server cannot run is disabled with
 * its reason, so a scan never fails after Start for a missing engine.
 */
export function StartScan({ repo, onStarted }: { repo: Repository; onStarted: (scanId: string) => void }) {
  const api = useApi();
  const engines = useAsync(() => api.listEngines(), []);
  const [chosen, setChosen] = useState<Set<string> | null>(null);
  const [paths, setPaths] = useState('');
  const all = engines.data?.items ?? [];
  const defaults = all.filter((e) => e.available && e.default).map((e) => e.name);
  // Until the user changes it, the choice is the default.
  const choice = chosen ?? new Set(defaults);
  const selected = [...choice].filter((n) => all.some((e) => e.name === n && e.available));
  const isDefault = selected.length === defaults.length && selected.every((n) => defaults.includes(n));

  const { busy, error, onSubmit } = useSubmit(async () => {
    const s = await api.startScan(repo.id, {
      engines: isDefault ? undefined : selected,
      paths: linesOf(paths).length ? linesOf(paths) : undefined,
    });
    onStarted(s.id);
  });
  const toggle = (name: string) =>
    setChosen(() => {
      const n = new Set(choice);
      if (n.has(name)) n.delete(name);
      else n.add(name);
      return n;
    });

  return (
    <form className="panel start-scan" onSubmit={onSubmit} aria-labelledby="start-scan-title">
      <h2 id="start-scan-title">New scan</h2>
      <fieldset>
        <legend>Engines</legend>
        <Async state={engines} label="Loading engines…">
          {() => (
            <>
              <p className="muted small">
                Default: {defaults.length ? defaults.map(engineLabel).join(' and ') : 'none'}. A scan that names no engine runs the default.
              </p>
              {all.map((e) => (
                <div key={e.name} className="engine-choice">
                  <label className="inline">
                    <input
                      type="checkbox"
                      checked={e.available && choice.has(e.name)}
                      disabled={!e.available}
                      aria-describedby={e.available ? undefined : `engine-${e.name}-why`}
                      onChange={() => toggle(e.name)}
                    />{' '}
                    {engineLabel(e.name)}
                    {e.available && e.default && <span className="badge status status-muted">default</span>}
                  </label>
                  {!e.available && (
                    <p id={`engine-${e.name}-why`} className="muted small engine-why">
                      {unavailableText(e)}
                    </p>
                  )}
                </div>
              ))}
            </>
          )}
        </Async>
      </fieldset>
      <label>
        Paths to scan (optional)
        <textarea rows={2} value={paths} placeholder="One path per line; empty scans everything" onChange={(e) => setPaths(e.target.value)} />
      </label>
      <InlineError error={error} />
      {engines.data && selected.length === 0 && <p className="muted small">Choose at least one engine.</p>}
      <button type="submit" className="primary" disabled={busy || !engines.data || selected.length === 0}>
        Start scan
      </button>
    </form>
  );
}
