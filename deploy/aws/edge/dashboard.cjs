// How the dashboard (`make ui` → ui/dist) is laid out in its S3 bucket: each
// object's Cache-Control and Content-Type, and the runtime /config.json.
// Used by scripts/publish-dashboard.cjs (the real upload) and by
// ui/e2e/edge.mjs, the test stand-in for CloudFront, so the browser tests see
// exactly the headers the bucket serves.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Vite puts a content hash in every file name under assets/. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html (and other unhashed files) revalidate on every load. */
const REVALIDATE = 'no-cache';
/** config.json changes with a deployment and is never stored. */
const NEVER = 'no-store';

function cacheControlFor(key) {
  if (key.startsWith('assets/')) return IMMUTABLE;
  if (key === 'config.json') return NEVER;
  return REVALIDATE;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

function contentTypeFor(key) {
  return TYPES[path.extname(key).toLowerCase()] || 'application/octet-stream';
}

/**
 * The runtime settings the dashboard reads at boot (ui/src/boot.ts). Nothing
 * is baked into the build: the same ui/dist works behind the binary and here.
 * apiBaseUrl '' means same origin (CloudFront forwards /v1/* to the API).
 */
function runtimeConfig({ apiBaseUrl = '', auth }) {
  if (apiBaseUrl && !/^https?:\/\//.test(apiBaseUrl)) throw new Error(`api_base_url must be an http(s) URL, got ${JSON.stringify(apiBaseUrl)}`);
  const out = { api_base_url: apiBaseUrl };
  if (auth) {
    if (auth.provider === 'cognito') {
      for (const k of ['domain', 'client_id', 'region']) {
        if (typeof auth.cognito?.[k] !== 'string' || auth.cognito[k] === '') throw new Error(`auth.cognito.${k} is required`);
      }
      out.auth = { provider: 'cognito', cognito: { domain: auth.cognito.domain, client_id: auth.cognito.client_id, region: auth.cognito.region } };
    } else if (auth.provider === 'custom') {
      out.auth = { provider: 'custom' };
    } else {
      throw new Error(`auth.provider must be cognito or custom, got ${JSON.stringify(auth.provider)}`);
    }
  }
  return out;
}

/** /config.json of a deployed stack, from its CloudFormation outputs. */
function configFromOutputs(outputs) {
  for (const k of ['CognitoDomain', 'UserPoolClientId', 'CognitoRegion']) {
    if (!outputs[k]) throw new Error(`stack output ${k} is missing`);
  }
  return runtimeConfig({
    apiBaseUrl: '',
    auth: { provider: 'cognito', cognito: { domain: outputs.CognitoDomain, client_id: outputs.UserPoolClientId, region: outputs.CognitoRegion } },
  });
}

/**
 * Every file of a dashboard build with its bucket key and headers, in upload
 * order: hashed assets first, index.html last, so a browser never receives an
 * index.html whose assets are not there yet. config.json is not part of the
 * build (it is written per deployment) and .keep is a git placeholder.
 */
function uploadPlan(distDir) {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    throw new Error(`${distDir} has no index.html: run \`make ui\` first`);
  }
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) files.push(path.relative(distDir, full).split(path.sep).join('/'));
    }
  };
  walk(distDir);
  const rank = (key) => (key.startsWith('assets/') ? 0 : key === 'index.html' ? 2 : 1);
  return files
    .filter((key) => key !== '.keep' && key !== 'config.json')
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((key) => ({ file: path.join(distDir, key), key, cacheControl: cacheControlFor(key), contentType: contentTypeFor(key) }));
}

module.exports = { cacheControlFor, contentTypeFor, runtimeConfig, configFromOutputs, uploadPlan, IMMUTABLE, REVALIDATE, NEVER };
