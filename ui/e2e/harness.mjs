// Starts the real vega binary on a free loopback port with a throwaway data
// directory, and a headless Debian Chromium driven by playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** A name the browser resolves to 127.0.0.1, as an attacker's DNS would after rebinding. */
export const REBOUND_HOST = 'rebound.test';
export const CHROMIUM_ARGS = [
  `--host-resolver-rules=MAP ${REBOUND_HOST} 127.0.0.1`,
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Starts `vega serve`; resolves once /v1/healthz answers. */
export async function startVega({ env = {} } = {}) {
  const bin = resolve(process.env.VEGA_BIN || join(import.meta.dirname, '..', '..', 'bin', 'vega'));
  if (!existsSync(bin)) throw new Error(`vega binary not found at ${bin}: run \`make build\` or set VEGA_BIN`);
  const dataDir = mkdtempSync(join(tmpdir(), 'vega-e2e-data-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logs = [];
  const child = spawn(bin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      VEGA_DATA_DIR: dataDir,
      VEGA_LISTEN_ADDR: `127.0.0.1:${port}`,
      VEGA_LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d) => {
    logs.push(d.toString());
    if (logs.length > 400) logs.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, sig) => (exited = { code, sig }));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`vega exited early (${JSON.stringify(exited)}):\n${logs.join('')}`);
    try {
      const r = await fetch(`${base}/v1/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`vega did not become healthy in 30 s:\n${logs.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    logs,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 10_000);
          child.on('exit', () => {
            clearTimeout(t);
            r();
          });
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh persistent context (its own --user-data-dir) in headless Chromium. */
export async function startBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'vega-e2e-chromium-'));
  const downloads = mkdtempSync(join(tmpdir(), 'vega-e2e-downloads-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    acceptDownloads: true,
    downloadsPath: downloads,
    viewport: { width: 1360, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(downloads, { recursive: true, force: true });
    },
  };
}
