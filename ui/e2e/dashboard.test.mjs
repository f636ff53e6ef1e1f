// End-to-end: the real vega binary and the embedded dashboard in headless
// Chromium, driven through the accessible names a person (or screen reader)
// would use. Run with `npm run e2e` (VEGA_BIN=path/to/vega).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createProjectInDashboard, uploadArchiveInDashboard } from './api.mjs';
import { REBOUND_HOST, startBrowser, startVega } from './harness.mjs';
import { makeZip } from './zip.mjs';

const EMAIL = 'debug@example.com';
const PASSWORD = 'vega-debug-password';
const PLANTED = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
const TIMEOUT = 60_000;

let vega;
let browser;
let page;
const consoleErrors = [];
const httpErrors = [];
let expect401 = false; // set while a step provokes 401s on purpose
let lastBearer = ''; // the access token the page last sent (it lives in the page's memory only)

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // secrets only: deterministic, and no model provider exists here
  vega = await startVega({ env: { VEGA_SCAN_ENGINES: 'secrets' } });
  browser = await startBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium logs every failed request; the provoked 401s are expected
    if (expect401 && m.text().includes('status of 401')) return;
    consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    const h = r.headers().authorization;
    if (h?.startsWith('Bearer ey')) lastBearer = h.slice(7);
  });
  // the browser's console line for a failed request has no URL; keep it here
  page.on('response', (r) => {
    if (r.status() === 401 && expect401) return;
    if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
  });
});

after(async () => {
  await browser?.close();
  await vega?.stop();
});

