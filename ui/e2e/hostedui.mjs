// A scripted Cognito hosted UI and token endpoint for the browser tests: kumo
// (the Go tests' emulator) has user pools and JWKS but no OAuth2 endpoints.
// It speaks what ui/src/auth/cognito.ts and the vega binary use:
//   GET  /oauth2/authorize  authorization code + PKCE (S256 only); a sign-in
//                           form, or at once while its own session cookie lives
//   POST /oauth2/token      authorization_code (checks the verifier) and
//                           refresh_token grants; CORS for the dashboard
//   POST /oauth2/revoke     revokes a refresh token (RFC 7009)
//   GET  /logout            ends its session, back to a registered logout_uri
//   GET  /<pool>/.well-known/jwks.json   the RS256 key the binary verifies with
// Access tokens carry Cognito's claims (token_use, client_id, username,
// cognito:groups, auth_time, origin_jti…). Like Cognito, a sign-in through its
// session cookie keeps the session's auth_time, and refreshed tokens keep the
// sign-in's auth_time and read the user's current groups.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';

const POOL = 'us-east-1_HostedUi';
const b64url = (b) => Buffer.from(b).toString('base64url');
const token = () => randomBytes(24).toString('base64url');

/**
 * Starts the server. users: { username: { password, email, groups } }.
 * Returns { domain, issuer, clientId, users, log, issue, close }.
 */
