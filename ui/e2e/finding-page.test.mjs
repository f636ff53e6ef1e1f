// End-to-end: the finding page of a secret copied into 100 places, in
// headless Chromium against the real vega binary. Seeded through the API
// (upload + secrets scan); every check goes through the dashboard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { B32, seededRand, signedInBrowser, startSeededVega } from './api.mjs';

const rand = seededRand('finding-page');
const KEY = `AKIA${rand(B32, 16)}`; // the key copied into 100 places
const OTHERS = 300; // other keys, one file each: the list around it (301 findings, the issue's ≥ 300)
const FILES = 50; // two copies per file: 100 occurrences, 50 files

/** 50 files holding the key twice (lines 3 and 6), then 300 files with one other key each. */
function copies() {
  const files = {};
  for (let f = 0; f < FILES; f++) {
    files[`app/config${String(f).padStart(2, '0')}.py`] = `import os\n\nAWS_ACCESS_KEY_ID = "${KEY}"\nREGION = "eu-west-1"\n\nBACKUP_KEY_ID = "${KEY}"\n`;
  }
  for (let i = 0; i < OTHERS; i++) files[`zz/other${i}.py`] = `KEY_ID = "AKIA${rand(B32, 16)}"\n`;
  return files;
}

let vega;
let browser;
let page;
let repoId;
let findingId;

before(async () => {
  let api;
  ({ vega, api, repoId } = await startSeededVega('Finding page', 'copies', copies()));
  const list = await api('GET', `/v1/repositories/${repoId}/findings?limit=100`);
  assert.equal(list.total, OTHERS + 1);
  const big = list.items.find((f) => (f.locations ?? []).length === 100);
  assert.ok(big, 'one finding with 100 occurrences');
  findingId = big.id;
  ({ browser, page } = await signedInBrowser(vega));
});

after(async () => {
  await browser?.close();
  await vega?.stop();
});

/** Counts the API requests the page makes while fn runs (and logs when each ended). */
async function countingApi(fn) {
  const seen = [];
  const t0 = Date.now();
  const ends = [];
  const on = (req) => {
    const u = new URL(req.url());
    if (u.pathname.startsWith('/v1/')) seen.push(`${req.method()} ${u.pathname}`);
  };
  const done = (req) => ends.push(`${Date.now() - t0} ms ${new URL(req.url()).pathname.replace(/[a-z]+_[0-9A-Z]{26}/g, ':id')}`);
  page.on('request', on);
  page.on('requestfinished', done);
  try {
    await fn();
  } finally {
    page.off('request', on);
    page.off('requestfinished', done);
  }
  if (process.env.VEGA_E2E_TIMINGS) console.log(ends.join('\n'));
  return seen;
}

const codeBlocks = () => page.getByRole('list', { name: 'Occurrences' }).locator('figure.code');
const occurrenceRange = () => page.getByTestId('occurrence-range').textContent();