const shot = (name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const url = (p) => `${vega.base}${p}`;

/** Signs in from outside the browser ("another device") and returns the access token and user ID. */
async function apiLogin() {
  const r = await fetch(url('/v1/auth/login'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });
  assert.equal(r.status, 200, 'API login');
  const j = await r.json();
  return { token: j.access_token, userId: j.user.id };
}

const meStatus = async (token) => (await fetch(url('/v1/auth/me'), { headers: { Authorization: `Bearer ${token}` } })).status;

/** The refresh cookie as the browser holds it (undefined when there is none). */
const refreshCookie = async () => (await browser.context.cookies(url('/v1/auth/refresh'))).find((c) => c.name === 'vega_refresh');

/** Asserts that no script on the page can read a token: web storage and document.cookie hold none. */
async function assertNoTokenInReach(what) {
  const reachable = await page.evaluate(() => {
    const dump = (st) => Object.keys(st).map((k) => `${k}=${st.getItem(k)}`);
    return [...dump(localStorage), ...dump(sessionStorage), document.cookie].join('\n');
  });
  assert.doesNotMatch(reachable, /eyJ|vega_[A-Za-z0-9_-]{20}|vega_refresh/, `${what}: a token is readable by page scripts`);
}

async function signInThroughTheForm() {
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// AWS's documentation key above is allow-listed by gitleaks' default rules
// ("EXAMPLE"), so the fixture also plants a fresh random key pair of the real
// shape; it is generated per run and never valid anywhere.
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ACCESS_KEY_ID = `AKIA${[...randomBytes(16)].map((b) => B32[b % 32]).join('')}`;
const SECRET_KEY = randomBytes(30).toString('base64').replace(/[+/=]/g, 'x');

function fixtureZip() {
  return makeZip({
    'demo-app/README.md': '# demo app\nA tiny service used by the Vega end-to-end test.\n',
    'demo-app/app/server.py': [
      'from flask import Flask, request',
      '',
      'app = Flask(__name__)',
      '',
      '@app.route("/hello")',
      'def hello():',
      '    return "hello " + request.args.get("name", "world")',
      '',
    ].join('\n'),
    'demo-app/config/settings.py': [
      '# deployment settings',
      'REGION = "eu-west-1"',
      `aws_secret_access_key = "${PLANTED}"`,
      'DEBUG = False',
      '',
      '# production credentials (should never be committed)',
      `AWS_ACCESS_KEY_ID = "${ACCESS_KEY_ID}"`,
      `AWS_SECRET_ACCESS_KEY = "${SECRET_KEY}"`,
      '',
    ].join('\n'),
    'demo-app/requirements.txt': 'flask==3.0.0\n',
  });
}

test('dashboard end to end', { timeout: 10 * 60_000 }, async (t) => {
  const state = {};
  // Each step builds on the previous one: after a failure the rest are
  // reported as skipped instead of each timing out on a missing page.
  let broken = '';
  const step = (name, fn, { independent = false } = {}) =>
    t.test(name, { skip: broken && !independent ? `after failed step "${broken}"` : false }, async () => {
      try {
        await fn();
      } catch (e) {
        broken = name;
        await shot(`failed-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
        throw e;
      }
    });

  await step('sign in', async () => {
    await page.goto(url('/'));
    await page.getByLabel('Email').waitFor();
    await shot('01-sign-in');
    assert.ok(await page.getByText(/built-in debug account/).isVisible(), 'the sign-in page points at the debug account');
    assert.ok(!(await page.content()).includes(PASSWORD), 'the sign-in page never shows a password');
    const authConfig = await page.evaluate(async () => (await fetch('/v1/auth/config')).text());
    assert.ok(!/password|debug/i.test(authConfig), `/v1/auth/config carries no credential: ${authConfig}`);
    await signInThroughTheForm();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    // The refresh token is an HttpOnly, Secure, SameSite=Strict cookie for the auth routes only.
    const cookie = await refreshCookie();
    assert.ok(cookie, 'the refresh cookie is set');
    assert.deepEqual(
      { httpOnly: cookie.httpOnly, secure: cookie.secure, sameSite: cookie.sameSite, path: cookie.path },
      { httpOnly: true, secure: true, sameSite: 'Strict', path: '/v1/auth' },
    );
    await assertNoTokenInReach('after sign-in');
  });

  await step('reload restores the session through the cookie', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    assert.doesNotMatch(page.url(), /sign-in/);
    await assertNoTokenInReach('after a reload');
  });

  await step('projects page: first-load JS and time to interactive', async () => {
    // cold loads: the HTTP cache is off, so every run downloads the bundle
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const jsUrls = new Set();
    const onResponse = (r) => {
      if (r.request().resourceType() === 'script') jsUrls.add(r.url());
    };
    page.on('response', onResponse);
    const tti = [];
    const html = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(url('/'), { waitUntil: 'commit' });
      await page.getByRole('button', { name: 'New project' }).waitFor({ state: 'visible' });
      tti.push(await page.evaluate(() => performance.now()));
      html.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0].responseEnd));
      await page.waitForLoadState('networkidle');
    }
    page.off('response', onResponse);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
    await cdp.detach();
    let raw = 0;
    let gz = 0;
    for (const u of jsUrls) {
      const body = Buffer.from(await (await fetch(u)).arrayBuffer());
      raw += body.length;
      gz += gzipSync(body, { level: 9 }).length;
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`# first-load JS on /: ${jsUrls.size} files, ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzipped (budget 300 KB)`);
    console.log(
      `# projects page, 5 cold loads: time to interactive ("New project" visible) median ${median(tti).toFixed(0)} ms ` +
        `[${tti.map((x) => x.toFixed(0)).join(', ')}]; baseline index.html responseEnd median ${median(html).toFixed(0)} ms`,
    );
    assert.ok(gz < 300 * 1024, `first-load JS ${gz} bytes gzipped exceeds 300 KB`);
    await shot('02-projects-empty');
  });

  await step('keyboard: open and close the new-project dialog', async () => {
    const button = page.getByRole('button', { name: 'New project' });
    await button.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Name').evaluate((el) => el === document.activeElement), true, 'focus moves into the dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await button.evaluate((el) => el === document.activeElement), true, 'focus returns to the button');
  }, { independent: true });

  await step('create a project', async () => {
    await createProjectInDashboard(page, 'E2E demo', 'Created by the browser test');
    state.projectUrl = page.url();
    assert.match(state.projectUrl, /\/projects\/prj_/);
  });

  await step('upload an archive and wait until the repository is ready', async () => {
    await uploadArchiveInDashboard(page, 'demo-app', fixtureZip(), TIMEOUT);
    state.repoUrl = page.url();
    state.repoId = state.repoUrl.split('/').pop();
    await page.getByText('Files', { exact: true }).first().waitFor();
    await page.getByRole('button', { name: /config\// }).click();
    await page.getByRole('button', { name: /settings\.py/ }).click();
    await page.getByRole('figure', { name: 'Contents of config/settings.py' }).getByText(PLANTED, { exact: false }).waitFor();
  });

  await step('edit the threat profile', async () => {
    const panel = page.locator('section.panel', { has: page.getByRole('heading', { name: 'Threat profile' }) });
    await panel.getByRole('button', { name: 'Edit' }).waitFor();
    // generation may still be running right after ingest
    await page.waitForFunction(() => !document.body.innerText.includes('Generating…'), null, { timeout: TIMEOUT });
    await panel.getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit threat profile' });
    await form.getByLabel('Summary').fill('Flask demo service holding AWS deployment settings');
    await form.getByLabel('Focus').fill('hard-coded secrets\ninjection');
    await form.getByLabel('Out of scope').fill('docs/');
    await form.getByLabel('Severity threshold').selectOption('low');
    await form.getByRole('button', { name: 'Save threat profile' }).click();
    await panel.getByText('Flask demo service holding AWS deployment settings').waitFor();
    await panel.getByText('hard-coded secrets').waitFor();
    await shot('03-repository');
  });

  await step('start a scan and watch it finish', async () => {
    await page.getByRole('checkbox', { name: /Secrets/ }).check();
    await page.getByRole('button', { name: 'Start scan' }).click();
    await page.waitForURL(/\/scans\/scan_/);
    state.scanUrl = page.url();
    await page.getByRole('progressbar', { name: 'Scan progress' }).waitFor();
    await page.getByRole('heading', { name: /Scan/ }).getByText('Completed').waitFor({ timeout: 3 * TIMEOUT });
    await page.getByRole('log', { name: 'Event log' }).getByText('Scan completed').waitFor();
    // the finding's own link (the severity pill links to a filtered list)
    const row = page.getByRole('table', { name: 'Findings' }).locator('a[href^="/findings/"]').first();
    await row.waitFor();
    state.findingTitle = await row.textContent();
    // Rows re-sort as findings arrive; keep the very link whose title was read.
    state.findingHref = await row.getAttribute('href');
    await shot('04-scan');
    const [artifact] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download summary.json' }).click()]);
    const summary = JSON.parse(readFileSync(await artifact.path(), 'utf8'));
    assert.equal(typeof summary, 'object', 'summary.json artifact downloads with the bearer token');
    // the SSE stream as the browser sees it: named events, id = seq, JSON data, token in the query
    const scanId = state.scanUrl.split('/').pop();
    // the page's own token is out of reach of scripts (memory only); use one from another sign-in
    const { token } = await apiLogin();
    const frames = await page.evaluate(
      ({ id, token }) =>
        new Promise((resolve, reject) => {
          const es = new EventSource(`/v1/scans/${id}/events/stream?access_token=${encodeURIComponent(token)}`);
          const got = [];
          const kinds = ['scan_started', 'scan_progress', 'scan_log', 'finding_updated', 'usage', 'scan_completed', 'scan_failed', 'scan_cancelled'];
          for (const k of kinds)
            es.addEventListener(k, (e) => {
              got.push({ type: e.type, id: e.lastEventId, data: JSON.parse(e.data) });
              if (k === 'scan_completed') {
                es.close();
                resolve(got);
              }
            });
          es.onerror = () => {
            es.close();
            reject(new Error(`stream failed after ${got.length} frames`));
          };
          setTimeout(() => reject(new Error('stream timeout')), 15_000);
        }),
      { id: scanId, token },
    );
    assert.ok(frames.length >= 3, 'stream replays the scan');
    frames.forEach((f, i) => assert.equal(Number(f.id), i + 1, 'ids are gap-free seqs'));
    assert.equal(frames.at(-1).type, 'scan_completed');
    await page.locator(`a[href="${state.findingHref}"]`).first().click();
    await page.waitForURL(/\/findings\/fnd_/);
  });

  await step('open the finding, see its code, dismiss it with a reason', async () => {
    await page.getByRole('heading', { name: state.findingTitle }).waitFor();
    const hl = page.locator('figure.code .line.hl');
    await hl.first().waitFor();
    assert.match(await hl.first().textContent(), /aws_(secret_access_key|access_key_id)|AKIA/i);
    await page.getByLabel('Status').selectOption('dismissed');
    await page.getByLabel('Reason').selectOption('used_in_tests');
    await page.getByLabel('Note').fill('example key from the AWS docs');
    await page.getByRole('button', { name: 'Save triage' }).click();
    // the status and its saved reason sit in the page header
    await page.getByTestId('finding-status').getByText('Dismissed', { exact: true }).waitFor();
    await page.getByTestId('finding-status').getByText('as Used in tests').waitFor();
    await page.getByRole('list').filter({ hasText: 'example key from the AWS docs' }).waitFor();
    await shot('05-finding');
  });

  await step('export SARIF from the repository findings', async () => {
    await page.goto(url(`/repositories/${state.repoId}/findings`));
    await page.getByRole('table', { name: 'Findings' }).waitFor();
    await shot('06-findings');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export SARIF' }).click()]);
    const sarif = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(sarif.version, '2.1.0');
    const results = sarif.runs.flatMap((r) => r.results ?? []);
    assert.ok(results.length >= 1, 'SARIF has results');
    assert.ok(
      results.some((r) => (r.suppressions ?? []).length > 0),
      'the dismissed finding is exported as a suppression',
    );
  });

  await step('create an API key, use it, revoke it', async () => {
    await page.goto(url('/settings'));
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.getByLabel('Key name').fill('ci key');
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByLabel('API key secret').inputValue();
    assert.match(secret, /^vega_/);
    const me = await fetch(url('/v1/auth/me'), { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(me.status, 200, 'the new key authenticates');
    await shot('07-settings');
    await page.getByRole('button', { name: 'I have saved it' }).click();
    assert.equal(await page.getByLabel('API key secret').count(), 0, 'the secret is not shown again');
    await page.getByRole('button', { name: 'Revoke ci key' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('No API keys').waitFor();
    const after = await fetch(url('/v1/auth/me'), { headers: { Authorization: `Bearer ${secret}` } });
    assert.equal(after.status, 401, 'revocation is immediate');
  }, { independent: true });

  await step('a session revoked elsewhere sends the user to sign-in and back', async () => {
    expect401 = true;
    try {
      await page.goto(url('/'));
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      // Root signs this user out everywhere from another device: the page's
      // access token and its refresh cookie both stop working.
      const other = await apiLogin();
      const revoked = await fetch(url(`/v1/users/${other.userId}/revoke-sessions`), { method: 'POST', headers: { Authorization: `Bearer ${other.token}` } });
      assert.equal(revoked.status, 204);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('alert').filter({ hasText: 'Your session has expired' }).waitFor();
      assert.match(page.url(), /\/sign-in\?next=%2Fsettings$/);
      await signInThroughTheForm();
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
    } finally {
      expect401 = false;
    }
  });

  await step('project page, deep-link reload', async () => {
    await page.goto(state.projectUrl);
    await page.getByRole('table', { name: 'Repositories' }).getByText('demo-app').waitFor();
    await page.getByRole('table', { name: 'Repositories' }).getByText('Completed').waitFor();
    await page.getByRole('table', { name: 'Project scans' }).getByText('Completed').waitFor();
    await shot('10-project');
    await page.goto(state.scanUrl);
    await page.reload();
    await page.getByRole('heading', { name: /Scan/ }).getByText('Completed').waitFor();
  });

  await step('projects page with a project card', async () => {
    await page.goto(url('/'));
    const card = page.getByRole('list', { name: 'Projects' }).getByRole('listitem').filter({ hasText: 'E2E demo' });
    await card.getByText('Repositories').waitFor();
    await card.getByText('Medium').waitFor(); // the open, undismissed finding
    await shot('11-projects');
  });

  await step('sign out ends the session, the access token and the cookie', async () => {
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    const token = lastBearer;
    assert.equal(await meStatus(token), 200, 'the page signed in with this token');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').waitFor();
    assert.equal(await meStatus(token), 401, 'logout ends the access token too');
    assert.equal(await refreshCookie(), undefined, 'logout clears the refresh cookie');
    await page.reload();
    await page.getByLabel('Email').waitFor();
    assert.match(page.url(), /sign-in/, 'a reload after sign-out stays signed out');
  }, { independent: true });

  await step('sign out everywhere', async () => {
    expect401 = true;
    try {
      await page.goto(url('/sign-in'));
      await signInThroughTheForm();
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      const laptop = await apiLogin(); // another device of the same user
      assert.equal(await meStatus(laptop.token), 200);
      await page.goto(url('/settings'));
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      const here = lastBearer;
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await shot('12-sign-out-everywhere');
      await page.getByRole('dialog', { name: 'Sign out everywhere?' }).getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.getByLabel('Email').waitFor();
      assert.equal(await page.getByText('Your session has expired').count(), 0, 'a deliberate sign-out is not reported as an expired session');
      assert.equal(await meStatus(here), 401, "this browser's access token is revoked");
      assert.equal(await meStatus(laptop.token), 401, "the other device's access token is revoked");
      assert.equal(await refreshCookie(), undefined, 'the refresh cookie is cleared');
      await page.reload();
      await page.getByLabel('Email').waitFor();
      // sign back in for the steps that follow
      await signInThroughTheForm();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
    } finally {
      expect401 = false;
    }
  }, { independent: true });

  await step('usage page', async () => {
    await page.goto(url('/usage'));
    await page.getByRole('heading', { name: 'Usage' }).waitFor();
    await page.getByText('Output tokens').first().waitFor();
    await shot('08-usage');
  }, { independent: true });

  await step('operations page', async () => {
    await page.goto(url('/operations'));
    await page.getByRole('heading', { name: 'Workers' }).waitFor();
    await page.getByRole('heading', { name: 'Queue' }).waitFor();
    await page.getByRole('button', { name: 'Recover' }).click();
    await page.getByRole('dialog', { name: 'Recover now?' }).getByRole('button', { name: 'Run recover' }).click();
    await page.getByText('Recover finished').waitFor();
    await shot('09-operations');
  }, { independent: true });

  await step('DNS rebinding: a name re-pointed at Vega is refused, and the CSP keeps fetches at home', async () => {
    // A separate page: its 421s and CSP report are the point, not errors of the tour above.
    const other = await browser.context.newPage();
    try {
      const rebound = `http://${REBOUND_HOST}:${new URL(vega.base).port}`;
      const res = await other.goto(`${rebound}/`);
      assert.equal(res.status(), 421, 'the dashboard under a rebound name');
      // Requested by the browser under the rebound name, as the attacker's page
      // would (the 421 page itself carries a CSP that lets it fetch nothing).
      const r = await other.goto(`${rebound}/v1/auth/config`);
      const api = { status: r.status(), body: await r.text() };
      assert.equal(api.status, 421, `/v1/auth/config under a rebound name: ${api.body}`);
      assert.ok(!api.body.includes(PASSWORD));

      await other.goto(url('/'));
      const outcome = await other.evaluate(async (target) => {
        const violations = [];
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
        let fetched;
        try {
          await fetch(target, { mode: 'no-cors' }); // without a CSP this resolves (opaque response)
          fetched = true;
        } catch {
          fetched = false;
        }
        await new Promise((r) => setTimeout(r, 50));
        return { fetched, violations };
      }, `https://${REBOUND_HOST}/v1/healthz`);
      // https: the policy this replaced allowed any https origin (it failed only at TLS, with no violation)
      assert.deepEqual(outcome, { fetched: false, violations: ['connect-src'] }, 'a fetch to another origin is blocked by connect-src');
    } finally {
      await other.close();
    }
  }, { independent: true });

  await t.test('no console errors', () => {
    assert.deepEqual({ consoleErrors, httpErrors }, { consoleErrors: [], httpErrors: [] });
  });
});
