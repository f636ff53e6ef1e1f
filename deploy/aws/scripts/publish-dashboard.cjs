#!/usr/bin/env node
// Uploads a dashboard build (`make ui` → ui/dist) to the stack's dashboard
// bucket with per-object Cache-Control (hashed assets immutable, index.html
// revalidated, config.json never stored) and writes /config.json from the
// stack's outputs. Old hashed assets stay, so open tabs keep working.
//
//   node scripts/publish-dashboard.cjs --outputs outputs.json [--dist ../../ui/dist] [--dry-run]
//   node scripts/publish-dashboard.cjs --stack Vega            (reads outputs from CloudFormation)
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { configFromOutputs, uploadPlan, cacheControlFor, contentTypeFor } = require('../edge/dashboard.cjs');
const { parseArgs, stackOutputs, awsCli, fail } = require('./common.cjs');

function publish(argv, opts = {}) {
  const { flags } = parseArgs(argv);
  const aws = opts.aws || awsCli({ dryRun: flags['dry-run'] });
  const outputs = stackOutputs(flags, aws);
  const bucket = outputs.DashboardBucket;
  if (!bucket) throw new Error('stack output DashboardBucket is missing');
  const dist = path.resolve(flags.dist || path.join(__dirname, '..', '..', '..', 'ui', 'dist'));
  const plan = uploadPlan(dist);
  const config = configFromOutputs(outputs);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vega-config-'));
  const configFile = path.join(tmp, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  try {
    const put = (file, key, cacheControl, contentType) =>
      aws.run(['s3', 'cp', file, `s3://${bucket}/${key}`, '--cache-control', cacheControl, '--content-type', contentType, '--only-show-errors']);
    for (const o of plan) put(o.file, o.key, o.cacheControl, o.contentType);
    // Last: a new config.json must never point at settings the new index.html does not expect.
    put(configFile, 'config.json', cacheControlFor('config.json'), contentTypeFor('config.json'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { bucket, plan, config };
}

if (require.main === module) {
  try {
    const { bucket, plan, config } = publish(process.argv.slice(2));
    process.stdout.write(`published ${plan.length} files and config.json to s3://${bucket}\n${JSON.stringify(config)}\n`);
  } catch (e) {
    fail(e);
  }
}

module.exports = { publish };
