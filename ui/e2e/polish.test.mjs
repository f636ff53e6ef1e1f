// End-to-end: engines in the scan form, threat profile versions, and every
// page at a 390 px phone viewport, in headless Chromium against the real
// vega binary. The codex engine is unavailable here (no model provider), so
// the scan form must say so instead of failing after Start.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { B32, apiClient, apiLogin, scanToCompletion, seededRand, signedInPage, uploadRepository, waitForScanCompleted } from './api.mjs';
import { startBrowser, startVega } from './harness.mjs';

const PHONE = { width: 390, height: 844 };

let vega;
let browser;
let page;
let api;
const ids = {};

// 300 more AWS keys (seeded, so every run plants the same detectable ones):
// the first repository holds 301 findings, the issue's >= 300 for every check here.
function manyKeys() {
  const rand = seededRand('polish');
  const files = {};
  for (let f = 0; f < 30; f++) {
    const lines = Array.from({ length: 10 }, (_, i) => `KEY_${i} = "AKIA${rand(B32, 16)}"`);
    files[`keys/batch${String(f).padStart(2, '0')}.py`] = lines.join('\n') + '\n';
  }
  return files;
}

/** A repository with a long path and an AWS key (critical), plus extra files, scanned once with the secrets engine. */
async function scannedRepository(projectId, name, extra = {}) {
  const repo = await uploadRepository(api, projectId, name, {
    ...extra,
    'package.json': '{"dependencies": {"express": "^4.18.0"}}\n',
    'src/a/rather/deeply/nested/directory/with/a/long/name/config/settings.production.environment.js':
      'const AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLF";\nmodule.exports = { region: "eu-west-1" };\n',
  });
  return { repo, scan: await scanToCompletion(api, repo.id) };
}

before(async () => {
  vega = await startVega({ env: { VEGA_SCAN_ENGINES: 'secrets' } });
  api = apiClient(vega, await apiLogin(vega));
  const project = await api('POST', '/v1/projects', { name: 'A project with a fairly long name for a phone screen', description: 'Polish checks' });
  ids.project = project.id;
  const first = await scannedRepository(project.id, 'payments-service-with-a-long-repository-name', manyKeys());
  await scannedRepository(project.id, 'ledger');
  ids.repo = first.repo.id;
  ids.scan = first.scan.id;
  const findings = await api('GET', `/v1/repositories/${ids.repo}/findings`);
  assert.equal(findings.total, 301, 'the scan found every planted key');
  ids.finding = findings.items[0].id;

  browser = await startBrowser();
  page = await signedInPage(browser, vega);
});

after(async () => {
  await browser?.close();
  await vega?.stop();
});

test('the scan form disables an unavailable engine with its reason and names the default', { timeout: 90_000 }, async () => {
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(`${vega.base}/repositories/${ids.repo}`);
  const form = page.getByRole('form', { name: 'New scan' });
  const codex = form.getByRole('checkbox', { name: /Codex AI audit/ });
  await codex.waitFor();
  assert.ok(await codex.isDisabled(), 'codex is disabled');
  assert.equal(await codex.isChecked(), false);
  const why = await form.locator(`#${await codex.getAttribute('aria-describedby')}`).textContent();
  assert.match(why, /^Unavailable: .+ To enable it: .+/);
  assert.ok(await form.getByRole('checkbox', { name: /Secrets/ }).isChecked(), 'the default engine starts checked');
  await form.getByText(/^Default: Secrets/).waitFor();

  // Operations says the same.
  await page.goto(`${vega.base}/operations`);
  const engines = page.getByRole('table', { name: 'Engines' });
  const row = engines.getByRole('row', { name: /^Codex AI audit/ });
  await row.waitFor();
  assert.match(await row.textContent(), /Unavailable.*To enable it/);

  // Start runs the default and completes: nothing fails after Start.
  await page.goto(`${vega.base}/repositories/${ids.repo}`);
  await page.getByRole('button', { name: 'Start scan' }).click();
  await page.waitForURL(/\/scans\/scan_/);
  const scanId = page.url().split('/scans/')[1];
  const done = await waitForScanCompleted(api, scanId, 'scan from the form');
  assert.deepEqual(done.engines, ['secrets']);
});