export async function startHostedUi({ clientId = 'dashboard-client', users, callbacks, signOutUrls }) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `kid-${token().slice(0, 8)}`;
  const log = []; // "METHOD /path" of every request, for assertions
  const codes = new Map(); // code -> { username, challenge, redirectUri, authTime, used }
  const refreshTokens = new Map(); // token -> { username, authTime, originJti, revoked }
  const sessions = new Map(); // session cookie -> { username, authTime }
  const issued = []; // every access and refresh token handed out (to look for in web storage)
  let issuer = '';

  const jwt = (claims) => {
    const head = b64url(JSON.stringify({ kid, alg: 'RS256' }));
    const body = b64url(JSON.stringify(claims));
    return `${head}.${body}.${b64url(sign('sha256', Buffer.from(`${head}.${body}`), privateKey))}`;
  };
  const accessToken = (username, authTime, originJti) => {
    const u = users[username];
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: u.sub, iss: issuer, client_id: clientId, token_use: 'access', scope: 'openid email profile', username: u.sub,
      auth_time: authTime, iat: now, exp: now + 900, jti: token(), origin_jti: originJti, event_id: token(),
    };
    if (u.groups.length) claims['cognito:groups'] = [...u.groups];
    const t = jwt(claims);
    issued.push(t);
    return t;
  };
  const idToken = (username, authTime) =>
    jwt({ sub: users[username].sub, iss: issuer, aud: clientId, token_use: 'id', email: users[username].email, email_verified: true,
      'cognito:username': users[username].sub, auth_time: authTime, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 900 });
  /** Tokens of a sign-in at authTime, as the token endpoint would answer (another device, say). */
  const issue = (username, authTime = Math.floor(Date.now() / 1000)) => {
    const originJti = token();
    const refresh = token();
    refreshTokens.set(refresh, { username, authTime, originJti, revoked: false });
    issued.push(refresh);
    return { access_token: accessToken(username, authTime, originJti), id_token: idToken(username, authTime), refresh_token: refresh, expires_in: 900, token_type: 'Bearer' };
  };
  for (const [name, u] of Object.entries(users)) u.sub ??= `sub-${name}-${token().slice(0, 6)}`;

  const send = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'Cache-Control': 'no-store', ...headers });
    res.end(body);
  };
  const json = (res, req, status, body) =>
    send(res, status, JSON.stringify(body), { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': req.headers.origin ?? '*' });
  const form = (req) =>
    new Promise((resolve) => {
      let s = '';
      req.on('data', (d) => (s += d));
      req.on('end', () => resolve(new URLSearchParams(s)));
    });
  const cookie = (req) => /(?:^|;\s*)hostedui_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  const redirectWithCode = (res, q, username, authTime, setCookie) => {
    const code = token();
    codes.set(code, { username, challenge: q.get('code_challenge'), redirectUri: q.get('redirect_uri'), authTime, used: false });
    const to = new URL(q.get('redirect_uri'));
    to.searchParams.set('code', code);
    if (q.get('state')) to.searchParams.set('state', q.get('state'));
    send(res, 302, '', { Location: to.toString(), ...(setCookie ? { 'Set-Cookie': setCookie } : {}) });
  };
  const authorizeProblem = (q) => {
    if (q.get('client_id') !== clientId) return 'unknown client_id';
    if (!callbacks.includes(q.get('redirect_uri'))) return 'redirect_uri is not a callback URL of the app client';
    if (q.get('response_type') !== 'code') return 'response_type must be code';
    if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return 'PKCE with S256 is required';
    return '';
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    log.push(`${req.method} ${url.pathname}`);
    if (req.method === 'OPTIONS') {
      return send(res, 204, '', {
        'Access-Control-Allow-Origin': req.headers.origin ?? '*',
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'Content-Type',
      });
    }
    if (req.method === 'GET' && url.pathname === `/${POOL}/.well-known/jwks.json`) {
      const jwk = publicKey.export({ format: 'jwk' });
      return send(res, 200, JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] }), { 'Content-Type': 'application/json' });
    }
    if (req.method === 'GET' && url.pathname === '/oauth2/authorize') {
      const problem = authorizeProblem(url.searchParams);
      if (problem) return send(res, 400, problem);
      const s = sessions.get(cookie(req));
      if (s) return redirectWithCode(res, url.searchParams, s.username, s.authTime);
      const hidden = [...url.searchParams].map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replace(/"/g, '&quot;')}">`).join('');
      return send(
        res,
        200,
        `<!doctype html><title>Sign in</title><link rel="icon" href="data:,"><form method="post" action="/login">${hidden}` +
          '<label>Username <input name="username"></label><label>Password <input type="password" name="password"></label>' +
          '<button type="submit">Sign in</button></form>',
        { 'Content-Type': 'text/html' },
      );
    }
    if (req.method === 'POST' && url.pathname === '/login') {
      const q = await form(req);
      const problem = authorizeProblem(q);
      if (problem) return send(res, 400, problem);
      const u = users[q.get('username')];
      if (!u || u.password !== q.get('password')) return send(res, 401, 'Incorrect username or password.', { 'Content-Type': 'text/plain' });
      const sid = token();
      const authTime = Math.floor(Date.now() / 1000);
      sessions.set(sid, { username: q.get('username'), authTime });
      return redirectWithCode(res, q, q.get('username'), authTime, `hostedui_session=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    }
    if (req.method === 'POST' && url.pathname === '/oauth2/token') {
      const q = await form(req);
      if (q.get('client_id') !== clientId) return json(res, req, 400, { error: 'invalid_client' });
      if (q.get('grant_type') === 'authorization_code') {
        const c = codes.get(q.get('code'));
        const verifier = q.get('code_verifier') ?? '';
        if (!c || c.used || c.redirectUri !== q.get('redirect_uri') || b64url(createHash('sha256').update(verifier).digest()) !== c.challenge) {
          return json(res, req, 400, { error: 'invalid_grant' });
        }
        c.used = true;
        return json(res, req, 200, issue(c.username, c.authTime));
      }
      if (q.get('grant_type') === 'refresh_token') {
        const r = refreshTokens.get(q.get('refresh_token'));
        if (!r || r.revoked) return json(res, req, 400, { error: 'invalid_grant' });
        // Cognito does not rotate refresh tokens; the sign-in's auth_time stays.
        return json(res, req, 200, { access_token: accessToken(r.username, r.authTime, r.originJti), id_token: idToken(r.username, r.authTime), expires_in: 900, token_type: 'Bearer' });
      }
      return json(res, req, 400, { error: 'unsupported_grant_type' });
    }
    if (req.method === 'POST' && url.pathname === '/oauth2/revoke') {
      const q = await form(req);
      const r = refreshTokens.get(q.get('token'));
      if (r && q.get('client_id') === clientId) r.revoked = true;
      return json(res, req, 200, {});
    }
    if (req.method === 'GET' && url.pathname === '/logout') {
      const to = url.searchParams.get('logout_uri');
      if (url.searchParams.get('client_id') !== clientId || !signOutUrls.includes(to)) return send(res, 400, 'logout_uri is not a sign-out URL of the app client');
      sessions.delete(cookie(req));
      return send(res, 302, '', { Location: to, 'Set-Cookie': 'hostedui_session=; Path=/; Max-Age=0' });
    }
    send(res, 404, 'not found');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  // Like Cognito, two names: the browser's hosted UI (its own cookies; localhost
  // is not the dashboard's 127.0.0.1) and the issuer the binary fetches keys from.
  issuer = `http://127.0.0.1:${port}/${POOL}`;
  return {
    domain: `http://localhost:${port}`,
    issuer,
    clientId,
    users,
    log,
    issued,
    refreshTokens,
    issue,
    close: () => new Promise((r) => server.close(r)),
  };
}
