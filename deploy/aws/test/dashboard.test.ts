// The dashboard's bucket layout, the operator scripts (in --dry-run against a
// fake `aws`), and the CloudFront Function that routes the single-page app.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from './fixture';

interface Planned { file: string; key: string; cacheControl: string; contentType: string }
const dashboard: {
  cacheControlFor(key: string): string;
  runtimeConfig(o: { apiBaseUrl?: string; auth?: unknown }): unknown;
  configFromOutputs(o: Record<string, string>): unknown;
  uploadPlan(dir: string): Planned[];
  IMMUTABLE: string;
} = require(path.join(ROOT, 'edge', 'dashboard.cjs'));
const cloudfront: { isApiPath(p: string): boolean } = require(path.join(ROOT, 'edge', 'cloudfront.cjs'));
const { publish } = require(path.join(ROOT, 'scripts', 'publish-dashboard.cjs'));
const { runTask } = require(path.join(ROOT, 'scripts', 'run-task.cjs'));

const OUTPUTS = {
  DashboardBucket: 'vega-dashboard-bucket',
  CognitoDomain: 'vega-example.auth.eu-west-1.amazoncognito.com',
  UserPoolClientId: '3n4b5c6d7e8f9g0h1i2j3k4l5m',
  CognitoRegion: 'eu-west-1',
  ClusterName: 'Vega-ComputeCluster',
  MigrateTaskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/Vega-migrate:7',
  MaintenanceTaskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/Vega-maintenance:7',
  TaskSubnets: 'subnet-0cc3333333333333c,subnet-0dd4444444444444d',
  JobsSecurityGroup: 'sg-0123456789abcdef0',
};

let dir: string;
let dist: string;
let outputs: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vega-dash-'));
  dist = path.join(dir, 'dist');
  fs.mkdirSync(path.join(dist, 'assets'), { recursive: true });
  for (const [f, body] of Object.entries({
    'index.html': '<!doctype html>', 'assets/index-3f2a9c.js': 'x', 'assets/index-77aa01.css': 'x', 'favicon.svg': '<svg/>', '.keep': '', 'config.json': '{}',
  })) fs.writeFileSync(path.join(dist, f), body);
  outputs = path.join(dir, 'outputs.json');
  fs.writeFileSync(outputs, JSON.stringify({ Vega: OUTPUTS }));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Records what the scripts would run instead of calling AWS. */
function recorder(answers: Record<string, string> = {}) {
  const calls: string[][] = [];
  return {
    calls,
    read: () => { throw new Error('no AWS reads expected with --outputs'); },
    run: (args: string[]) => {
      calls.push(args);
      return answers[args.slice(0, 2).join(' ')] ?? '';
    },
  };
}