test('threat profile: Generate asks before replacing edits, and an earlier version is restored', { timeout: 90_000 }, async () => {
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.goto(`${vega.base}/repositories/${ids.repo}`);
  const panel = page.getByRole('region', { name: 'Threat profile' });
  await panel.getByText('Ready', { exact: true }).waitFor();
  await panel.getByText(/secrets engine scans them anyway/).waitFor();

  await panel.getByRole('button', { name: 'Edit' }).click();
  await panel.getByLabel('Summary').fill('Hand-written summary for the payments service');
  await panel.getByRole('button', { name: 'Save threat profile' }).click();
  await panel.getByText('Hand-written summary for the payments service').waitFor();

  await panel.getByRole('button', { name: 'Generate' }).click();
  const ask = page.getByRole('dialog', { name: 'Replace your edits?' });
  await ask.getByText(/stays in History/).waitFor();
  await ask.getByRole('button', { name: 'Generate and replace' }).click();
  await panel.getByText(/^Generated · /).waitFor({ timeout: 60_000 });
  assert.equal(await panel.getByText('Hand-written summary for the payments service').count(), 0, 'generation replaced the edit');

  await panel.getByRole('button', { name: 'History' }).click();
  const history = page.getByRole('dialog', { name: 'Threat profile history' });
  const edited = history.getByRole('listitem').filter({ hasText: 'Hand-written summary for the payments service' });
  await edited.getByRole('button', { name: 'Restore' }).click();
  await history.waitFor({ state: 'detached' });
  await panel.getByText('Hand-written summary for the payments service').waitFor();
  await panel.getByText(/^Restored · /).waitFor();
  const versions = await api('GET', `/v1/repositories/${ids.repo}/threat-profile/versions`);
  assert.equal(versions.items[0].source, 'restored');
  assert.equal(versions.items[0].content.summary, 'Hand-written summary for the payments service');
});

/** Every page a signed-in person reaches, by path. */
const pages = () => [
  ['projects', '/'],
  ['project', `/projects/${ids.project}`],
  ['project findings', `/projects/${ids.project}/findings`],
  ['repository', `/repositories/${ids.repo}`],
  ['repository findings', `/repositories/${ids.repo}/findings`],
  ['repository findings by rule', `/repositories/${ids.repo}/findings?group=rule`],
  ['scan', `/scans/${ids.scan}`],
  ['finding', `/findings/${ids.finding}`],
  ['settings', '/settings'],
  ['usage', '/usage'],
  ['operations', '/operations'],
  ['not found', '/no-such-page'],
];

async function measure(path) {
  await page.goto(`${vega.base}${path}`);
  await page.locator('main').waitFor();
  // Let lazy chunks and first requests settle.
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.querySelector('main .state .spinner'), null, { timeout: 20_000 }).catch(() => undefined);
  return page.evaluate(() => {
    // The outermost elements that stick out, top bar and main content alike
    // (inside a scroller, like a wide table's, is fine).
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      .filter((e) => !e.closest('.table-wrap, .code, pre, .event-log') || getComputedStyle(e).position === 'absolute')
      .filter((e, _, all) => !all.includes(e.parentElement))
      .slice(0, 8)
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} right=${Math.round(e.getBoundingClientRect().right)}`);
    const unlinked = [...document.querySelectorAll('main .sev-count, main .badge.sev')]
      .filter((e) => !e.closest('a') && !e.querySelector('a'))
      .map((e) => e.textContent);
    return { scrollWidth: document.documentElement.scrollWidth, bodyWidth: document.body.scrollWidth, wide, unlinked };
  });
}

test('at 390 px no page is wider than the screen, Sign out is on screen, and every severity pill is a link', { timeout: 180_000 }, async () => {
  await page.setViewportSize(PHONE);
  const report = [];
  const problems = []; // every page is measured before failing, so one run shows them all
  for (const [name, path] of pages()) {
    const m = await measure(path);
    report.push(`${name}: ${m.scrollWidth}px`);
    if (m.scrollWidth > PHONE.width || m.bodyWidth > PHONE.width) problems.push(`${name} (${path}) is ${m.scrollWidth} px wide: ${m.wide.join(', ')}`);
    if (m.unlinked.length) problems.push(`${name}: severity pills without a link: ${m.unlinked.join(', ')}`);
    const signOut = await page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).boundingBox();
    if (!signOut || signOut.x < 0 || signOut.x + signOut.width > PHONE.width) problems.push(`${name}: Sign out is off screen (${JSON.stringify(signOut)})`);
  }
  // The sign-in page has no top bar; it must fit too.
  const signIn = await measure('/sign-in');
  report.push(`sign in: ${signIn.scrollWidth}px`);
  if (signIn.scrollWidth > PHONE.width) problems.push(`sign in is ${signIn.scrollWidth} px wide: ${signIn.wide.join(', ')}`);
  // Dialogs too: Add repository.
  await page.goto(`${vega.base}/projects/${ids.project}`);
  await page.getByRole('button', { name: 'Add repository' }).click();
  await page.getByRole('dialog', { name: 'Add repository' }).waitFor();
  const dialogWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  if (dialogWidth > PHONE.width) problems.push(`Add repository dialog: ${dialogWidth} px`);
  console.log(`widths at ${PHONE.width} px: ${report.join('; ')}`);
  assert.deepEqual(problems, []);
});
