// What the stack assumes about the vega binary. Each value is written down in
// docs/deploy-aws.md ("What the stack assumes about the binary"); change both
// together.
import * as path from 'node:path';

// Plain-JS facts shared with the browser tests' CloudFront stand-in (ui/e2e/edge.mjs).
const cloudfront: {
  API_PATH_PATTERNS: string[];
  dashboardCsp(o: { publicUrl: string; cognitoDomain?: string }): string;
} = require(path.join(__dirname, '..', '..', 'edge', 'cloudfront.cjs'));

/** Container ports (VEGA_LISTEN_ADDR, VEGA_LLM_PROXY_LISTEN_ADDR). */
export const API_PORT = 8000;
export const LLM_PROXY_PORT = 8001;

/** Health paths: the API's liveness (the load balancer checks it) and the proxy's. */
export const API_HEALTH_PATH = '/v1/healthz';
export const LLM_PROXY_HEALTH_PATH = '/healthz';

/**
 * SQS: the worker long-polls for 20 s, and while a scan runs it extends the
 * message's visibility back to the queue's timeout every third of it (every
 * 40 s to 120 s). A worker that dies stops extending, so the message returns
 * after at most 120 s — the same as VEGA_SCAN_HEARTBEAT_TTL_SECONDS' default,
 * after which the database also treats the claim as stale.
 */
export const QUEUE_VISIBILITY_TIMEOUT_SECONDS = 120;
export const QUEUE_LONG_POLL_SECONDS = 20;
/** Receives before a message goes to the dead-letter queue. */
export const QUEUE_MAX_RECEIVE_COUNT = 5;

/**
 * The JSON log line a worker writes every 60 s (docs/deploy-aws.md shows it
 * in full); a metric filter turns it into the metrics behind ScansStuckQueued:
 *   {"level":"INFO","msg":"scan queue stats","queued_scans":3,"oldest_queued_scan_age_seconds":742,...}
 */
export const QUEUE_STATS_MESSAGE = 'scan queue stats';
export const QUEUE_STATS_INTERVAL_SECONDS = 60;
export const QUEUED_SCANS_FIELD = 'queued_scans';
export const OLDEST_QUEUED_AGE_FIELD = 'oldest_queued_scan_age_seconds';

/** Container name of the runner task definition (VEGA_ECS_RUNNER_CONTAINER's default). */
export const RUNNER_CONTAINER = 'runner';

/** Cognito groups that map to Vega's roles (a user in neither is a plain user); VEGA_COGNITO_ROOT_GROUP and VEGA_COGNITO_OPERATOR_GROUP. */
export const COGNITO_ROOT_GROUP = 'root';
export const COGNITO_OPERATOR_GROUP = 'operator';

/** Dashboard callback route (ui/src/auth/cognito.ts CALLBACK_PATH). */
export const COGNITO_CALLBACK_PATH = '/auth/callback';

/** Where the hosted UI's logout returns to (ui/src/auth/cognito.ts SIGN_OUT_PATH): a registered sign-out URL. */
export const COGNITO_SIGN_OUT_PATH = '/';

/** Paths CloudFront sends to the API instead of the dashboard bucket (edge/cloudfront.cjs). */
export const API_PATH_PATTERNS: readonly string[] = cloudfront.API_PATH_PATTERNS;

/** The dashboard's Content-Security-Policy for a deployment, as the binary sends it (app/api/ui.go). */
export const dashboardCsp: (o: { publicUrl: string; cognitoDomain?: string }) => string = cloudfront.dashboardCsp;
