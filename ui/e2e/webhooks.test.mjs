// End-to-end: a project's webhook panel in headless Chromium against the real
// vega binary and a local receiver that checks every signature. Loopback
// receivers need VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS (docs/webhooks.md).
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { apiClient, apiLogin, signedInPage } from './api.mjs';
import { startBrowser, startVega } from './harness.mjs';


let vega;
let browser;
let page;
let receiver;
let receiverURL;
let projectId;
let secret = '';
const received = [];

/** What a receiver does (docs/webhooks.md, "Signature"). */
function verify(header, body) {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2)));
  if (Math.abs(Date.now() / 1000 - Number(parts.t)) > 300) return false;
  const mac = createHmac('sha256', secret).update(`${parts.t}.`).update(body).digest('hex');
  return mac.length === (parts.v1 ?? '').length && timingSafeEqual(Buffer.from(mac), Buffer.from(parts.v1));
}

before(async () => {
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ event: req.headers['vega-event'], verified: verify(req.headers['vega-signature'] ?? '', body), body: JSON.parse(body.toString()) });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  receiverURL = `http://127.0.0.1:${receiver.address().port}/hook`;
  vega = await startVega({ env: { VEGA_WEBHOOK_ALLOW_PRIVATE_HOSTS: 'true' } });
  const api = apiClient(vega, await apiLogin(vega));
  projectId = (await api('POST', '/v1/projects', { name: 'Hooked' })).id;
  browser = await startBrowser();
  page = await signedInPage(browser, vega);
});

after(async () => {
  await browser?.close();
  await vega?.stop();
  receiver?.close();
});

test('webhooks: add, secret shown once, Send test delivered signed, delivery log', { timeout: 120_000 }, async () => {
  await page.goto(`${vega.base}/projects/${projectId}`);
  const panel = page.getByRole('region', { name: 'Webhooks' });
  await panel.getByText('No webhooks').waitFor();
  await panel.getByRole('button', { name: 'Add webhook' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add webhook' });
  await dialog.getByLabel('Endpoint URL').fill(receiverURL);
  await dialog.getByLabel('Minimum severity of new findings').selectOption('medium');
  await dialog.getByRole('button', { name: 'Add webhook' }).click();
  secret = await panel.getByLabel('Signing secret').inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  await panel.getByRole('button', { name: 'I have saved it' }).click();
  assert.equal(await panel.getByLabel('Signing secret').count(), 0);
  await panel.getByText('127.0.0.1:', { exact: false }).first().waitFor();

  await panel.getByRole('button', { name: /^Send test to / }).click();
  const log = panel.getByRole('table', { name: 'Deliveries' });
  await log.getByText('Succeeded').waitFor();
  assert.equal(await log.getByText('webhook.test').count(), 1);
  assert.equal(await log.getByRole('cell', { name: '204' }).count(), 1);
  assert.equal(received.length, 1);
  assert.equal(received[0].event, 'webhook.test');
  assert.ok(received[0].verified, 'the signature verifies with the secret the page showed');
  assert.equal(received[0].body.project.name, 'Hooked');

  // The secret is not in any later answer the page reads.
  await page.reload();
  const html = await page.content();
  assert.ok(!html.includes(secret), 'the secret is on the page after a reload');
  assert.ok(!vega.logs.join('').includes(secret), 'the secret is in the server log');
});
