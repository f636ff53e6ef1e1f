// The dashboard on another origin than the API (VEGA_CORS_ALLOWED_ORIGINS):
// sign-in, a reload restored through the refresh cookie, and sign-out must
// work with credentialed CORS. The two origins differ by port on 127.0.0.1,
// which keeps them the same site, as a dashboard on vega.example.com and an
// API on api.vega.example.com are (docs/auth.md says why that is required).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, startBrowser, startStaticDashboard, startVega } from './harness.mjs';

const EMAIL = 'debug@example.com';
const PASSWORD = 'vega-debug-password';

let vega;
let dashboard;
let browser;
let page;
const problems = [];

before(async () => {
  const port = await freePort();
  vega = await startVega({ env: { VEGA_SCAN_ENGINES: 'secrets', VEGA_CORS_ALLOWED_ORIGINS: `http://127.0.0.1:${port}` } });
  dashboard = await startStaticDashboard({ port, apiBaseUrl: vega.base });
  browser = await startBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
});

after(async () => {
  await browser?.close();
  await dashboard?.close();
  await vega?.stop();
});

test('a dashboard on another origin signs in, survives a reload and signs out', async () => {
  await page.goto(`${dashboard.base}/`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();

  const cookies = await browser.context.cookies(`${vega.base}/v1/auth/refresh`);
  assert.ok(
    cookies.some((c) => c.name === 'vega_refresh' && c.httpOnly && c.sameSite === 'Strict'),
    'the API origin set its refresh cookie through a credentialed CORS request',
  );

  await page.reload();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  assert.match(page.url(), new RegExp(`^${dashboard.base}/$`), 'the reload restored the session through the cookie');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Email').waitFor();
  assert.equal((await browser.context.cookies(`${vega.base}/v1/auth/refresh`)).filter((c) => c.name === 'vega_refresh').length, 0, 'sign-out cleared the cookie');
  await page.reload();
  await page.getByLabel('Email').waitFor();
  assert.deepEqual(problems, []);
});
