// The dashboard as deploy/aws serves it: static files from a bucket, the API
// elsewhere. `vega serve` runs with VEGA_SERVE_UI=false (API only) and the
// browser loads ui/dist through ./edge.mjs, a stand-in for CloudFront:
//   same origin   /v1/* forwarded to the API (CloudFront's /v1/* behaviour),
//                 under the distribution's Content-Security-Policy;
//   cross origin  the API on its own origin, allowed by VEGA_CORS_ALLOWED_ORIGINS.
// Both sign in, upload, scan and watch the scan's live events in Chromium;
// across origins a reload also restores the session through the API's
// refresh cookie, and sign-out clears it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createProjectInDashboard, uploadArchiveInDashboard } from './api.mjs';
import { startEdge } from './edge.mjs';
import { startBrowser, startVega } from './harness.mjs';
import { makeZip } from './zip.mjs';

const DIST = join(import.meta.dirname, '..', 'dist');
const TIMEOUT = 60_000;
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

// A key of the real shape, fresh per run (gitleaks allow-lists AWS's documentation key).
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ACCESS_KEY_ID = `AKIA${[...randomBytes(16)].map((b) => B32[b % 32]).join('')}`;
const SECRET_KEY = randomBytes(30).toString('base64').replace(/[+/=]/g, 'x');
const archive = () =>
  makeZip({
    'svc/README.md': '# svc\n',
    'svc/deploy.py': `AWS_ACCESS_KEY_ID = "${ACCESS_KEY_ID}"\nAWS_SECRET_ACCESS_KEY = "${SECRET_KEY}"\n`,
  });

/** Watches one page: its console errors and every URL it requests. */
async function openPage() {
  const browser = await startBrowser();
  cleanups.push(() => browser.close());
  const page = await browser.context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  const requested = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('request', (r) => requested.push(r.url()));
  return { page, errors, requested };
}

/** A deep link, sign-in, a project, an archive upload and a secrets scan, through the dashboard only. */
async function scanThroughDashboard(page, origin) {
  await page.goto(`${origin}/usage`); // a route, not a file: the viewer-request function serves index.html
  await page.getByLabel('Email').fill('debug@example.com');
  await page.getByLabel('Password').fill('vega-debug-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Usage' }).waitFor(); // back on the deep-linked page
  await page.getByRole('link', { name: 'Projects' }).first().click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await createProjectInDashboard(page, 'Static hosting');
  await uploadArchiveInDashboard(page, 'svc', archive(), TIMEOUT);
  await page.getByRole('checkbox', { name: /Secrets/ }).check();
  await page.getByRole('button', { name: 'Start scan' }).click();
  await page.waitForURL(/\/scans\/scan_/);
  // Live: the event log fills from the SSE stream, then the findings table.
  await page.getByRole('heading', { name: /Scan/ }).getByText('Completed').waitFor({ timeout: 3 * TIMEOUT });
  await page.getByRole('log', { name: 'Event log' }).getByText('Scan completed').waitFor();
  await page.getByRole('table', { name: 'Findings' }).getByRole('link').first().waitFor();
  return page.url().split('/').pop();
}

test('same origin: dashboard from static files, /v1/* forwarded to an API-only vega (CloudFront)', { timeout: 8 * 60_000 }, async () => {
  const vega = await startVega({ env: { VEGA_SERVE_UI: 'false', VEGA_SCAN_ENGINES: 'secrets' } });
  cleanups.push(() => vega.stop());
  // VEGA_SERVE_UI=false: the binary serves the API and nothing of the dashboard.
  assert.equal((await fetch(`${vega.base}/`)).status, 404);
  assert.equal((await fetch(`${vega.base}/projects`)).status, 404);
  assert.equal((await fetch(`${vega.base}/v1/healthz`)).status, 200);

  // config.json as publish-dashboard.cjs writes it, with the sign-in settings in it.
  const edge = await startEdge({ dist: DIST, api: vega.base, csp: true, config: { api_base_url: '', auth: { provider: 'custom' } } });
  cleanups.push(() => edge.close());
  const { page, errors, requested } = await openPage();
  const scanId = await scanThroughDashboard(page, edge.url);

  assert.deepEqual(requested.filter((u) => !u.startsWith(`${edge.url}/`)), [], 'everything goes through the one origin');
  assert.ok(!edge.requests.includes('GET /v1/auth/config'), 'sign-in settings came from /config.json');
  assert.ok(edge.requests.some((r) => r.startsWith(`GET /v1/scans/${scanId}/events/stream`)), 'live events streamed through the edge');
  const index = await fetch(`${edge.url}/usage`);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  assert.deepEqual(errors, []);
});

test('cross origin: dashboard on its own origin, API allowed by VEGA_CORS_ALLOWED_ORIGINS', { timeout: 8 * 60_000 }, async () => {
  const config = { api_base_url: '' }; // the API's URL is known once it runs
  const edge = await startEdge({ dist: DIST, config });
  cleanups.push(() => edge.close());
  const vega = await startVega({ env: { VEGA_SERVE_UI: 'false', VEGA_SCAN_ENGINES: 'secrets', VEGA_CORS_ALLOWED_ORIGINS: edge.url } });
  cleanups.push(() => vega.stop());
  config.api_base_url = vega.base;

  const { page, errors, requested } = await openPage();
  const scanId = await scanThroughDashboard(page, edge.url);

  assert.ok(requested.some((u) => u.startsWith(`${vega.base}/v1/auth/config`)), 'no auth block in config.json: the dashboard asks the API');
  assert.ok(requested.some((u) => u.startsWith(`${vega.base}/v1/scans/${scanId}/events/stream`)), 'live events from the API origin');
  assert.deepEqual(edge.requests.filter((r) => r.includes(' /v1/')), [], 'the static origin never sees API calls');
  // The API answers the dashboard's origin and nobody else's.
  const allowed = await fetch(`${vega.base}/v1/healthz`, { headers: { Origin: edge.url } });
  assert.equal(allowed.headers.get('access-control-allow-origin'), edge.url);
  const other = await fetch(`${vega.base}/v1/healthz`, { headers: { Origin: 'https://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);

  // The session lives in the API origin's HttpOnly refresh cookie (set through
  // credentialed CORS; the two origins are one site, docs/auth.md): a reload
  // restores it, sign-out clears it.
  const refreshCookie = async () =>
    (await page.context().cookies(`${vega.base}/v1/auth/refresh`)).find((c) => c.name === 'vega_refresh' && c.httpOnly && c.sameSite === 'Strict');
  assert.ok(await refreshCookie(), 'the API set its refresh cookie for the dashboard on another origin');
  await page.reload();
  await page.getByRole('heading', { name: /Scan/ }).getByText('Completed').waitFor();
  assert.match(page.url(), /\/scans\/scan_/, 'the reload restored the session through the cookie');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Email').waitFor();
  assert.equal(await refreshCookie(), undefined, 'sign-out cleared the cookie');
  await page.reload();
  await page.getByLabel('Email').waitFor();
  assert.deepEqual(errors, []);
});
