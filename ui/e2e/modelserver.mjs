// A scripted local model server for the e2e tests: the OpenAI Responses API
// (SSE stream and plain JSON) the way the Codex CLI calls it, after
// testutil/modelserver (the Go tests' server). Each request is answered by
// an async script, so a test can hold an answer back (a slow model) until it
// has seen what it wants on the screen.
import { createServer } from 'node:http';

/**
 * Starts the server on a loopback port. `script(req)` resolves to
 * { text, usage?: { input_tokens, output_tokens } } or { status, body } for
 * an error; req is { path, body, schema } (schema: the JSON schema of the
 * structured output asked for, as a string, '' when none).
 * Resolves to { baseURL, requests, close() }.
 */
export async function startModelServer(script) {
  const requests = [];
  let seq = 0;
  const id = (prefix) => `${prefix}_${++seq}`;
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks).toString();
    let body = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      // recorded as is
    }
    const path = new URL(req.url, 'http://x').pathname;
    const schema = body.text?.format?.type === 'json_schema' ? JSON.stringify(body.text.format.schema ?? {}) : '';
    const rec = { method: req.method, path, body, schema };
    requests.push(rec);
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'test-model', object: 'model', owned_by: 'vega-tests' }] }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/responses') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    let answer;
    try {
      answer = await script(rec);
    } catch (err) {
      answer = { status: 500, body: JSON.stringify({ error: { message: String(err), type: 'server_error' } }) };
    }
    if (answer.status && answer.status !== 200) {
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.body ?? JSON.stringify({ error: { message: `scripted error ${answer.status}`, type: 'server_error', code: 'scripted' } }));
      return;
    }
    const usage = answer.usage ?? { input_tokens: 100, output_tokens: 20 };
    const model = body.model || 'test-model';
    const respId = id('resp');
    const item = {
      id: id('msg'),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text: answer.text, annotations: [] }],
    };
    const created = Math.floor(Date.now() / 1000);
    const final = {
      id: respId,
      object: 'response',
      created_at: created,
      status: 'completed',
      model,
      output: [item],
      usage: {
        input_tokens: usage.input_tokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: usage.output_tokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.input_tokens + usage.output_tokens,
      },
    };
    if (!body.stream) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(final));
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    let n = 0;
    const send = (type, payload) => res.write(`event: ${type}\ndata: ${JSON.stringify({ ...payload, type, sequence_number: n++ })}\n\n`);
    send('response.created', { response: { id: respId, object: 'response', created_at: created, status: 'in_progress', model, output: [] } });
    send('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    send('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: answer.text });
    send('response.output_item.done', { output_index: 0, item });
    send('response.completed', { response: final });
    res.end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A promise with its resolve function: a gate a script waits on until the test opens it. */
export function gate() {
  let open;
  const opened = new Promise((r) => (open = r));
  return { opened, open: () => open() };
}
