// End-to-end: stored HTML/JS payloads never execute in the dashboard. A
// project, a repository, its file names, file contents, a planted secret's
// line and the threat profile all carry payloads that would set
// window.__xss or open a dialog if they ever became markup; the test scans
// the repository and visits every page that shows them in headless Chromium
// against the real vega binary, with dialogs, console errors and CSP
// violations recorded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { apiClient, apiLogin, scanToCompletion, signIn, uploadRepository } from './api.mjs';
import { startBrowser, startVega } from './harness.mjs';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const rand = (n) => [...randomBytes(n)].map((b) => B32[b % B32.length]).join('');

/** Each payload sets window.__xss to its number and opens a dialog if it runs. */
const payload = (n) => [
  `<img src=x onerror="window.__xss=${n};alert(${n})">`,
  `<script>window.__xss=${n};alert(${n})</script>`,
  `"><svg onload="window.__xss=${n};alert(${n})">`,
];
const PROJECT = `Proj ${payload(1)[0]}`;
const REPO = `Repo ${payload(2)[2]}`;
const DIR = `dir<img src=x onerror=alert(3)>`;
const FILE = `f<svg onload=alert(4)>.py`;
const SECRET_LINE = `AWS_ACCESS_KEY_ID = "AKIA${rand(16)}"  # ${payload(5)[0]}`;

let vega;
let browser;
let page;
const ids = {};
const executed = []; // dialogs, __xss values, CSP violations: anything that ran

before(async () => {
  vega = await startVega({ env: { VEGA_SCAN_ENGINES: 'secrets' } });
  const api = apiClient(vega, await apiLogin(vega));
  const project = await api('POST', '/v1/projects', { name: PROJECT, description: payload(6).join(' ') });
  ids.project = project.id;
  const files = {
    [`${DIR}/${FILE}`]: `${SECRET_LINE}\nprint("${payload(7)[1]}")\n`,
    [`${payload(8)[0]}.md`]: `# ${payload(9).join('\n')}\n`,
    'README.md': 'plain\n',
  };
  const repo = await uploadRepository(api, project.id, REPO, files, 'x.zip');
  ids.repo = repo.id;
  await api('PUT', `/v1/repositories/${repo.id}/threat-profile`, {
    summary: payload(10).join(' '),
    assets: [payload(11)[0]],
    entry_points: [payload(12)[1]],
    trust_boundaries: [],
    focus: [],
    out_of_scope: [],
    severity_threshold: 'low',
  });
  ids.scan = (await scanToCompletion(api, repo.id)).id;
  const findings = await api('GET', `/v1/repositories/${repo.id}/findings`);
  assert.ok(findings.items.length > 0, 'the planted secret was not found');
  ids.findings = findings.items.map((f) => f.id);
  assert.ok(findings.items.some((f) => f.file_path.includes('<img')), `no finding under the payload path: ${findings.items.map((f) => f.file_path)}`);

  browser = await startBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(20_000);
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.__cspViolations ||= []).push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
    });
  });
  page.on('dialog', async (d) => {
    executed.push(`dialog ${d.type()}: ${d.message()} on ${page.url()}`);
    await d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) executed.push(`console: ${m.text()} on ${page.url()}`);
  });
  await signIn(page, vega);
});

after(async () => {
  await browser?.close();
  await vega?.stop();
});

/** Records whatever ran on the current page. */
async function collect(where) {
  await page.waitForTimeout(300); // an onerror fires once the broken image fails
  const got = await page.evaluate(() => ({ xss: window.__xss, csp: window.__cspViolations || [] }));
  if (got.xss !== undefined) executed.push(`window.__xss = ${got.xss} on ${where}`);
  for (const v of got.csp) executed.push(`CSP violation on ${where}: ${v}`);
}

/** Visits a page, waits until it shows text, and checks nothing ran. */
async function visit(path, shows) {
  await page.goto(`${vega.base}${path}`);
  if (shows) await page.getByText(shows, { exact: false }).first().waitFor();
  await collect(path);
}

test('stored payloads render as text on every page and never run', { timeout: 180_000 }, async () => {
  // The names are shown as text (the checks below are not vacuous) …
  await visit('/', 'Proj <img');
  await visit(`/projects/${ids.project}`, 'Repo "><svg');
  await visit(`/projects/${ids.project}/findings`, 'AWS');
  await visit(`/repositories/${ids.repo}`, 'Repo "><svg');
  await page.getByText('<script>window.__xss=10', { exact: false }).first().waitFor(); // threat profile summary
  // … the file browser lists the payload names and opens the payload file.
  const files = page.getByRole('list', { name: 'Files' });
  await files.getByRole('button', { name: DIR }).click();
  await files.getByRole('button', { name: FILE }).click();
  await page.getByText('AWS_ACCESS_KEY_ID', { exact: false }).first().waitFor();
  await collect('file view');
  await files.getByRole('button', { name: FILE }).waitFor();
  await page.getByRole('navigation', { name: 'Folder path' }).getByRole('button').first().click();
  await files.getByRole('button', { name: `${payload(8)[0]}.md` }).click();
  await page.getByText('window.__xss=9', { exact: false }).first().waitFor();
  await collect('markdown file view');

  await visit(`/repositories/${ids.repo}/findings`, 'f<svg');
  await visit(`/scans/${ids.scan}`, 'Repo "><svg');
  for (const id of ids.findings) await visit(`/findings/${id}`, 'AWS');
  await visit('/usage');
  await visit('/settings');
  await visit('/operations');

  assert.deepEqual(executed, [], `payloads ran:\n${executed.join('\n')}`);
  const shown = await page.evaluate(() => document.documentElement.outerHTML);
  assert.ok(!/<img src="?x"? onerror/i.test(shown), 'an img payload became markup');
});
