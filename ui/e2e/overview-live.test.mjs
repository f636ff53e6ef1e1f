// End-to-end: the overview numbers, the scan comparison and the live scan
// view (Retry opens the new scan and streams; progress never goes back), in
// headless Chromium against the real vega binary, on a repository of ~310
// findings. The data is seeded through the API (upload, scan, re-upload,
// scan); the checks go through the dashboard. The ETA is watched on a codex
// scan against a scripted model server that answers when the test says, so
// the scan runs as long as it needs to be observed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  apiClient,
  apiLogin,
  archiveForm,
  B32,
  poll,
  scanToCompletion,
  seededRand,
  signedInBrowser,
  signedInPage,
  startSeededVega,
  uploadRepository,
  waitForScanCompleted,
} from './api.mjs';
import { startVega } from './harness.mjs';
import { gate, startModelServer } from './modelserver.mjs';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
// The same keys on every run: the >= 300 findings below do not depend on
// which random keys the detector's entropy check happens to refuse.
const rand = seededRand('overview-live');
const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = () => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: rand(ALNUM, 24), name: 'Overview' })}.${rand(ALNUM, 43)}`;
const awsFile = () => Array.from({ length: 10 }, (_, i) => `AWS_ACCESS_KEY_ID_${i} = "AKIA${rand(B32, 16)}"`).join('\n') + '\n';

// v1: 250 AWS access key IDs (critical) in 25 files, 60 JWTs (medium) in 6.
// v2: the first AWS file removed (10 fixed) and one file of 5 new keys (5 new).
const v1 = {};
for (let f = 0; f < 25; f++) v1[`app/aws/keys${String(f).padStart(2, '0')}.py`] = awsFile();
for (let f = 0; f < 6; f++) v1[`app/jwt/tokens${f}.py`] = Array.from({ length: 10 }, (_, i) => `SESSION_${i} = "${jwt()}"`).join('\n') + '\n';
const v2 = { ...v1 };
delete v2['app/aws/keys00.py'];
v2['app/new/leak.py'] = Array.from({ length: 5 }, (_, i) => `NEW_KEY_${i} = "AKIA${rand(B32, 16)}"`).join('\n') + '\n';

let vega;
let browser;
let page;
let api;
let projectId;
let repoId;
let scanA;
let scanB;

before(async () => {
  ({ vega, api, projectId, repoId, scan: scanA } = await startSeededVega('Overview', 'big', v1));
  const first = (await api('GET', `/v1/repositories/${repoId}`)).latest_snapshot_id;
  await api('POST', `/v1/repositories/${repoId}/ingest`, archiveForm('big', v2));
  await poll('re-ingest', async () => {
    const r = await api('GET', `/v1/repositories/${repoId}`);
    return r.ingest_status === 'ready' && r.latest_snapshot_id !== first;
  });
  scanB = await scanToCompletion(api, repoId);
  WANT_OPEN = scanB.finding_counts;
  changes = scanB.changes;
  assert.ok(total(WANT_OPEN) >= 300 && WANT_OPEN.critical > 200 && WANT_OPEN.medium > 50, JSON.stringify(WANT_OPEN));
  assert.ok(changes.new >= 4 && changes.fixed >= 9, JSON.stringify(changes));
  assert.equal(changes.new + changes.unchanged, total(scanB.finding_counts));
  assert.equal(changes.fixed + changes.unchanged, total(scanA.finding_counts));
  ({ browser, page } = await signedInBrowser(vega));
});

after(async () => {
  await browser?.close();
  await vega?.stop();
});

const openNumbers = () =>
  page.locator('.open-numbers li[data-severity]').evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-severity'), Number(e.querySelector('.open-n').textContent)])));
// Generated keys that gitleaks' entropy check refuses are not findings, so
// the expected numbers come from what the scans reported (finding_counts),
// not from how many keys were written: nothing is triaged, so the open
// findings are exactly scan B's.
const total = (c) => c.critical + c.high + c.medium + c.low + c.info;
let WANT_OPEN;
let changes;

test('repository page: open findings by severity first, new and fixed per scan', { timeout: 60_000 }, async () => {
  await page.goto(`${vega.base}/repositories/${repoId}`);
  await page.locator('.open-numbers').waitFor();
  assert.deepEqual(await openNumbers(), WANT_OPEN);
  assert.equal(await page.locator('.open-total .open-n').textContent(), String(total(WANT_OPEN)));
  // the open findings come before the snapshot and the scan history
  const headings = await page.locator('h2').allTextContents();
  assert.ok(headings.indexOf('Open findings') < headings.indexOf('Snapshot'), headings.join(' | '));
  const trend = page.locator('figure.trend g[data-date]');
  assert.equal(await trend.count(), 30);
  assert.equal(await trend.last().getAttribute('data-open'), String(total(WANT_OPEN)));
  const rowB = page.getByRole('row').filter({ has: page.getByRole('link', { name: scanB.id }) });
  assert.equal(await rowB.locator('.scan-changes').textContent(), `+${changes.new} new · ${changes.fixed} fixed`);
  const rowA = page.getByRole('row').filter({ has: page.getByRole('link', { name: scanA.id }) });
  assert.equal(await rowA.locator('.scan-changes').textContent(), `+${total(scanA.finding_counts)} new · 0 fixed`);
  // a severity number links to the list filtered by it
  await page.locator('.open-numbers li[data-severity=critical] a').click();
  await page.waitForURL(/\/repositories\/.+\/findings\?severity=critical/);
});

test('project page: one overview request, open findings per repository, trend, Repository column', { timeout: 60_000 }, async () => {
  const requests = [];
  const onRequest = (r) => requests.push(new URL(r.url()).pathname);
  page.on('request', onRequest);
  await page.goto(`${vega.base}/projects/${projectId}`);
  await page.locator('.open-numbers').waitFor();
  assert.deepEqual(await openNumbers(), WANT_OPEN);
  const repoRow = page.getByRole('table', { name: 'Repositories' }).getByRole('row').filter({ has: page.getByRole('link', { name: 'big' }) });
  await repoRow.getByText(String(WANT_OPEN.critical)).waitFor();
  assert.match(await repoRow.textContent(), new RegExp(`${WANT_OPEN.critical} Critical.*${WANT_OPEN.medium} Medium`));
  assert.equal(await page.locator('figure.trend g[data-date]').last().getAttribute('data-open'), String(total(WANT_OPEN)));
  const scansTable = page.getByRole('table', { name: 'Project scans' });
  assert.ok((await scansTable.locator('thead th').allTextContents()).includes('Repository'));
  assert.equal(await scansTable.getByRole('row').filter({ has: page.getByRole('link', { name: scanB.id }) }).getByRole('link', { name: 'big' }).count(), 1);
  page.off('request', onRequest);
  assert.equal(requests.filter((p) => p === `/v1/projects/${projectId}/overview`).length, 1, requests.join('\n'));
  assert.equal(requests.filter((p) => p === `/v1/repositories/${repoId}/scans`).length, 0, 'no per-repository request for the rows');
});

test('scan page: what is new since the previous complete scan and what was fixed', { timeout: 60_000 }, async () => {
  await page.goto(`${vega.base}/scans/${scanB.id}`);
  const summary = page.locator('.comparison-summary');
  await summary.waitFor();
  assert.match(await summary.textContent(), new RegExp(`${changes.new} new, ${changes.fixed} fixed, ${changes.unchanged} unchanged`));
  assert.match(await summary.textContent(), new RegExp(scanA.id));
  const table = page.getByRole('table', { name: /findings since the previous complete scan/ });
  await table.locator('tbody tr').nth(changes.new - 1).waitFor();
  assert.equal(await table.locator('tbody tr').count(), changes.new);
  for (const loc of await table.locator('tbody td.mono').allTextContents()) assert.match(loc, /(^|\/)new\/leak\.py:/);
  await page.getByRole('button', { name: `Fixed ${changes.fixed}` }).click();
  await page.getByRole('table', { name: 'Fixed findings since the previous complete scan' }).waitFor();
  const fixed = page.getByRole('table', { name: 'Fixed findings since the previous complete scan' }).locator('tbody tr');
  await fixed.nth(changes.fixed - 1).waitFor();
  assert.equal(await fixed.count(), changes.fixed);
  for (const loc of await fixed.locator('td.mono').allTextContents()) assert.match(loc, /(^|\/)aws\/keys00\.py:/);
  // The tab is in the URL: a reload keeps it, Back returns to the new findings.
  assert.equal(new URL(page.url()).searchParams.get('changes'), 'fixed');
  await page.reload();
  await fixed.nth(changes.fixed - 1).waitFor();
  assert.equal(await page.getByRole('button', { name: `Fixed ${changes.fixed}` }).getAttribute('aria-pressed'), 'true');
  await page.goBack();
  await page.getByRole('table', { name: 'New findings since the previous complete scan' }).locator('tbody tr').nth(changes.new - 1).waitFor();
  assert.equal(new URL(page.url()).searchParams.get('changes'), null);
  // the first scan had nothing to compare with
  await page.goto(`${vega.base}/scans/${scanA.id}`);
  assert.match(await page.locator('.comparison-summary').textContent(), new RegExp(`all ${total(scanA.finding_counts)} findings are new`));
});

test('live view: Retry opens the new scan, streams it without a reload, and progress never goes back', { timeout: 90_000 }, async () => {
  await page.goto(`${vega.base}/scans/${scanB.id}`);
  await page.locator('.event-log .event').first().waitFor();
  const streams = [];
  const onRequest = (r) => r.url().includes('/events/stream') && streams.push(new URL(r.url()).pathname);
  page.on('request', onRequest);
  // Record every value the scan progress bar shows from now on.
  await page.evaluate(() => {
    window.__progress = [];
    const read = () => {
      const bar = document.querySelector('[role=progressbar][aria-label="Scan progress"]');
      const v = bar && Number(bar.getAttribute('aria-valuenow'));
      const scan = document.querySelector('h1 .mono')?.textContent;
      const last = window.__progress[window.__progress.length - 1];
      if (bar && (!last || last.v !== v || last.scan !== scan)) window.__progress.push({ v, scan });
    };
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  });
  let reloaded = false;
  page.once('load', () => (reloaded = true));
  await page.getByRole('button', { name: 'Retry scan' }).click();
  await page.waitForURL((u) => /\/scans\/scan_/.test(u.pathname) && !u.pathname.endsWith(scanB.id));
  const newId = page.url().split('/scans/')[1];
  await page.locator('h1 .mono', { hasText: newId }).waitFor();
  // It streams to its end without a reload.
  await page.locator('h1 .badge', { hasText: 'Completed' }).waitFor({ timeout: 60_000 });
  await page.locator('.event-log .event-scan_completed').waitFor();
  assert.equal(reloaded, false, 'the page reloaded');
  page.off('request', onRequest);
  assert.ok(streams.includes(`/v1/scans/${newId}/events/stream`), `no stream for the new scan: ${streams.join(', ')}`);
  // The log is the new scan's only: every line is one of its events, each once.
  // An event may still be on its way when scan_completed shows (the runner
  // records its artifacts stage after the scan ends), so compare the log
  // with the stored events until both have settled.
  const readLog = () =>
    page.locator('.event-log .event').evaluateAll((els) => els.map((e) => ({ scan: e.getAttribute('data-scan'), seq: Number(e.getAttribute('data-seq')), text: e.textContent })));
  let lines = await readLog();
  let events = await api('GET', `/v1/scans/${newId}/events?limit=500`);
  for (let i = 0; i < 50 && lines.map((l) => l.seq).join() !== events.items.map((e) => e.seq).join(); i++) {
    await new Promise((r) => setTimeout(r, 200));
    lines = await readLog();
    events = await api('GET', `/v1/scans/${newId}/events?limit=500`);
  }
  assert.ok(lines.length > 0);
  assert.deepEqual([...new Set(lines.map((l) => l.scan))], [newId]);
  assert.deepEqual(lines.map((l) => l.seq), events.items.map((e) => e.seq),
    `the log's tail ${JSON.stringify(lines.slice(-3))} vs the stored tail ${JSON.stringify(events.items.slice(-3).map((e) => [e.seq, e.kind]))}`);
  // Sentences, never JSON.
  assert.doesNotMatch(await page.locator('.event-log').textContent(), /[{}]/);

  // Progress: the events the backend wrote only rise, per scan and per engine.
  const percents = events.items.filter((e) => e.kind === 'scan_progress').map((e) => e.payload.percent);
  assert.ok(percents.length >= 3, `progress events: ${percents}`);
  for (let i = 1; i < percents.length; i++) assert.ok(percents[i] >= percents[i - 1], `event progress went back: ${percents}`);
  const units = events.items.filter((e) => e.kind === 'scan_progress' && e.payload.total > 0);
  assert.ok(units.length > 0 && units.every((e) => e.payload.unit === 'files' && e.payload.total === 31), 'done / total files reported');
  // What the screen showed for the new scan only rose, and ended at 100.
  const shown = (await page.evaluate(() => window.__progress)).filter((p) => p.scan === newId).map((p) => p.v);
  assert.ok(shown.length > 0, 'the progress bar was never seen');
  for (let i = 1; i < shown.length; i++) assert.ok(shown[i] >= shown[i - 1], `the bar went back: ${shown}`);
  assert.equal(shown[shown.length - 1], 100);
  // Offline engine: usage is one line.
  await page.getByText(/No model used/).waitFor();
  // Per-engine progress with units.
  assert.match(await page.locator('.engine-progress li[data-engine=secrets]').textContent(), /31 \/ 31 files/);
});

