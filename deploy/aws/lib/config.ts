// The deployment's settings: one JSON file named by `-c config=FILE`
// (config.example.json documents every key), plus `-c imageUri=…` /
// `-c runnerImageUri=…` overrides for upgrades. Everything is validated
// before any construct is built, and every problem names its key.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface TaskSize {
  /** Fargate CPU units (256 = 0.25 vCPU). */
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Task storage; 20 GiB is included in the Fargate price, 21–200 is billed. */
  readonly ephemeralGiB: number;
}

export interface ServiceSize extends TaskSize {
  readonly count: number;
}

export interface VegaConfig {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  /** VEGA_ENVIRONMENT: a label in every log line (anything but local means JSON logs). */
  readonly environment: 'dev' | 'staging' | 'prod';
  /** The one public name: dashboard, API (/v1/*) and git push remotes (/git/*). */
  readonly domainName: string;
  /** ACM certificate for domainName, in us-east-1 (CloudFront's region). */
  readonly certificateArn: string;
  /** deploy/Dockerfile target `runtime` (llm-proxy, migrate, maintenance). */
  readonly imageUri: string;
  /** deploy/Dockerfile target `runner` (runner tasks, api, worker). */
  readonly runnerImageUri: string;
  /**
   * Image of the migrate task only (default: imageUri). An upgrade deploys the
   * new image here first, runs the migration, then rolls the services
   * (docs/deploy-aws.md, "Upgrades").
   */
  readonly migrateImageUri: string;
  /** Every service at zero tasks: the first deployment (before migrations) and emergencies. */
  readonly paused: boolean;
  readonly vpc: {
    readonly id: string;
    readonly cidr: string;
    readonly availabilityZones: string[];
    readonly publicSubnetIds: string[];
    readonly privateSubnetIds: string[];
    readonly privateRouteTableIds: string[];
    /** com.amazonaws.<region>.s3 managed prefix list: the only place runners reach over HTTPS besides VPC endpoints. */
    readonly s3PrefixListId: string;
    /** Create the S3 gateway and ECR/Logs/Secrets Manager interface endpoints (false if the VPC has them). */
    readonly createEndpoints: boolean;
  };
  /** Hosted sign-in at https://<prefix>.auth.<region>.amazoncognito.com (unique per region). */
  readonly cognitoDomainPrefix: string;
  readonly alarmEmail?: string;
  readonly tasks: {
    readonly api: ServiceSize;
    readonly worker: ServiceSize & { readonly concurrency: number };
    readonly llmProxy: ServiceSize;
    readonly runner: TaskSize;
    readonly migrate: TaskSize;
    readonly maintenance: TaskSize;
  };
  readonly database: {
    readonly minAcu: number;
    readonly maxAcu: number;
    /** Adds a reader in another AZ that takes over in about a minute (otherwise a failed writer is replaced in ~10). */
    readonly highAvailability: boolean;
    readonly backupRetentionDays: number;
  };
  readonly llm: {
    readonly providerBaseUrl: string;
    /** VEGA_LLM_PROXY_MAX_COST_USD_PER_SCAN: a budget per scan (0 = unlimited). */
    readonly maxCostUsdPerScan: number;
    readonly codexModel?: string;
  };
  /** CloudWatch Logs retention of every log group. */
  readonly logRetentionDays: number;
  /** ScansStuckQueued fires when the oldest queued scan is older than this. */
  readonly stuckQueuedMinutes: number;
  /** Daily maintenance (orphaned-blob cleanup, stale-scan recovery), EventBridge cron in UTC. */
  readonly maintenanceSchedule: string;
  /** An AWS WAF web ACL (scope CLOUDFRONT, created in us-east-1) to attach to the distribution. */
  readonly webAclArn?: string;
  /** CloudFront price class: PriceClass_100 (NA+EU), PriceClass_200, PriceClass_All. */
  readonly priceClass: 'PriceClass_100' | 'PriceClass_200' | 'PriceClass_All';
  /** Protects the database, load balancer and user pool from deletion (turn off only for test stacks). */
  readonly deletionProtection: boolean;
}

const DEFAULTS = {
  stackName: 'Vega',
  environment: 'prod',
  tasks: {
    api: { cpu: 1024, memoryMiB: 2048, ephemeralGiB: 50, count: 1 },
    worker: { cpu: 256, memoryMiB: 512, ephemeralGiB: 20, count: 1, concurrency: 4 },
    llmProxy: { cpu: 256, memoryMiB: 512, ephemeralGiB: 20, count: 1 },
    runner: { cpu: 2048, memoryMiB: 4096, ephemeralGiB: 30 },
    migrate: { cpu: 256, memoryMiB: 512, ephemeralGiB: 20 },
    maintenance: { cpu: 512, memoryMiB: 1024, ephemeralGiB: 20 },
  },
  database: { minAcu: 0.5, maxAcu: 4, highAvailability: false, backupRetentionDays: 14 },
  llm: { providerBaseUrl: 'https://api.openai.com/v1', maxCostUsdPerScan: 20 },
  logRetentionDays: 90,
  stuckQueuedMinutes: 15,
  maintenanceSchedule: 'cron(17 3 * * ? *)',
  priceClass: 'PriceClass_100',
  deletionProtection: true,
  vpc: { createEndpoints: true },
} as const;

