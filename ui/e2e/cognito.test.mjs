// The dashboard with VEGA_AUTH_PROVIDER=cognito, in Chromium against the real
// binary. ./hostedui.mjs plays Cognito's hosted UI and token endpoint (kumo,
// which the Go tests sign in at, has no OAuth2 endpoints); the binary fetches
// its keys and checks its tokens as it would Cognito's. Covered: sign-in by
// authorization code + PKCE to a deep link, tokens in memory only, a reload
// signed in again through the hosted UI's own session, groups from every
// token, sign-out through /oauth2/revoke and the hosted UI logout, and "sign
// out everywhere", which also ends the sessions of other devices.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createProjectInDashboard } from './api.mjs';
import { startHostedUi } from './hostedui.mjs';
import { startBrowser, startVega } from './harness.mjs';

const TIMEOUT = 60_000;
const PASSWORD = 'Correct-Horse-Battery-9';
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

test('Cognito: hosted UI sign-in, reload, groups, sign-out and sign out everywhere', { timeout: 5 * 60_000 }, async () => {
  const callbacks = [];
  const signOutUrls = [];
  const idp = await startHostedUi({
    users: { alice: { password: PASSWORD, email: 'alice@example.com', groups: ['operator'] } },
    callbacks,
    signOutUrls,
  });
  cleanups.push(() => idp.close());
  const vega = await startVega({
    env: {
      VEGA_AUTH_PROVIDER: 'cognito',
      VEGA_COGNITO_ISSUER: idp.issuer,
      VEGA_COGNITO_APP_CLIENT_ID: idp.clientId,
      VEGA_COGNITO_DOMAIN: idp.domain,
      VEGA_COGNITO_REGION: 'us-east-1',
    },
  });
  cleanups.push(() => vega.stop());
  // The app client's URLs, as deploy/aws registers them.
  callbacks.push(`${vega.base}/auth/callback`);
  signOutUrls.push(`${vega.base}/`);

  const browser = await startBrowser();
  cleanups.push(() => browser.close());
  const page = await browser.context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const errors = [];
  let expect401 = false; // while other devices' sessions are ended on purpose
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error' || (expect401 && m.text().includes('status of 401'))) return;
    errors.push(m.text());
  });
  page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.request().method()} ${r.url()}`));
  const me = async (token) => fetch(`${vega.base}/v1/auth/me`, { headers: { Authorization: `Bearer ${token}` } });
  const logins = () => idp.log.filter((l) => l === 'POST /login').length;

  // 1. A deep link, the sign-in page, the hosted UI's form, back to the link.
  await page.goto(`${vega.base}/usage`);
  await page.getByRole('button', { name: 'Sign in with Cognito' }).click();
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Usage' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/usage');
  assert.equal(logins(), 1);
  // The user row is made by the first request: groups from the token.
  await page.getByRole('link', { name: 'Operations' }).waitFor();

  // 2. Tokens live in the page's memory only.
  const stored = await page.evaluate(() => {
    const dump = (st) => Object.keys(st).map((k) => `${k}=${st.getItem(k)}`);
    return [...dump(localStorage), ...dump(sessionStorage), document.cookie].join('\n');
  });
  assert.equal(stored.includes('vega.signed-in=1'), true, 'the signed-in marker');
  for (const t of idp.issued) assert.ok(!stored.includes(t), 'a token is in web storage or a readable cookie');
  assert.ok(!/eyJ/.test(stored), `something token-like is in reach of page scripts:\n${stored}`);

  // 3. A project, then a reload: the hosted UI signs alice in again through
  // its own session, without its form, and she is back on the same page.
  await page.getByRole('link', { name: 'Projects' }).first().click();
  await createProjectInDashboard(page, 'Alice on Cognito');
  const projectUrl = page.url();
  await page.reload();
  await page.getByRole('heading', { name: 'Alice on Cognito' }).waitFor();
  assert.equal(page.url(), projectUrl);
  assert.equal(logins(), 1, 'the reload needed no password');
  assert.equal(idp.log.filter((l) => l === 'GET /oauth2/authorize').length, 2);

  // 4. Removed from "operator" in Cognito: the next token has no group.
  idp.users.alice.groups = [];
  await page.reload();
  await page.getByRole('heading', { name: 'Alice on Cognito' }).waitFor();
  await page.getByRole('link', { name: 'Projects' }).first().waitFor();
  assert.equal(await page.getByRole('link', { name: 'Operations' }).count(), 0);
  idp.users.alice.groups = ['operator'];

  // 5. Sign-out: the refresh token is revoked at Cognito, the hosted UI's
  // session ends, and the next sign-in asks for the password again.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in with Cognito' }).waitFor();
  assert.ok(idp.log.includes('POST /oauth2/revoke') && idp.log.includes('GET /logout'));
  assert.ok([...idp.refreshTokens.values()].some((r) => r.revoked), 'the refresh token was revoked');
  assert.equal(await page.evaluate(() => localStorage.getItem('vega.signed-in')), null);
  await page.reload();
  await page.getByRole('button', { name: 'Sign in with Cognito' }).click();
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  assert.equal(logins(), 2);

  // 6. Sign out everywhere, with alice also signed in on another device
  // (tokens from the token endpoint, from an earlier sign-in).
  const other = idp.issue('alice', Math.floor(Date.now() / 1000) - 600);
  assert.equal((await me(other.access_token)).status, 200);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  expect401 = true;
  await page.getByRole('dialog', { name: 'Sign out everywhere?' }).getByRole('button', { name: 'Sign out everywhere' }).click();
  await page.getByRole('button', { name: 'Sign in with Cognito' }).waitFor();
  // The other device: its access token is refused, and so is the one its
  // refresh token gets next (it keeps the sign-in's auth_time).
  const refused = await me(other.access_token);
  assert.equal(refused.status, 401);
  assert.match((await refused.json()).error.message, /sign in again/);
  const renewed = await (
    await fetch(`${idp.domain}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: idp.clientId, refresh_token: other.refresh_token }),
    })
  ).json();
  assert.equal((await me(renewed.access_token)).status, 401);
  // A new sign-in works at once.
  await new Promise((r) => setTimeout(r, 1100)); // auth_time has whole seconds
  await page.getByRole('button', { name: 'Sign in with Cognito' }).click();
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Projects' }).waitFor();
  await page.getByRole('link', { name: 'Alice on Cognito' }).waitFor();

  assert.deepEqual(errors, []);
});
