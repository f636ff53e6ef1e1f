// A stand-in for the CloudFront distribution of deploy/aws, for the browser
// tests: the dashboard bucket is ui/dist, served with the exact headers the
// publish script puts on each object (deploy/aws/edge/dashboard.cjs) behind
// the real CloudFront Function (deploy/aws/edge/spa-rewrite.js); the API
// paths (deploy/aws/edge/cloudfront.cjs) are forwarded to a running `vega
// serve` unbuffered with every header, Host included, like the AllViewer
// origin request policy with caching disabled.
import { readFileSync, existsSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { join, normalize, resolve, sep } from 'node:path';

const require = createRequire(import.meta.url);
const EDGE = join(import.meta.dirname, '..', '..', 'deploy', 'aws', 'edge');
const dashboard = require(join(EDGE, 'dashboard.cjs'));
const cloudfront = require(join(EDGE, 'cloudfront.cjs'));
const viewerRequest = new Function(`${readFileSync(join(EDGE, 'spa-rewrite.js'), 'utf8')}; return handler;`)();

/**
 * Serves `dist` and `config` (the object /config.json holds) on a free
 * loopback port. With `api` (the API's base URL) the API paths are forwarded
 * there (same origin); without it the dashboard is a plain static site.
 * `csp` adds the distribution's Content-Security-Policy to dashboard responses
 * (for a deployment whose public URL is this server's).
 */
export async function startEdge({ dist, config, api, csp = false }) {
  const root = resolve(dist);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root} has no index.html: run \`make ui\``);
  const requests = [];
  let url = '';
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://edge');
    requests.push(`${req.method} ${pathname}`);
    if (api && cloudfront.isApiPath(pathname)) return forward(req, res, api);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(403).end();
      return;
    }
    const uri = viewerRequest({ request: { uri: pathname, headers: {} } }).uri;
    let key;
    try {
      key = normalize(decodeURIComponent(uri)).replace(/^[/\\]+/, '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    let body;
    if (key === 'config.json') body = Buffer.from(JSON.stringify(config));
    else {
      const file = join(root, key);
      if (!file.startsWith(root + sep) || key === '.keep' || !existsSync(file)) {
        res.writeHead(403, { 'Content-Type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>'); // S3 via OAC, no ListBucket
        return;
      }
      body = readFileSync(file);
    }
    const headers = { 'Content-Type': dashboard.contentTypeFor(key), 'Cache-Control': dashboard.cacheControlFor(key) };
    if (csp) headers['Content-Security-Policy'] = cloudfront.dashboardCsp({ publicUrl: url });
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  };
}

function forward(req, res, api) {
  const target = new URL(req.url, api);
  const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress };
  const upstream = httpRequest(target, { method: req.method, headers }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    res.flushHeaders(); // event streams: headers now, then every byte as it arrives
    up.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502).end('bad gateway');
    else res.destroy();
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}
