// End-to-end: the findings list on a repository with 300+ findings, in
// headless Chromium against the real vega binary. The data is seeded through
// the API (upload + secrets scan); the checks go through the dashboard.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { B32, poll, scanToCompletion, seededRand, signedInBrowser, startSeededVega, uploadRepository } from './api.mjs';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = seededRand('findings-list');
const CRITICAL = 250; // aws-access-token: critical
const MEDIUM = 60; // jwt: medium
const RANK = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

const b64url = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = () => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: rand(ALNUM, 24), name: 'Findings List' })}.${rand(ALNUM, 43)}`;

const GITHUB = 8; // github-pat: critical, only in the small repository
const SMALL_AWS = 2; // aws-access-token in the small repository too
const PROJECT = 'Findings list';

/**
 * The project's second repository: a few GitHub tokens (a rule the big one
 * lacks) and AWS keys (a rule both have), under paths that sort after all of
 * the big one's, so a project page in descending path order starts with them.
 */
function smallRepository() {
  const r = seededRand('findings-list-small');
  return {
    'zz-gh/tokens.py': Array.from({ length: GITHUB }, (_, i) => `GITHUB_TOKEN_${i} = "ghp_${r(ALNUM, 36)}"`).join('\n') + '\n',
    'zz-aws/keys.py': Array.from({ length: SMALL_AWS }, (_, i) => `AWS_ACCESS_KEY_ID_${i} = "AKIA${r(B32, 16)}"`).join('\n') + '\n',
  };
}

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
let api;
let projectId;
let smallId;

before(async () => {
  ({ vega, api, projectId, repoId } = await startSeededVega(PROJECT, 'big', bigRepository()));
  smallId = (await uploadRepository(api, projectId, 'small', smallRepository())).id;
  await scanToCompletion(api, smallId);
  // the seeding itself: every planted secret was found, under its rule
  const rules = (await api('GET', `/v1/repositories/${smallId}/findings/rules`)).items.map((r) => `${r.rule_id}:${r.count}`).sort();
  assert.deepEqual(rules, [`aws-access-token:${SMALL_AWS}`, `github-pat:${GITHUB}`]);
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

/** Every finding of an API list path (all pages); `query` is added to each request. */
async function allFindings(path, query = '') {
  const out = [];
  let cursor = '';
  do {
    const pg = await api('GET', `${path}?limit=200${query ? `&${query}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...pg.items);
    cursor = pg.next_cursor ?? '';
  } while (cursor);
  return out;
}

/** The API's total for a list path and query (a one-row page). */
const apiTotal = async (path, query) => (await api('GET', `${path}?limit=1&${query}`)).total;

/** Waits until the pager shows `text` for the current query; fails with what it shows instead. */
async function rangeIs(text) {
  try {
    await page.waitForFunction((t) => {
      const el = document.querySelector('[data-testid=range]');
      return el?.getAttribute('aria-busy') === 'false' && el.textContent === t;
    }, text);
  } catch (err) {
    assert.equal(await range(), text);
    throw err;
  }
}

/**
 * The findings table's rows as { id, <column header>: cell text, links: {<header>: href} },
 * the id taken from the title's link to the finding page.
 */
function tableRows() {
  return page.locator('table.findings-table').evaluate((table) => {
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.replace(/[↑↓]/g, '').trim());
    return [...table.querySelectorAll('tbody tr')].map((tr) => {
      const row = { id: tr.querySelector('a[href^="/findings/"]')?.getAttribute('href')?.split('/').pop(), links: {} };
      [...tr.children].forEach((td, i) => {
        if (!heads[i]) return;
        row[heads[i]] = td.textContent.trim();
        const a = td.querySelector('a');
        if (a) row.links[heads[i]] = a.getAttribute('href');
      });
      return row;
    });
  });
}

/**
 * Clicks a checkbox the URL controls (a filter option, Group by rule) and
 * waits until it shows `checked`: the URL change renders in a transition, so
 * the box can read unchanged for a moment after the click (Playwright's
 * check() fails on that).
 */
async function toggle(box, checked) {
  assert.equal(await box.isChecked(), !checked, `${box} before the click`);
  await box.click();
  await poll(`${box} checked=${checked}`, async () => (await box.isChecked()) === checked, 20_000);
}
const toggleOption = (name, checked) => toggle(page.getByRole('checkbox', { name }), checked);

/** The rows of the group-by-rule table: { rule, severity, count, expanded }. */
function ruleGroupRows() {
  return page.getByRole('table', { name: 'Findings by rule' }).evaluate((table) =>
    [...table.querySelectorAll('tbody > tr')]
      .filter((tr) => tr.querySelector('button[aria-expanded]'))
      .map((tr) => ({
        rule: tr.querySelector('button .mono').textContent,
        severity: tr.querySelector('[data-severity]').getAttribute('data-severity'),
        count: Number(tr.children[2].textContent),
        expanded: tr.querySelector('button').getAttribute('aria-expanded') === 'true',
      })),
  );
}

/** The finding IDs an expanded rule group lists. */
const ruleFindingIds = () => page.locator('ul.rule-findings a[href^="/findings/"]').evaluateAll((as) => as.map((a) => a.getAttribute('href').split('/').pop()));

test('rules: the Rule column, the rule filter (control and URL) and a rule-ID search narrow the list to that rule', { timeout: 120_000 }, async () => {
  const repoPath = `/v1/repositories/${repoId}/findings`;
  const ruleOf = new Map((await allFindings(repoPath)).map((f) => [f.id, f.rule_id]));
  assert.equal(ruleOf.size, CRITICAL + MEDIUM);

  // the Rule column: path order puts the JWTs (a-jwt/) before the AWS keys (z-aws/), so a page of 100 has both
  await page.goto(`${vega.base}/repositories/${repoId}/findings?sort=path&limit=100`);
  await rangeIs(`1–100 of ${CRITICAL + MEDIUM}`);
  let rows = await tableRows();
  assert.equal(rows.length, 100);
  for (const r of rows) assert.equal(r.Rule, ruleOf.get(r.id), `rule of ${r.id}`);
  assert.deepEqual([...new Set(rows.map((r) => r.Rule))].sort(), ['aws-access-token', 'jwt']);

  // the Rule filter control offers each rule with its count and narrows the list to the chosen ones
  await page.goto(`${vega.base}/repositories/${repoId}/findings`);
  await rangeIs(`1–50 of ${CRITICAL + MEDIUM}`);
  await page.getByRole('button', { name: 'Rule filter' }).click();
  await toggleOption(`jwt (${MEDIUM})`, true);
  await page.waitForURL(/[?&]rule=jwt(&|$)/);
  const jwtTotal = await apiTotal(repoPath, 'status=open&rule=jwt');
  assert.equal(jwtTotal, MEDIUM);
  await rangeIs(`1–50 of ${jwtTotal}`);
  rows = await tableRows();
  assert.equal(rows.length, 50);
  assert.ok(rows.every((r) => r.Rule === 'jwt' && ruleOf.get(r.id) === 'jwt'), 'only JWT findings under rule=jwt');
  await page.getByRole('tab', { name: `Open ${jwtTotal}` }).waitFor();
  // a second rule widens it again; unchecking the first leaves only the second
  await toggleOption(`aws-access-token (${CRITICAL})`, true);
  await rangeIs(`1–50 of ${await apiTotal(repoPath, 'status=open&rule=jwt,aws-access-token')}`);
  assert.equal(await range(), `1–50 of ${CRITICAL + MEDIUM}`);
  await toggleOption(`jwt (${MEDIUM})`, false);
  await page.waitForURL(/[?&]rule=aws-access-token(&|$)/);
  await rangeIs(`1–50 of ${CRITICAL}`);
  assert.ok((await tableRows()).every((r) => r.Rule === 'aws-access-token'));

  // the same filter from the URL
  await page.goto(`${vega.base}/repositories/${repoId}/findings?rule=jwt&limit=100`);
  await rangeIs(`1–${MEDIUM} of ${jwtTotal}`);
  rows = await tableRows();
  assert.equal(rows.length, MEDIUM);
  assert.ok(rows.every((r) => r.Rule === 'jwt'));
  await page.getByRole('button', { name: 'Rule filter' }).getByText('Rule: jwt').waitFor();

  // a search for a rule ID finds that rule's findings, though their titles and paths do not contain it
  await page.goto(`${vega.base}/repositories/${repoId}/findings`);
  await rangeIs(`1–50 of ${CRITICAL + MEDIUM}`);
  const search = page.getByRole('searchbox', { name: 'Search' });
  await search.fill('aws-access-token');
  await search.press('Enter');
  await page.waitForURL(/[?&]q=aws-access-token(&|$)/);
  const searchTotal = await apiTotal(repoPath, 'status=open&q=aws-access-token');
  assert.equal(searchTotal, CRITICAL);
  await rangeIs(`1–50 of ${searchTotal}`);
  rows = await tableRows();
  assert.ok(rows.every((r) => r.Rule === 'aws-access-token' && !r.Title.includes('aws-access-token') && !r.Location.includes('aws-access-token')));
});

test('rules: group by rule shows one row per rule with its count and severity, summing to the open total; a row expands into its findings', { timeout: 120_000 }, async () => {
  const repoPath = `/v1/repositories/${repoId}/findings`;
  const ruleOf = new Map((await allFindings(repoPath)).map((f) => [f.id, f.rule_id]));
  await page.goto(`${vega.base}/repositories/${repoId}/findings`);
  await rangeIs(`1–50 of ${CRITICAL + MEDIUM}`);
  await toggle(page.getByLabel('Group by rule'), true);
  await page.waitForURL(/[?&]group=rule(&|$)/);
  await page.getByRole('table', { name: 'Findings by rule' }).waitFor();
  assert.equal(await page.locator('table.findings-table').count(), 0, 'the grouped view replaces the list');

  const groups = await ruleGroupRows();
  const fromApi = (await api('GET', `${repoPath}/rules?status=open`)).items.map((r) => ({ rule: r.rule_id, severity: r.severity, count: r.count, expanded: false }));
  assert.deepEqual(groups, fromApi);
  assert.deepEqual(
    [...groups].sort((a, b) => a.rule.localeCompare(b.rule)),
    [
      { rule: 'aws-access-token', severity: 'critical', count: CRITICAL, expanded: false },
      { rule: 'jwt', severity: 'medium', count: MEDIUM, expanded: false },
    ],
  );
  const openTotal = await apiTotal(repoPath, 'status=open');
  assert.equal(
    groups.reduce((n, g) => n + g.count, 0),
    openTotal,
  );
  await page.getByRole('tab', { name: `Open ${openTotal}` }).waitFor();

  // expanding a rule lists its findings (the first 50, and how many more)
  const table = page.getByRole('table', { name: 'Findings by rule' });
  await table.getByRole('button', { name: /jwt/ }).click();
  await page.getByText(`and ${MEDIUM - 50} more — filter by this rule to see them all`).waitFor();
  let ids = await ruleFindingIds();
  assert.equal(ids.length, 50);
  assert.ok(ids.every((id) => ruleOf.get(id) === 'jwt'), 'the JWT group lists JWT findings');
  assert.equal(new Set(ids).size, 50);
  // one group open at a time: opening the AWS one closes the JWT one
  await table.getByRole('button', { name: /aws-access-token/ }).click();
  await page.getByText(`and ${CRITICAL - 50} more — filter by this rule to see them all`).waitFor();
  ids = await ruleFindingIds();
  assert.equal(ids.length, 50);
  assert.ok(ids.every((id) => ruleOf.get(id) === 'aws-access-token'), 'the AWS group lists AWS findings');
  assert.deepEqual(
    (await ruleGroupRows()).map((g) => [g.rule, g.expanded]).sort(),
    [
      ['aws-access-token', true],
      ['jwt', false],
    ],
  );
  // a finding of the group opens its page
  await page.locator('ul.rule-findings a').first().click();
  await page.waitForURL(new RegExp(`/findings/${ids[0]}$`));
  await page.goBack();

  // a group's severity pill filters by that severity and stays grouped
  await table.getByRole('link', { name: /Medium/ }).click();
  await page.waitForURL((u) => u.searchParams.get('severity') === 'medium' && u.searchParams.get('group') === 'rule');
  await page.waitForFunction(() => document.querySelectorAll('table.rule-groups tbody > tr').length === 1);
  assert.deepEqual(await ruleGroupRows(), [{ rule: 'jwt', severity: 'medium', count: MEDIUM, expanded: false }]);

  // a project's groups span its repositories
  const projectPath = `/v1/projects/${projectId}/findings`;
  await page.goto(`${vega.base}/projects/${projectId}/findings?group=rule`);
  await page.getByRole('table', { name: 'Findings by rule' }).waitFor();
  const projectGroups = await ruleGroupRows();
  assert.deepEqual(
    [...projectGroups].sort((a, b) => a.rule.localeCompare(b.rule)),
    [
      { rule: 'aws-access-token', severity: 'critical', count: CRITICAL + SMALL_AWS, expanded: false },
      { rule: 'github-pat', severity: 'critical', count: GITHUB, expanded: false },
      { rule: 'jwt', severity: 'medium', count: MEDIUM, expanded: false },
    ],
  );
  const projectOpen = await apiTotal(projectPath, 'status=open');
  assert.equal(
    projectGroups.reduce((n, g) => n + g.count, 0),
    projectOpen,
  );
  await page.getByRole('tab', { name: `Open ${projectOpen}` }).waitFor();
  await page.getByRole('table', { name: 'Findings by rule' }).getByRole('button', { name: /github-pat/ }).click();
  await page.waitForFunction((n) => document.querySelectorAll('ul.rule-findings a').length === n, GITHUB);
  const ghIds = await ruleFindingIds();
  const smallRules = new Map((await allFindings(`/v1/repositories/${smallId}/findings`)).map((f) => [f.id, f.rule_id]));
  assert.ok(ghIds.every((id) => smallRules.get(id) === 'github-pat'), 'the github-pat group lists the small repository’s tokens');
  assert.equal(await page.getByText(/more — filter by this rule/).count(), 0);
});

test('project findings: a Repository column names each row’s repository; the export holds the project’s findings', { timeout: 120_000 }, async () => {
  const projectPath = `/v1/projects/${projectId}/findings`;
  const all = await allFindings(projectPath);
  const repoOf = new Map(all.map((f) => [f.id, f.repository_id]));
  const names = { [repoId]: 'big', [smallId]: 'small' };
  assert.equal(all.length, CRITICAL + MEDIUM + GITHUB + SMALL_AWS);

  // path order, descending: the small repository's rows (zz-…) come before the big one's
  await page.goto(`${vega.base}/projects/${projectId}/findings?sort=-path`);
  await rangeIs(`1–50 of ${await apiTotal(projectPath, 'status=open')}`);
  const table = page.getByRole('table', { name: 'Findings' });
  await table.getByRole('columnheader', { name: 'Repository' }).waitFor();
  // an ID stands in for a name until the project's repositories load
  await page.waitForFunction(() => [...document.querySelectorAll('table.findings-table tbody a[href^="/repositories/"]')].every((a) => !a.textContent.startsWith('repo_')));
  const rows = await tableRows();
  assert.equal(rows.length, 50);
  for (const r of rows) {
    const rid = repoOf.get(r.id);
    assert.equal(r.Repository, names[rid], `repository of ${r.id}`);
    assert.equal(r.links.Repository, `/repositories/${rid}`);
  }
  assert.deepEqual([...new Set(rows.map((r) => r.Repository))].sort(), ['big', 'small']);

  // the export: named after the project and today's (UTC) date, every status of every repository
  const day = () => new Date().toISOString().slice(0, 10);
  const before = day();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  const report = JSON.parse(readFileSync(await download.path(), 'utf8'));
  const expected = new Set([before, day()].map((d) => `Findings_list-${d}-findings.json`));
  assert.ok(expected.has(download.suggestedFilename()), `file name ${download.suggestedFilename()}, want one of ${[...expected]}`);
  assert.equal(report.project, PROJECT);
  assert.equal(report.project_id, projectId);
  assert.deepEqual(report.repositories, names);
  assert.deepEqual(report.findings.map((f) => f.id).sort(), [...repoOf.keys()].sort());
  for (const f of report.findings) assert.equal(f.repository_id, repoOf.get(f.id));
  assert.equal(report.findings.filter((f) => f.repository_id === smallId).length, GITHUB + SMALL_AWS);
});

test('findings list: shift-click selects the range from the last clicked row; the sticky bar counts it', { timeout: 120_000 }, async () => {
  await page.goto(`${vega.base}/repositories/${repoId}/findings`);
  await rangeIs(`1–50 of ${await apiTotal(`/v1/repositories/${repoId}/findings`, 'status=open')}`);
  const boxes = page.locator('table.findings-table tbody tr input[type=checkbox]');
  const bar = page.getByRole('region', { name: 'Bulk triage' });
  const checkedRows = async () => (await boxes.evaluateAll((els) => els.map((e) => e.checked))).flatMap((c, i) => (c ? [i] : []));

  await boxes.nth(2).click();
  await bar.getByText('1 selected', { exact: true }).waitFor();
  await boxes.nth(7).click({ modifiers: ['Shift'] });
  await bar.getByText('6 selected', { exact: true }).waitFor({ timeout: 5_000 });
  assert.deepEqual(await checkedRows(), [2, 3, 4, 5, 6, 7]);
  // the bar is sticky: in view at the top of the page while the 50 rows run below the fold
  await page.evaluate(() => window.scrollTo(0, 0));
  assert.ok(await page.evaluate(() => document.documentElement.scrollHeight > window.innerHeight + 200), 'the list is longer than the viewport');
  const box = await bar.boundingBox();
  const viewport = page.viewportSize();
  assert.ok(box && box.y >= 0 && box.y + box.height <= viewport.height + 1, `bulk bar at ${JSON.stringify(box)} in a ${viewport.height}px viewport`);
  // a shift-click back up on a selected row clears the range from the anchor (row 7) to it
  await boxes.nth(4).click({ modifiers: ['Shift'] });
  await bar.getByText('2 selected', { exact: true }).waitFor({ timeout: 5_000 });
  assert.deepEqual(await checkedRows(), [2, 3]);
  // plain clicks clear the rest
  await boxes.nth(2).click();
  await boxes.nth(3).click();
  await bar.waitFor({ state: 'detached' });
});

test('findings list: bulk Confirm of a selection moves exactly those findings to Confirmed', { timeout: 120_000 }, async () => {
  const repoPath = `/v1/repositories/${repoId}/findings`;
  const { counts } = await api('GET', `${repoPath}?limit=1&status=open`);
  await page.goto(`${vega.base}/repositories/${repoId}/findings`);
  await rangeIs(`1–50 of ${counts.open}`);
  await page.getByRole('tab', { name: `Confirmed ${counts.confirmed}` }).waitFor();

  const boxes = page.locator('table.findings-table tbody tr input[type=checkbox]');
  const bar = page.getByRole('region', { name: 'Bulk triage' });
  // rows 3–8, and one further down so the selection is not one block
  const picked = [3, 4, 5, 6, 8, 20];
  for (const [n, i] of picked.entries()) {
    await boxes.nth(i).click();
    await bar.getByText(`${n + 1} selected`, { exact: true }).waitFor();
  }
  const rows = await tableRows();
  const chosen = picked.map((i) => rows[i].id);

  try {
    await bar.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('status').filter({ hasText: `Confirmed: ${picked.length} findings` }).waitFor();
    await page.getByRole('tab', { name: `Confirmed ${counts.confirmed + picked.length}` }).waitFor();
    await page.getByRole('tab', { name: `Open ${counts.open - picked.length}` }).waitFor();
    await rangeIs(`1–50 of ${counts.open - picked.length}`);
    assert.equal(await bar.count(), 0, 'the selection is cleared');
    const openIds = new Set((await tableRows()).map((r) => r.id));
    assert.ok(chosen.every((id) => !openIds.has(id)), 'confirmed findings leave the Open tab');
    assert.ok(rows.filter((r) => !chosen.includes(r.id)).slice(0, 40).every((r) => openIds.has(r.id)), 'the others stay open');

    // by API: exactly the chosen ones are confirmed
    for (const id of chosen) assert.equal((await api('GET', `/v1/findings/${id}`)).status, 'confirmed', id);
    const confirmed = await allFindings(repoPath, 'status=confirmed');
    assert.equal(confirmed.length, counts.confirmed + picked.length);
    assert.deepEqual(confirmed.map((f) => f.id).filter((id) => chosen.includes(id)).sort(), [...chosen].sort());

    await page.getByRole('tab', { name: `Confirmed ${counts.confirmed + picked.length}` }).click();
    await rangeIs(`1–${counts.confirmed + picked.length} of ${counts.confirmed + picked.length}`);
    const shown = (await tableRows()).map((r) => r.id);
    assert.ok(chosen.every((id) => shown.includes(id)));
    assert.ok((await tableRows()).every((r) => r.Status.startsWith('Confirmed')));
  } finally {
    await api('POST', '/v1/findings/bulk-triage', { ids: chosen, status: 'open' });
  }
});
