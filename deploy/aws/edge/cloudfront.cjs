// What the CloudFront distribution does with a request, in plain data shared
// by the CDK stack (lib/contract.ts, lib/edge.ts) and ui/e2e/edge.mjs, the
// browser tests' stand-in for CloudFront.
'use strict';

/** Paths the distribution sends to the API (the load balancer); everything else is the dashboard bucket. */
const API_PATH_PATTERNS = ['/v1/*', '/git/*', '/docs'];

/** CloudFront path-pattern matching: case-sensitive, `*` matches any characters including `/`. */
function matchesPattern(pattern, pathname) {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(pathname);
}

function isApiPath(pathname) {
  return API_PATH_PATTERNS.some((p) => matchesPattern(p, pathname));
}

/** scheme://host[:port] of a URL, or '' (the binary's origin() in app/api/ui.go). */
function origin(raw) {
  let u;
  try {
    u = new URL(raw);
  } catch {
    return '';
  }
  const o = `${u.protocol.replace(/:$/, '').toLowerCase()}://${u.host}`;
  return /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]+)?$/.test(o) ? o : '';
}

/**
 * The dashboard's Content-Security-Policy for a deployment: the header the
 * binary sends with index.html for the same settings (contentSecurityPolicy
 * in app/api/ui.go; deploy/aws/test/environment.cases.ts asks the binary and
 * compares). fetch/EventSource may reach this origin, the public URL and
 * the Cognito domain (its token endpoint), nothing else.
 */
function dashboardCsp({ publicUrl, cognitoDomain }) {
  const connect = ["'self'"];
  const pub = origin(publicUrl || '');
  if (pub) connect.push(pub);
  if (cognitoDomain) {
    let d = cognitoDomain.trim().replace(/\/+$/, '');
    if (!d.includes('://')) d = `https://${d}`;
    const o = origin(d);
    if (o) connect.push(o);
  }
  return (
    "default-src 'self'; script-src 'self'; object-src 'none'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
    `connect-src ${connect.join(' ')}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'`
  );
}

module.exports = { API_PATH_PATTERNS, matchesPattern, isApiPath, dashboardCsp };
