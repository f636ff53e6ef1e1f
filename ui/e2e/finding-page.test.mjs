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
let api;
let browser;
let page;
let repoId;
let findingId;

before(async () => {
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

/** The finding of one of the other keys, by its file (untouched by the other tests). */
async function otherFinding(file) {
  for (let cursor = ''; ; ) {
    const pg = await api('GET', `/v1/repositories/${repoId}/findings?sort=path&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const f = pg.items.find((x) => x.file_path === file);
    if (f) return f;
    assert.ok(pg.next_cursor, `no finding in ${file}`);
    cursor = pg.next_cursor;
  }
}

/** Records the PATCH requests the page sends to findings while it is on. */
function recordPatches() {
  const patches = [];
  const on = (req) => {
    if (req.method() === 'PATCH' && new URL(req.url()).pathname.startsWith('/v1/findings/')) patches.push(req.postDataJSON());
  };
  page.on('request', on);
  return { patches, stop: () => page.off('request', on) };
}

test('header buttons: Confirm confirms; Dismiss ▾ changes nothing until a reason is chosen, then dismisses with it', { timeout: 60_000 }, async () => {
  const target = await otherFinding('zz/other7.py');
  assert.equal(target.status, 'open');
  await page.goto(`${vega.base}/findings/${target.id}`);
  const header = page.locator('header.page-header');
  const status = page.getByTestId('finding-status');
  await status.getByText('Open', { exact: true }).waitFor();
  const rec = recordPatches();
  try {
    // Confirm, by the header's button.
    await header.getByRole('button', { name: 'Confirm', exact: true }).click();
    await status.getByText('Confirmed', { exact: true }).waitFor();
    assert.deepEqual(rec.patches, [{ status: 'confirmed' }]);
    assert.equal((await api('GET', `/v1/findings/${target.id}`)).status, 'confirmed');
    // confirmed: the header offers no second Confirm, and Reopen instead
    await header.getByRole('button', { name: 'Confirm', exact: true }).waitFor({ state: 'detached' });
    await header.getByRole('button', { name: 'Reopen' }).waitFor();
    const history = page.getByRole('list', { name: 'History' });
    await history.getByText('Open → Confirmed').waitFor();

    // "Dismiss ▾" alone only opens the reasons: no default action.
    const dismiss = header.getByRole('button', { name: 'Dismiss ▾' });
    await dismiss.click();
    const menu = page.getByRole('menu', { name: 'Dismiss as' });
    await menu.waitFor();
    assert.equal(await dismiss.getAttribute('aria-expanded'), 'true');
    const reasons = await menu.getByRole('menuitem').allTextContents();
    assert.equal(reasons.length, 4, reasons.join(' | '));
    assert.ok(reasons.includes('Accepted risk') && !reasons.some((r) => r.includes('✓')), reasons.join(' | '));
    await page.waitForLoadState('networkidle');
    await new Promise((r) => setTimeout(r, 500)); // time for a request that should not be made
    assert.deepEqual(rec.patches, [{ status: 'confirmed' }], 'opening the menu triaged');
    assert.equal(await status.textContent(), 'Confirmed');
    assert.equal((await api('GET', `/v1/findings/${target.id}`)).status, 'confirmed');
    // a second click closes it, still without a change
    await dismiss.click();
    await menu.waitFor({ state: 'detached' });
    assert.equal(await dismiss.getAttribute('aria-expanded'), 'false');
    assert.equal(rec.patches.length, 1);

    // Choosing a reason dismisses with it.
    await dismiss.click();
    await menu.getByRole('menuitem', { name: 'Accepted risk' }).click();
    await status.getByText('Dismissed as Accepted risk').waitFor();
    assert.deepEqual(rec.patches, [{ status: 'confirmed' }, { status: 'dismissed', dismissed_reason: 'accepted_risk' }]);
  } finally {
    rec.stop();
  }
  const saved = await api('GET', `/v1/findings/${target.id}`);
  assert.equal(saved.status, 'dismissed');
  assert.equal(saved.dismissed_reason, 'accepted_risk');

  // After a reload: the saved reason in the header, the change in the history.
  await page.reload();
  await page.getByTestId('finding-status').getByText('Dismissed as Accepted risk').waitFor();
  await page.getByRole('list', { name: 'History' }).getByText('Confirmed → Dismissed (Accepted risk)').waitFor();
  const hist = await api('GET', `/v1/findings/${target.id}/history`);
  const changes = (Array.isArray(hist) ? hist : hist.items).map((h) => [h.from_status, h.to_status, h.reason ?? '']);
  assert.deepEqual(changes.sort(), [
    ['', 'open', 'detected'],
    ['confirmed', 'dismissed', 'accepted_risk'],
    ['open', 'confirmed', ''],
  ]);
  // the menu marks the saved reason
  await page.locator('header.page-header').getByRole('button', { name: 'Dismiss ▾' }).click();
  assert.equal(await page.getByRole('menuitem', { name: /Accepted risk/ }).getAttribute('aria-current'), 'true');
  await page.keyboard.press('Escape');
  await page.getByRole('menu', { name: 'Dismiss as' }).waitFor({ state: 'detached' });
});

test('j/k cross page boundaries of the 50-row list: back over two boundaries to page 1, and forward again', { timeout: 120_000 }, async () => {
  // The list as the server pages it (every status: the other tests triage some).
  const q = 'sort=path&limit=50';
  const p1 = await api('GET', `/v1/repositories/${repoId}/findings?${q}`);
  const p2 = await api('GET', `/v1/repositories/${repoId}/findings?${q}&cursor=${encodeURIComponent(p1.next_cursor)}`);
  const p3 = await api('GET', `/v1/repositories/${repoId}/findings?${q}&cursor=${encodeURIComponent(p2.next_cursor)}`);
  assert.equal(p1.total, OTHERS + 1);
  assert.deepEqual([p1.items.length, p2.items.length, p3.items.length], [50, 50, 50]);
  const listRequests = [];
  const onRequest = (req) => {
    const u = new URL(req.url());
    if (u.pathname === `/v1/repositories/${repoId}/findings`) listRequests.push(u.searchParams.get('cursor'));
  };

  // To the list's third page by its pager, as a user does, and open its first finding.
  await page.goto(`${vega.base}/repositories/${repoId}/findings?status=all&sort=path`);
  const table = page.getByRole('table', { name: 'Findings' });
  await table.locator(`a[href="/findings/${p1.items[0].id}"]`).waitFor();
  const pager = page.getByRole('navigation', { name: 'Pagination' });
  await pager.getByRole('button', { name: 'Next' }).click();
  await table.locator(`a[href="/findings/${p2.items[0].id}"]`).waitFor();
  await pager.getByRole('button', { name: 'Next' }).click();
  await table.locator(`a[href="/findings/${p3.items[0].id}"]`).click();
  const position = page.getByTestId('list-position');
  const at = async (f, n) => {
    await page.waitForURL(`**/findings/${f.id}`);
    await position.getByText(`${n} of ${OTHERS + 1}`, { exact: true }).waitFor();
  };
  await at(p3.items[0], 101);

  page.on('request', onRequest);
  try {
    // k: back over the first boundary, to the last of page 2
    await page.keyboard.press('k');
    await at(p2.items[49], 100);
    // through page 2 to its first
    for (let i = 48; i >= 0; i--) {
      await page.keyboard.press('k');
      await at(p2.items[i], 51 + i);
    }
    // back over the second boundary: page 1 is still reachable
    assert.equal(await page.getByRole('button', { name: '← Previous' }).isDisabled(), false, 'Previous is disabled on the first of page 2');
    await page.keyboard.press('k');
    await at(p1.items[49], 50);
    // and forward over it again with j, and with the Next button
    await page.keyboard.press('j');
    await at(p2.items[0], 51);
    await page.keyboard.press('k');
    await at(p1.items[49], 50);
    await page.getByRole('button', { name: 'Next →' }).click();
    await at(p2.items[0], 51);
  } finally {
    page.off('request', onRequest);
  }
  // each page crossed was loaded by its own cursor: 2, 1 (none), 2, 1, 2
  assert.deepEqual(listRequests, [p1.next_cursor, null, p1.next_cursor, null, p1.next_cursor]);
  // Back to the list: the page the user came from
  await page.getByRole('link', { name: 'Back to the list' }).click();
  await table.locator(`a[href="/findings/${p3.items[0].id}"]`).waitFor();
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
