// End-to-end: the findings list on a repository with 300+ findings, in
// headless Chromium against the real vega binary. The data is seeded through
// the API (upload + secrets scan); the checks go through the dashboard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { B32, seededRand, signedInBrowser, startSeededVega } from './api.mjs';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = seededRand('findings-list');
const CRITICAL = 250; // aws-access-token: critical
const MEDIUM = 60; // jwt: medium
const RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = () => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: rand(ALNUM, 24), name: 'Findings List' })}.${rand(ALNUM, 43)}`;

/** 250 AWS access key IDs and 60 JWTs, the criticals under later paths so path order is not severity order. */
function bigRepository() {
  const files = {};
  for (let f = 0; f < 25; f++) {
    files[`big/z-aws/keys${String(f).padStart(2, '0')}.py`] = Array.from({ length: CRITICAL / 25 }, (_, i) => `AWS_ACCESS_KEY_ID_${i} = "AKIA${rand(B32, 16)}"`).join('\n') + '\n';
  }
  for (let f = 0; f < 6; f++) {
    files[`big/a-jwt/tokens${f}.py`] = Array.from({ length: MEDIUM / 6 }, (_, i) => `SESSION_${i} = "${jwt()}"`).join('\n') + '\n';
  }
  return files;
}

let vega;
let browser;
let page;
let repoId;

before(async () => {
  ({ vega, repoId } = await startSeededVega('Findings list', 'big', bigRepository()));
  ({ browser, page } = await signedInBrowser(vega));
});

after(async () => {
  await browser?.close();
  await vega?.stop();
});

const range = () => page.getByTestId('range').textContent();
const severities = () => page.locator('table.findings-table tbody tr [data-severity]').evaluateAll((els) => els.map((e) => e.getAttribute('data-severity')));

test('findings list: server sort, totals, tab counts, select-all-matching and undo', { timeout: 120_000 }, async () => {
  const total = CRITICAL + MEDIUM;
  await page.goto(`${vega.base}/repositories/${repoId}/findings?limit=100`);
  await page.getByRole('table', { name: 'Findings' }).waitFor();
  assert.equal(await range(), `1–100 of ${total}`);
  await page.getByRole('tab', { name: `Open ${total}` }).waitFor();
  await page.getByRole('tab', { name: 'Dismissed 0' }).waitFor();

  // server sort: every critical comes before every medium, across all pages
  const seen = [];
  for (let p = 1; ; p++) {
    await page.waitForFunction((p) => document.querySelector('[data-testid=range]')?.textContent?.startsWith(`${(p - 1) * 100 + 1}–`), p);
    seen.push(...(await severities()));
    const next = page.getByRole('button', { name: 'Next' });
    if (await next.isDisabled()) break;
    await next.click();
  }
  assert.equal(seen.length, total);
  assert.equal(seen.filter((s) => s === 'critical').length, CRITICAL);
  for (let i = 1; i < seen.length; i++) assert.ok(RANK[seen[i - 1]] >= RANK[seen[i]], `row ${i}: ${seen[i - 1]} before ${seen[i]}`);
  // the page and sort are in the URL: Back returns to the previous page
  await page.goBack();
  await page.waitForFunction(() => document.querySelector('[data-testid=range]')?.textContent?.startsWith('201–'));

  // the severity pill filters the list; select all matching and dismiss
  await page.goto(`${vega.base}/repositories/${repoId}/findings?limit=25&severity=medium`);
  assert.equal(await range(), `1–25 of ${MEDIUM}`);
  await page.getByLabel('Select all findings on this page').check();
  await page.getByRole('button', { name: `Select all ${MEDIUM} matching` }).click();
  const bar = page.getByRole('region', { name: 'Bulk triage' });
  await bar.getByText(`${MEDIUM} selected`).waitFor();
  await bar.getByRole('button', { name: 'Dismiss ▾' }).click();
  await bar.getByRole('menuitem', { name: 'False positive' }).click();
  const toast = page.getByRole('status').filter({ hasText: `${MEDIUM} findings` });
  await toast.waitFor();
  await page.getByRole('tab', { name: `Dismissed ${MEDIUM}` }).waitFor();
  await page.getByRole('tab', { name: 'Open 0' }).waitFor();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByRole('tab', { name: `Open ${CRITICAL}` }).waitFor();
  assert.equal(await range(), `1–25 of ${CRITICAL}`);

  await toast.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('tab', { name: `Open ${total}` }).waitFor();
  await page.getByRole('tab', { name: 'Dismissed 0' }).waitFor();
  assert.equal(await range(), `1–25 of ${total}`);
});