test('finding page: 100 occurrences in < 1 s with at most 5 API requests, paged, masked, Reveal logged', { timeout: 120_000 }, async () => {
  // From the list, as a user arrives: a client-side navigation.
  await page.goto(`${vega.base}/repositories/${repoId}/findings?sort=path`);
  await page.getByRole('table', { name: 'Findings' }).waitFor();
  await page.waitForLoadState('networkidle'); // the list is done (it prefetches the finding page's code)
  const link = page.getByRole('table', { name: 'Findings' }).locator(`a[href="/findings/${findingId}"]`);
  let ms = 0;
  const fromList = await countingApi(async () => {
    const t0 = Date.now();
    await link.click();
    await codeBlocks().nth(9).waitFor();
    await page.getByRole('list', { name: 'History' }).waitFor();
    ms = Date.now() - t0;
  });
  console.log(`finding page from the list: ${ms} ms, ${fromList.length} API requests: ${fromList.join(', ')}`);
  assert.ok(ms < 1000, `rendered in ${ms} ms`);
  assert.ok(fromList.length <= 5, `${fromList.length} requests: ${fromList.join(', ')}`);
  assert.equal(await codeBlocks().count(), 10);
  assert.equal(await occurrenceRange(), '1–10 of 100');

  // A full load of the page (boot included).
  let loadMs = 0;
  const full = await countingApi(async () => {
    const t0 = Date.now();
    await page.goto(`${vega.base}/findings/${findingId}`);
    await codeBlocks().nth(9).waitFor();
    await page.getByRole('list', { name: 'History' }).waitFor();
    loadMs = Date.now() - t0;
  });
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  console.log(`finding page, full load: ${loadMs} ms, ${full.length} API requests (${full.join(', ')}), ${height} px tall`);
  // The bar (< 1 s, <= 5 requests) is the page's own work, measured above; a
  // cold load adds the app's boot (auth config, refresh, me) and its code.
  assert.equal(full.length, fromList.length + 3, `full load: ${full.join(', ')}`);
  assert.ok(loadMs < 3000, `full load in ${loadMs} ms`);

  // Masked in every code view: the raw key is nowhere on the page.
  const main = page.locator('main');
  assert.ok(!(await main.textContent()).includes(KEY.slice(4)), 'the raw key is on the page');
  assert.ok((await codeBlocks().first().textContent()).includes('AKIA…[20 chars]'));
  assert.equal(await codeBlocks().first().locator('[data-secret=mask]').count(), 2);

  // Paging: the page is in the URL.
  await page.getByRole('navigation', { name: 'Occurrence pages' }).getByRole('button', { name: 'Next' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=occurrence-range]')?.textContent === '11–20 of 100');
  assert.match(page.url(), /[?&]occurrences=2/);
  assert.equal(await codeBlocks().count(), 10);

  // Reveal asks first, shows the key, and is in the history.
  await page.getByRole('button', { name: 'Reveal secrets' }).click();
  const dialog = page.getByRole('dialog', { name: 'Reveal secrets?' });
  await dialog.getByRole('button', { name: 'Reveal' }).click();
  await page.getByRole('button', { name: 'Hide secrets' }).waitFor();
  assert.ok((await codeBlocks().first().textContent()).includes(KEY));
  await page.getByRole('list', { name: 'History' }).getByText('revealed the secret', { exact: true }).waitFor();
  // Forgotten on navigation: the next page is masked again.
  await page.getByRole('navigation', { name: 'Occurrence pages' }).getByRole('button', { name: 'Next' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid=occurrence-range]')?.textContent === '21–30 of 100');
  assert.ok(!(await main.textContent()).includes(KEY.slice(4)), 'a reveal outlived its page');
});

test('occurrence links to the file browser at its line, marked and masked', { timeout: 60_000 }, async () => {
  await page.goto(`${vega.base}/findings/${findingId}?occurrences=2`);
  await codeBlocks().first().waitFor();
  const first = page.getByRole('list', { name: 'Occurrences' }).getByRole('link').first();
  const where = await first.textContent(); // app/config05.py:3
  const [path, line] = where.split(':');
  await first.click();
  await page.waitForURL(/\/repositories\/.+\/files\?/);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('file'), path);
  assert.equal(url.searchParams.get('line'), line);
  const view = page.getByRole('figure', { name: `Contents of ${path}` });
  await view.waitFor();
  const at = view.locator(`[data-line="${line}"]`);
  assert.match(await at.getAttribute('class'), /\bhl\b/);
  assert.match(await at.getAttribute('class'), /\bmarked\b/);
  assert.match(await view.locator('[data-line="6"]').getAttribute('class'), /\bmarked\b/);
  assert.doesNotMatch(await view.locator('[data-line="4"]').getAttribute('class'), /\bmarked\b/);
  assert.ok(!(await view.textContent()).includes(KEY.slice(4)), 'the file browser shows the raw key');
  assert.equal(await view.locator('[data-secret=mask]').count(), 2);
  await page.getByRole('list', { name: 'Findings in this file' }).getByRole('link').first().waitFor();
  // The deep link survives a reload.
  await page.reload();
  await page.getByRole('figure', { name: `Contents of ${path}` }).locator(`[data-line="${line}"].hl`).waitFor();
  // Reveal here is logged on the finding too.
  await page.getByRole('button', { name: 'Reveal secrets' }).click();
  await page.getByRole('dialog', { name: 'Reveal secrets?' }).getByRole('button', { name: 'Reveal' }).click();
  await page.getByRole('button', { name: 'Hide secrets' }).waitFor();
  assert.ok((await page.getByRole('figure', { name: `Contents of ${path}` }).textContent()).includes(KEY));
});

test('keyboard triage: j/k move within the list, c confirms, d dismisses with a reason, ? helps', { timeout: 60_000 }, async () => {
  await page.goto(`${vega.base}/repositories/${repoId}/findings?sort=path`);
  const rows = page.getByRole('table', { name: 'Findings' }).locator('tbody tr');
  await rows.first().waitFor();
  const hrefs = await rows.locator('a[href^="/findings/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.equal(hrefs.length, Math.min(OTHERS + 1, 50)); // the list's first page
  await page.getByRole('table', { name: 'Findings' }).locator(`a[href="${hrefs[1]}"]`).click();
  await page.getByTestId('list-position').getByText(`2 of ${OTHERS + 1}`).waitFor();
  await page.keyboard.press('j');
  await page.waitForURL(`**${hrefs[2]}`);
  await page.getByTestId('list-position').getByText(`3 of ${OTHERS + 1}`).waitFor();
  await page.keyboard.press('k');
  await page.keyboard.press('k');
  await page.waitForURL(`**${hrefs[0]}`);
  await page.getByTestId('list-position').getByText(`1 of ${OTHERS + 1}`).waitFor();
  assert.ok(await page.getByRole('button', { name: '← Previous' }).isDisabled());

  const status = page.getByTestId('finding-status');
  await page.keyboard.press('c');
  await status.getByText('Confirmed').waitFor();
  await page.keyboard.press('d');
  const menu = page.getByRole('menu', { name: 'Dismiss as' });
  await menu.waitFor();
  await page.keyboard.press('ArrowDown'); // the second reason: won't fix
  await page.keyboard.press('Enter');
  await status.getByText("Dismissed as Won't fix").or(status.getByText('Dismissed as Wont fix')).waitFor();
  await page.reload(); // the saved reason is shown
  await page.getByTestId('finding-status').getByText(/Dismissed as/).waitFor();

  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  assert.match(await help.textContent(), /Confirm/);
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
});

test('at a 390 px viewport the finding page is not wider than the screen', { timeout: 60_000 }, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(`${vega.base}/findings/${findingId}`);
    await codeBlocks().nth(9).waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    console.log(`finding page at 390 px: ${width} px wide`);
    assert.ok(width <= 390, `the page is ${width} px wide`);
    await page.goto(`${vega.base}/repositories/${repoId}/files?file=app/config00.py&line=3`);
    await page.getByRole('figure', { name: 'Contents of app/config00.py' }).waitFor();
    const fw = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(fw <= 390, `the file browser is ${fw} px wide`);
  } finally {
    await page.setViewportSize({ width: 1360, height: 900 });
  }
});
