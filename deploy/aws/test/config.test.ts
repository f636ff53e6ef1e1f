// Settings validation: every mistake is reported at once, naming its key.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, parseConfig, readConfig } from '../lib/config';
import { ROOT } from './fixture';

const example = () => JSON.parse(fs.readFileSync(path.join(ROOT, 'config.example.json'), 'utf8'));

function problems(input: Record<string, unknown>): string[] {
  try {
    parseConfig(input);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('configuration', () => {
  test('the example is valid and defaults fill what it leaves out', () => {
    const c = parseConfig(example());
    assert.equal(c.tasks.migrate.cpu, 256);
    assert.equal(c.maintenanceSchedule, 'cron(17 3 * * ? *)');
    assert.equal(c.vpc.createEndpoints, true);
  });

  test('every problem is listed with its key', () => {
    const bad = example();
    bad.account = '12345';
    bad.certificateArn = bad.certificateArn.replace('us-east-1', 'eu-west-1');
    bad.imageUri = 'registry.example.com/vega:latest';
    bad.vpc = { ...bad.vpc, privateSubnetIds: ['subnet-0cc3333333333333c'], availabilityZones: ['eu-west-1a', 'us-east-1b'] };
    bad.tasks = { ...bad.tasks, runner: { cpu: 2048, memoryMiB: 2048, ephemeralGiB: 30 } };
    bad.logRetentionDays = 45;
    bad.cognitoDomainPrefix = 'my-cognito';
    bad.domainname = 'typo.example.com';
    const p = problems(bad);
    for (const key of ['account:', 'certificateArn:', 'imageUri:', 'vpc.privateSubnetIds:', 'vpc.availabilityZones[1]:',
      'tasks.runner.memoryMiB:', 'logRetentionDays:', 'cognitoDomainPrefix:', 'domainname:']) {
      assert.ok(p.some((x) => x.startsWith(key)), `no problem reported for ${key}:\n${p.join('\n')}`);
    }
  });

  test('-c migrateImageUri/imageUri/runnerImageUri/paused override the file; other context keys do not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vega-cfg-'));
    try {
      fs.writeFileSync(path.join(dir, 'vega.json'), JSON.stringify(example()));
      const ctx: Record<string, unknown> = {
        config: 'vega.json',
        migrateImageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vega:v1.1.0',
        paused: 'true',
        domainName: 'ignored.example.com',
      };
      const c = readConfig((k) => ctx[k], dir);
      assert.equal(c.migrateImageUri, ctx.migrateImageUri);
      assert.equal(c.imageUri, example().imageUri, 'services keep their image until the migration ran');
      assert.equal(c.paused, true);
      assert.equal(c.domainName, 'vega.example.com');
      assert.equal(readConfig((k) => ({ config: 'vega.json' })[k], dir).migrateImageUri, example().imageUri);
      assert.throws(() => readConfig(() => undefined, dir), /-c config=/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