/** Keys that `-c key=value` may override on top of the file: the images of an upgrade, and pausing. */
export const OVERRIDABLE = ['imageUri', 'runnerImageUri', 'migrateImageUri', 'paused'] as const;

/** CloudWatch Logs accepts only these retention periods. */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** Fargate's valid CPU → memory (MiB) combinations, for the sizes this stack allows. */
const FARGATE_MEMORY: Record<number, [number, number, number]> = {
  // cpu: [min, max, step]
  256: [512, 2048, 512],
  512: [1024, 4096, 1024],
  1024: [2048, 8192, 1024],
  2048: [4096, 16384, 1024],
  4096: [8192, 30720, 1024],
  8192: [16384, 61440, 4096],
  16384: [32768, 122880, 8192],
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`deploy/aws configuration is invalid:\n  - ${problems.join('\n  - ')}`);
  }
}

type Json = { [k: string]: unknown };

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace `base`. */
function merge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over === undefined ? base : over;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

/** Reads the file named by context `config` and applies the allowed overrides. */
export function readConfig(tryGetContext: (key: string) => unknown, cwd = process.cwd()): VegaConfig {
  const file = tryGetContext('config');
  if (typeof file !== 'string' || file === '') {
    throw new ConfigError(['config: pass the settings file with `-c config=path/to/vega.json` (see deploy/aws/config.example.json)']);
  }
  const full = path.resolve(cwd, file);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(full, 'utf8'));
  } catch (e) {
    throw new ConfigError([`config: cannot read ${full}: ${(e as Error).message}`]);
  }
  if (!isObject(raw)) throw new ConfigError([`config: ${full} must hold a JSON object`]);
  const over: Json = {};
  for (const k of OVERRIDABLE) {
    const v = tryGetContext(k);
    // -c paused=true arrives as the string "true"
    if (v !== undefined) over[k] = k === 'paused' && typeof v === 'string' ? v === 'true' : v;
  }
  return parseConfig({ ...raw, ...over });
}

