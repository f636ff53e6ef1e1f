#!/usr/bin/env node
// The CDK app entry point (cdk.json). Settings: -c config=path/to/vega.json
// (see config.example.json); upgrades may override -c imageUri=… -c runnerImageUri=….
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';
import { ConfigError, readConfig } from '../lib/config';

// A bare App only to read the CLI's context; buildApp makes the real one.
const context = new App();
try {
  const cfg = readConfig((k) => context.node.tryGetContext(k));
  buildApp(cfg).app.synth();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(2);
  }
  throw e;
}
