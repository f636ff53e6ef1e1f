// Package llmproxy is Vega's OpenAI-compatible model proxy (docs/architecture.md, "Roles"). It holds
// the provider key, authenticates runners with scan-scoped tokens, enforces
// per-scan caps, streams responses through untouched and records usage.
//
// Routes: POST /v1/responses (streamed and plain), POST /v1/chat/completions,
// GET /v1/models for runners (Bearer scan token); POST /internal/scan-tokens
// {scan_id}, POST /internal/profile-tokens {repository_id} and POST
// /internal/flush for Vega itself (Bearer admin token, constant-time compare);
// GET /healthz.
//
// Decisions:
//   - Tokens are "vst1.<base64url {scan_id|repository_id, exp}>.<HMAC-SHA256>",
//     keyed by a key derived from the admin token, so they verify without a
//     database and die with a rotated admin token. A scan token works while
//     the scan is claimed/running and not cancel-requested; a profile token
//     while the repository's threat profile is "generating".
//   - Caps (VEGA_LLM_PROXY_MAX_*) are checked by an in-process ledger under one
//     mutex; in-flight calls count against the request cap (reserve before
//     forwarding), so N parallel calls never exceed it. Token and cost caps are
//     checked against finished calls (a response's size is unknown in advance).
//     The ledger is seeded from the scan's stored usage, so a restart keeps
//     the budget. A capped call gets 429 {type: insufficient_quota, code:
//     vega_scan_budget_exceeded}; Codex gives up on it at once.
//   - Responses stream through httputil.ReverseProxy with a flush after every
//     write; usage is read from the passing bytes (the response.completed SSE
//     event, a chat completion's usage chunk — requested by the proxy when the
//     client did not — or the plain JSON body) without holding anything back.
//   - Usage records and scan totals are written by a background writer
//     (batched, 20 ms linger) so no database write sits on the request path;
//     Flush / POST /internal/flush wait for it, Close drains it.
//   - Scan status is read from the store on every call, not cached: a
//     cancelled or finished scan's token is refused on the next request, even
//     when another process cancelled it. The read costs one bolt view or one
//     Postgres round trip (docs/benchmarks.md, "LLM proxy").
//   - The provider key is only ever set on the outbound request. Upstream
//     error bodies are scrubbed of it (and of sk-… fragments) before they are
//     returned; transport errors become a generic 502. Runner-supplied
//     Cookie, OpenAI-Organization and OpenAI-Project headers are dropped, and
//     "background": true is refused (its usage would never pass the proxy).
//   - Cost: VEGA_LLM_PROXY_PRICES (model → USD per 1M input/cached/output) when
//     the model is listed, else VEGA_LLM_PROXY_PRICE_USD_PER_1K_TOKENS flat.
package llmproxy