describe('dashboard bucket', () => {
  test('hashed assets are immutable, index.html revalidates, config.json is never stored', () => {
    assert.equal(dashboard.cacheControlFor('assets/index-3f2a9c.js'), 'public, max-age=31536000, immutable');
    assert.equal(dashboard.cacheControlFor('index.html'), 'no-cache');
    assert.equal(dashboard.cacheControlFor('config.json'), 'no-store');
  });

  test('upload order: assets, then other files, index.html last; no placeholder, no stale config.json', () => {
    const keys = dashboard.uploadPlan(dist).map((p) => p.key);
    assert.deepEqual(keys, ['assets/index-3f2a9c.js', 'assets/index-77aa01.css', 'favicon.svg', 'index.html']);
    assert.throws(() => dashboard.uploadPlan(path.join(dir, 'nothing')), /make ui/);
  });

  test('config.json from the stack: same-origin API, Cognito hosted UI settings', () => {
    assert.deepEqual(dashboard.configFromOutputs(OUTPUTS), {
      api_base_url: '',
      auth: { provider: 'cognito', cognito: { domain: OUTPUTS.CognitoDomain, client_id: OUTPUTS.UserPoolClientId, region: 'eu-west-1' } },
    });
    assert.throws(() => dashboard.configFromOutputs({ ...OUTPUTS, UserPoolClientId: '' }), /UserPoolClientId/);
    assert.throws(() => dashboard.runtimeConfig({ apiBaseUrl: 'javascript:alert(1)' }), /http/);
  });

  test('publish-dashboard: one `aws s3 cp` per file with its headers, config.json last', () => {
    const aws = recorder();
    publish(['--outputs', outputs, '--dist', dist], { aws });
    const cp = aws.calls.map((c) => ({ key: c[3].replace(`s3://${OUTPUTS.DashboardBucket}/`, ''), cache: c[c.indexOf('--cache-control') + 1], type: c[c.indexOf('--content-type') + 1] }));
    assert.deepEqual(cp.map((c) => c.key), ['assets/index-3f2a9c.js', 'assets/index-77aa01.css', 'favicon.svg', 'index.html', 'config.json']);
    assert.deepEqual(cp.at(-1), { key: 'config.json', cache: 'no-store', type: 'application/json' });
    assert.equal(cp[0].cache, dashboard.IMMUTABLE);
    assert.equal(cp[0].type, 'text/javascript; charset=utf-8');
    assert.equal(cp[3].cache, 'no-cache');
    assert.ok(aws.calls.every((c) => c[0] === 's3' && c[1] === 'cp'));
  });
});

describe('run-task', () => {
  test('migrate: RunTask in the private subnets with the jobs security group, wait, exit code', () => {
    const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/Vega-ComputeCluster/0123456789abcdef';
    const aws = recorder({ 'ecs run-task': `${taskArn}\n`, 'ecs describe-tasks': '[0, "Essential container in task exited"]' });
    const res = runTask(['migrate', '--outputs', outputs], { aws });
    assert.deepEqual(res, { taskArn, exitCode: 0, reason: 'Essential container in task exited' });
    const [run, wait] = aws.calls;
    assert.equal(run[run.indexOf('--task-definition') + 1], OUTPUTS.MigrateTaskDefinition);
    assert.equal(run[run.indexOf('--network-configuration') + 1],
      `awsvpcConfiguration={subnets=[${OUTPUTS.TaskSubnets}],securityGroups=[${OUTPUTS.JobsSecurityGroup}],assignPublicIp=DISABLED}`);
    assert.deepEqual(wait.slice(0, 3), ['ecs', 'wait', 'tasks-stopped']);
    assert.throws(() => runTask(['drop-tables', '--outputs', outputs], { aws }), /usage/);
  });
});

describe('CloudFront routing', () => {
  test('API paths go to the load balancer, everything else to the bucket (CloudFront path-pattern semantics)', () => {
    for (const p of ['/v1/projects', '/v1/scans/scan_1/events/stream', '/git/tok.git/info/refs', '/docs']) assert.ok(cloudfront.isApiPath(p), p);
    for (const p of ['/', '/v1', '/V1/projects', '/docs/extra', '/projects/prj_1', '/config.json', '/assets/v1/x.js']) assert.ok(!cloudfront.isApiPath(p), p);
  });
});

describe('CloudFront Function', () => {
  // Runs the deployed source as CloudFront does: a global `handler`.
  const handler = new Function(`${fs.readFileSync(path.join(ROOT, 'edge', 'spa-rewrite.js'), 'utf8')}; return handler;`)();
  const route = (uri: string) => handler({ request: { uri, headers: {} } }).uri;

  test('routes get index.html; files and missing assets do not', () => {
    assert.equal(route('/'), '/index.html');
    assert.equal(route('/projects/prj_01ABC'), '/index.html');
    assert.equal(route('/auth/callback'), '/index.html');
    assert.equal(route('/assets/index-3f2a9c.js'), '/assets/index-3f2a9c.js');
    assert.equal(route('/assets/missing-000000.js'), '/assets/missing-000000.js');
    assert.equal(route('/config.json'), '/config.json');
  });
});
