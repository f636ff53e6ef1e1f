import { createHash } from 'node:crypto';
// Seeding and sign-in helpers shared by the e2e files: the checks go through
// the dashboard, but the data they look at is put in place through the API.
import assert from 'node:assert/strict';
import { startBrowser, startVega } from './harness.mjs';
import { makeZip } from './zip.mjs';

/** The debug account a local `vega serve` seeds on first start. */
export const DEBUG_EMAIL = 'debug@example.com';
export const DEBUG_PASSWORD = 'vega-debug-password';

/** Signs the debug user in through the API; resolves to the access token. */
export async function apiLogin(vega) {
  const r = await fetch(`${vega.base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: DEBUG_EMAIL, password: DEBUG_PASSWORD }),
  });
  return (await r.json()).access_token;
}

/**
 * An `api(method, path, body)` that calls vega with the token, sends a
 * FormData body as is and anything else as JSON, fails the test on a non-2xx
 * answer and resolves to the parsed body (null when empty).
 */
export function apiClient(vega, token) {
  return async function api(method, path, body) {
    const r = await fetch(`${vega.base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body && !(body instanceof FormData) ? { 'Content-Type': 'application/json' } : {}) },
      body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

/** Calls fn every 250 ms until it returns something truthy; fails after ms. */
export async function poll(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The multipart body of an upload: `files` (path -> content) zipped as `filename`. */
export function archiveForm(name, files, filename = `${name}.zip`) {
  const form = new FormData();
  form.set('name', name);
  form.set('archive', new Blob([makeZip(files)], { type: 'application/zip' }), filename);
  return form;
}

/** Uploads `files` as a new repository of the project; resolves to it once ingested. */
export async function uploadRepository(api, projectId, name, files, filename) {
  const repo = await api('POST', `/v1/projects/${projectId}/repositories`, archiveForm(name, files, filename));
  await poll('ingest', async () => (await api('GET', `/v1/repositories/${repo.id}`)).ingest_status === 'ready');
  return repo;
}

/** Waits for the scan to end and fails the test unless it completed; resolves to the scan. */
export async function waitForScanCompleted(api, scanId, what = 'scan') {
  const done = await poll(what, async () => {
    const s = await api('GET', `/v1/scans/${scanId}`);
    return ['completed', 'failed', 'cancelled'].includes(s.status) && s;
  });
  assert.equal(done.status, 'completed');
  return done;
}

/** Starts a secrets scan of the repository and resolves to it once it completed. */
export async function scanToCompletion(api, repoId) {
  const scan = await api('POST', `/v1/repositories/${repoId}/scans`, { engines: ['secrets'] });
  return waitForScanCompleted(api, scan.id);
}

/** Signs the debug user in through the dashboard's form and waits for the main navigation. */
export async function signIn(page, vega) {
  await page.goto(`${vega.base}/`);
  await page.getByLabel('Email').fill(DEBUG_EMAIL);
  await page.getByLabel('Password').fill(DEBUG_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** A new page of the browser with a 20 s default timeout, signed in as the debug user. */
export async function signedInPage(browser, vega) {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(20_000);
  await signIn(page, vega);
  return page;
}

/**
 * The seeding every data-heavy e2e file starts with: vega with the secrets
 * engine only, an API client signed in as the debug user, and `files`
 * uploaded as repository `repoName` of a new project `projectName`, scanned to
 * completion. Stops vega again when seeding fails. Resolves to
 * { vega, api, projectId, repoId, scan }.
 */
export async function startSeededVega(projectName, repoName, files) {
  const vega = await startVega({ env: { VEGA_SCAN_ENGINES: 'secrets' } });
  try {
    const api = apiClient(vega, await apiLogin(vega));
    const projectId = (await api('POST', '/v1/projects', { name: projectName })).id;
    const repoId = (await uploadRepository(api, projectId, repoName, files)).id;
    const scan = await scanToCompletion(api, repoId);
    return { vega, api, projectId, repoId, scan };
  } catch (err) {
    await vega.stop();
    throw err;
  }
}

/** A headless browser and a page of it signed in as the debug user: { browser, page }. */
export async function signedInBrowser(vega) {
  const browser = await startBrowser();
  return { browser, page: await signedInPage(browser, vega) };
}

/** Creates a project through the dashboard's "New project" dialog (the description is optional) and waits for its page. */
export async function createProjectInDashboard(page, name, description) {
  await page.getByRole('button', { name: 'New project' }).click();
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.getByLabel('Name').fill(name);
  if (description) await dialog.getByLabel('Description').fill(description);
  await dialog.getByRole('button', { name: 'Create project' }).click();
  await page.getByRole('heading', { name }).waitFor();
}

/** On a project's page: uploads `zip` as repository `name` through "Add repository", then waits (up to `timeout` ms) until it is Ready. */
export async function uploadArchiveInDashboard(page, name, zip, timeout) {
  await page.getByRole('button', { name: 'Add repository' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add repository' });
  await dialog.getByRole('tab', { name: 'Upload archive' }).click();
  await dialog.getByLabel('Archive file').setInputFiles({ name: `${name}.zip`, mimeType: 'application/zip', buffer: zip });
  await dialog.getByLabel('Repository name').fill(name);
  await dialog.getByRole('button', { name: 'Upload' }).click();
  await page.waitForURL(/\/repositories\/repo_/);
  await page.getByRole('heading', { name: new RegExp(name) }).getByText('Ready').waitFor({ timeout });
}

/** The base32 alphabet of AWS access key IDs (AKIA + 16 of these). */
export const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * seededRand(label) is a (alphabet, n) => string generator whose stream is the
 * same on every run: planted secrets are then the same detectable values each
 * time (a random run once planted a key the detector passed over, 309 of 310).
 */
export function seededRand(label) {
  let seed = 0;
  return (alphabet, n) => {
    const out = [];
    while (out.length < n) out.push(...createHash('sha256').update(`${label}-${seed++}`).digest());
    return out.slice(0, n).map((b) => alphabet[b % alphabet.length]).join('');
  };
}