/** Applies defaults and validates; throws ConfigError listing every problem. */
export function parseConfig(input: Json): VegaConfig {
  const c = merge(DEFAULTS, input) as Json;
  c.migrateImageUri ??= c.imageUri;
  c.paused ??= false;
  const problems: string[] = [];
  const bad = (key: string, msg: string) => problems.push(`${key}: ${msg}`);
  const get = (key: string): unknown => key.split('.').reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), c);

  const str = (key: string, re?: RegExp, hint?: string) => {
    const v = get(key);
    if (typeof v !== 'string' || v.trim() === '') bad(key, 'required (a string)');
    else if (re && !re.test(v)) bad(key, `${hint ?? `must match ${re}`} (got ${JSON.stringify(v)})`);
  };
  const list = (key: string, re: RegExp, hint: string, min = 1) => {
    const v = get(key);
    if (!Array.isArray(v) || v.length < min) {
      bad(key, `required: a list of at least ${min}`);
      return;
    }
    v.forEach((x, i) => {
      if (typeof x !== 'string' || !re.test(x)) bad(`${key}[${i}]`, `${hint} (got ${JSON.stringify(x)})`);
    });
  };
  const num = (key: string, min: number, max: number) => {
    const v = get(key);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) bad(key, `must be a number from ${min} to ${max} (got ${JSON.stringify(v)})`);
  };
  const bool = (key: string) => {
    if (typeof get(key) !== 'boolean') bad(key, 'must be true or false');
  };

  str('account', /^\d{12}$/, 'a 12-digit AWS account ID');
  str('region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1');
  str('stackName', /^[A-Za-z][A-Za-z0-9-]{0,30}$/, 'letters, digits and dashes, starting with a letter, at most 31');
  if (!['dev', 'staging', 'prod'].includes(String(get('environment')))) bad('environment', 'one of dev, staging, prod');
  str('domainName', /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case DNS name such as vega.example.com');
  str('certificateArn', /^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/, 'an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from there)');
  const image = /^[a-z0-9.-]+(:\d+)?\/[a-z0-9._\/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$/;
  str('imageUri', image, 'an image reference with a tag or digest, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/vega:v1.0.0');
  str('runnerImageUri', image, 'an image reference with a tag or digest (deploy/Dockerfile target runner)');
  str('migrateImageUri', image, 'an image reference with a tag or digest (deploy/Dockerfile target runtime)');
  bool('paused');
  for (const k of ['imageUri', 'runnerImageUri', 'migrateImageUri']) {
    if (/:latest$/.test(String(get(k)))) bad(k, 'pin a version or digest, not :latest (rollbacks redeploy a named image)');
  }

  str('vpc.id', /^vpc-[0-9a-f]{8,17}$/, 'a VPC ID');
  str('vpc.cidr', /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'the VPC IPv4 CIDR, e.g. 10.0.0.0/16');
  list('vpc.availabilityZones', /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an availability zone', 2);
  list('vpc.publicSubnetIds', /^subnet-[0-9a-f]{8,17}$/, 'a subnet ID', 2);
  list('vpc.privateSubnetIds', /^subnet-[0-9a-f]{8,17}$/, 'a subnet ID', 2);
  list('vpc.privateRouteTableIds', /^rtb-[0-9a-f]{8,17}$/, 'a route table ID', 1);
  str('vpc.s3PrefixListId', /^pl-[0-9a-f]{8,17}$/, 'the com.amazonaws.<region>.s3 prefix list ID');
  bool('vpc.createEndpoints');
  const azs = get('vpc.availabilityZones');
  for (const k of ['vpc.publicSubnetIds', 'vpc.privateSubnetIds']) {
    const v = get(k);
    if (Array.isArray(azs) && Array.isArray(v) && v.length !== azs.length) bad(k, `list one subnet per availability zone (${azs.length})`);
  }
  const rts = get('vpc.privateRouteTableIds');
  const priv = get('vpc.privateSubnetIds');
  if (Array.isArray(rts) && Array.isArray(priv) && rts.length !== priv.length) bad('vpc.privateRouteTableIds', 'list the route table of each private subnet, in the same order');
  const region = get('region');
  if (typeof region === 'string' && Array.isArray(azs)) {
    azs.forEach((az, i) => {
      if (typeof az === 'string' && !az.startsWith(region)) bad(`vpc.availabilityZones[${i}]`, `not in region ${region}`);
    });
  }

  str('cognitoDomainPrefix', /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and dashes');
  if (/aws|amazon|cognito/.test(String(get('cognitoDomainPrefix')))) bad('cognitoDomainPrefix', 'Cognito refuses prefixes containing aws, amazon or cognito');
  if (get('alarmEmail') !== undefined) str('alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an email address');

  const size = (key: string, service: boolean) => {
    num(`${key}.cpu`, 256, 16384);
    num(`${key}.memoryMiB`, 512, 122880);
    num(`${key}.ephemeralGiB`, 20, 200);
    if (service) num(`${key}.count`, 0, 50);
    const cpu = get(`${key}.cpu`) as number;
    const mem = get(`${key}.memoryMiB`) as number;
    const range = FARGATE_MEMORY[cpu];
    if (!range) bad(`${key}.cpu`, `not a Fargate size (one of ${Object.keys(FARGATE_MEMORY).join(', ')})`);
    else if (mem < range[0] || mem > range[1] || (mem - range[0]) % range[2] !== 0) {
      bad(`${key}.memoryMiB`, `Fargate allows ${range[0]}–${range[1]} MiB in steps of ${range[2]} with cpu ${cpu}`);
    }
  };
  size('tasks.api', true);
  size('tasks.worker', true);
  num('tasks.worker.concurrency', 1, 100);
  size('tasks.llmProxy', true);
  size('tasks.runner', false);
  size('tasks.migrate', false);
  size('tasks.maintenance', false);

  num('database.minAcu', 0, 256);
  num('database.maxAcu', 1, 256);
  if ((get('database.maxAcu') as number) < (get('database.minAcu') as number)) bad('database.maxAcu', 'must be at least database.minAcu');
  bool('database.highAvailability');
  num('database.backupRetentionDays', 1, 35);

  str('llm.providerBaseUrl', /^https:\/\/\S+$/, 'an https URL');
  num('llm.maxCostUsdPerScan', 0, 100000);
  if (get('llm.codexModel') !== undefined) str('llm.codexModel');

  if (!RETENTION_DAYS.includes(get('logRetentionDays') as number)) bad('logRetentionDays', `one of ${RETENTION_DAYS.join(', ')}`);
  num('stuckQueuedMinutes', 5, 1440);
  str('maintenanceSchedule', /^cron\(.+\)$|^rate\(.+\)$/, 'an EventBridge schedule expression, cron(...) or rate(...)');
  if (get('webAclArn') !== undefined) str('webAclArn', /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/.+$/, 'a WAFv2 web ACL ARN with scope CLOUDFRONT');
  if (!['PriceClass_100', 'PriceClass_200', 'PriceClass_All'].includes(String(get('priceClass')))) bad('priceClass', 'PriceClass_100, PriceClass_200 or PriceClass_All');
  bool('deletionProtection');

  const known = new Set(['account', 'region', 'stackName', 'environment', 'domainName', 'certificateArn', 'imageUri', 'runnerImageUri',
    'migrateImageUri', 'paused', 'vpc',
    'cognitoDomainPrefix', 'alarmEmail', 'tasks', 'database', 'llm', 'logRetentionDays', 'stuckQueuedMinutes', 'maintenanceSchedule',
    'webAclArn', 'priceClass', 'deletionProtection', '$comment']);
  for (const k of Object.keys(input)) if (!known.has(k)) bad(k, 'unknown setting (a typo?)');

  if (problems.length) throw new ConfigError(problems);
  return c as unknown as VegaConfig;
}
