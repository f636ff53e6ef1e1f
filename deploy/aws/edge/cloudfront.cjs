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

/**
 * The dashboard's Content-Security-Policy. The binary sends the same header
 * with index.html (app/api/ui.go; deploy/aws/test/stack.cases.ts compares them).
 */
const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' https:; frame-ancestors 'none'; base-uri 'self'";

module.exports = { API_PATH_PATTERNS, matchesPattern, isApiPath, DASHBOARD_CSP };