/** "about 2m 13s left" in seconds; NaN when it is not that shape. */
function etaSeconds(text) {
  const m = /^about (?:(\d+)h )?(?:(\d+)m )?(?:(\d+)s)? left$/.exec(text);
  if (!m || !(m[1] || m[2] || m[3])) return NaN;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

test('live view: the ETA appears only once progress is known, as a human duration, on a scan slow enough to watch', { timeout: 120_000 }, async (t) => {
  const codexBin = process.env.VEGA_TEST_CODEX_BIN;
  if (!codexBin) {
    assert.notEqual(process.env.CI, 'true', 'VEGA_TEST_CODEX_BIN is not set');
    t.skip('VEGA_TEST_CODEX_BIN is not set');
    return;
  }
  // The model answers the plan and the audit only when the test opens their gates.
  const plan = gate();
  const audit = gate();
  const model = await startModelServer(async (req) => {
    if (req.schema.includes('"components"')) {
      await plan.opened;
      return { text: JSON.stringify({ components: [{ name: 'database', paths: ['app/db.py'], rationale: 'SQL built from input', priority: 'high' }] }) };
    }
    if (req.schema.includes('"findings"')) {
      await audit.opened;
      return { text: '{"findings":[]}' };
    }
    return { status: 400, body: JSON.stringify({ error: { message: 'unscripted request', type: 'invalid_request_error' } }) };
  });
  const slow = await startVega({
    env: {
      VEGA_SCAN_ENGINES: 'secrets,codex',
      VEGA_CODEX_BIN: codexBin,
      VEGA_CODEX_SANDBOX: 'none',
      VEGA_CODEX_MODEL: 'test-model',
      VEGA_LLM_PROVIDER_BASE_URL: model.baseURL,
      VEGA_LLM_PROVIDER_API_KEY: 'sk-provider-key-for-the-eta-e2e',
      VEGA_CODEX_CALL_TIMEOUT_SECONDS: '120',
    },
  });
  let live;
  try {
    const api2 = apiClient(slow, await apiLogin(slow));
    const project = await api2('POST', '/v1/projects', { name: 'Slow model' });
    const repo = await uploadRepository(api2, project.id, 'slow', {
      'app/db.py': 'import sqlite3\n\ndef find_user(conn, name):\n    return conn.execute("SELECT * FROM users WHERE name = \'" + name + "\'").fetchall()\n',
    });
    live = await signedInPage(browser, slow);
    const scan = await api2('POST', `/v1/repositories/${repo.id}/scans`, { engines: ['codex'] });
    await live.goto(`${slow.base}/scans/${scan.id}`);
    // Record every ETA text and progress value the page shows, with when.
    await live.evaluate(() => {
      window.__eta = [];
      const read = () => {
        const eta = document.querySelector('.eta')?.textContent ?? null;
        const bar = document.querySelector('[role=progressbar][aria-label="Scan progress"]');
        const v = bar ? Number(bar.getAttribute('aria-valuenow')) : null;
        const last = window.__eta[window.__eta.length - 1];
        if (!last || last.eta !== eta || last.v !== v) window.__eta.push({ t: Date.now(), eta, v });
      };
      read();
      new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
    const eta = live.locator('.eta');
    await live.locator('.eta', { hasText: 'Estimating time left…' }).waitFor();

    // Running, planning (1 %), for more than the 5 s the rate needs: still no ETA.
    await poll('the plan request', async () => model.requests.some((r) => r.schema.includes('"components"')), 60_000);
    const startedAt = new Date((await poll('started_at', async () => (await api2('GET', `/v1/scans/${scan.id}`)).started_at))).getTime();
    await poll('6 s of planning', async () => Date.now() - startedAt > 6000, 30_000);
    await live.waitForTimeout(1200); // a tick of the ETA's clock past 5 s
    assert.equal(await eta.textContent(), 'Estimating time left…');
    const bar = live.getByRole('progressbar', { name: 'Scan progress' });
    assert.ok(Number(await bar.getAttribute('aria-valuenow')) < 5, `progress ${await bar.getAttribute('aria-valuenow')}`);

    // The plan answered: 5 %, and the ETA shows.
    const released = Date.now();
    plan.open();
    await live.locator('.eta', { hasText: /^about .+ left$/ }).waitFor({ timeout: 30_000 });
    // it follows the clock while the audit is held (5 % of the work in ever more time)
    await live.waitForTimeout(2500);
    const held = await eta.textContent();
    assert.match(held, /^about (\d+m )?\d+s left$/);

    // The audit answered: the scan completes and the ETA goes.
    audit.open();
    await live.locator('h1 .badge', { hasText: 'Completed' }).waitFor({ timeout: 60_000 });
    await eta.waitFor({ state: 'detached' });
    await waitForScanCompleted(api2, scan.id);

    const seen = await live.evaluate(() => window.__eta);
    const shown = seen.filter((s) => s.eta !== null);
    const etas = shown.filter((s) => s.eta !== 'Estimating time left…');
    console.log(`ETA texts: ${[...new Set(etas.map((s) => s.eta))].join(' | ')}`);
    assert.ok(shown.length > 0 && shown[0].eta === 'Estimating time left…', `first shown: ${JSON.stringify(shown[0])}`);
    assert.ok(etas.length >= 2, `ETA updates seen: ${JSON.stringify(etas)}`);
    // Estimating throughout the planning, which ran past 5 s: the time alone is not enough.
    assert.ok(released - startedAt > 6000, `the plan was answered ${released - startedAt} ms after the start`);
    assert.ok(shown.filter((s) => s.t < released).every((s) => s.eta === 'Estimating time left…' && s.v < 5), JSON.stringify(shown));
    for (const s of etas) {
      // only once the rate is known: 5 % done, 5 s spent, after the plan
      assert.ok(s.v >= 5 && s.t - startedAt >= 5000 && s.t >= released, `ETA too early: ${JSON.stringify(s)} (started ${startedAt}, plan at ${released})`);
      // a human duration: whole seconds, minutes; never NaN or negative
      const secs = etaSeconds(s.eta);
      assert.ok(Number.isFinite(secs) && secs > 0 && secs < 3600, `not a human duration: ${s.eta}`);
      // and the rate's: time spent × what is left / what is done, with the
      // ETA's clock ticking once a second (up to 1.5 s behind under load)
      const factor = (100 - s.v) / s.v;
      const spent = (s.t - startedAt) / 1000;
      assert.ok(secs <= spent * factor + 1 && secs >= (spent - 1.5) * factor - 1, `ETA ${s.eta} at ${s.v} % after ${spent} s`);
    }
    // it went up with the clock while the scan stayed at 5 %
    const secs = etas.filter((s) => s.v === etas[0].v).map((s) => etaSeconds(s.eta));
    assert.ok(secs[secs.length - 1] > secs[0], `the ETA did not follow the clock: ${secs}`);
  } finally {
    plan.open();
    audit.open();
    await live?.close();
    await slow.stop();
    await model.close();
  }
});
