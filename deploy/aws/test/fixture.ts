// One synthesis shared by the tests of a file: the stack built from
// config.example.json (so the example always deploys) with cdk-nag enabled,
// written to a temporary cloud assembly.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../lib/app';
import { parseConfig, type VegaConfig } from '../lib/config';
import type { VegaStack } from '../lib/stack';

export const ROOT = path.join(__dirname, '..', '..');
export const REPO = path.join(ROOT, '..', '..');

export function exampleConfig(overrides: Record<string, unknown> = {}): VegaConfig {
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, 'config.example.json'), 'utf8'));
  return parseConfig({ ...raw, ...overrides });
}

export interface Synthesized {
  readonly cfg: VegaConfig;
  readonly stack: VegaStack;
  readonly template: Template;
  readonly json: { Resources: Record<string, { Type: string; Properties?: any; DependsOn?: unknown }>; Outputs: Record<string, any> };
}

/** Synthesizes with AwsSolutionsChecks; throws if any finding is not acknowledged. */
export function synth(cfg = exampleConfig()): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'vega-cdk-'));
  try {
    const { app, stack } = buildApp(cfg, { outdir });
    app.synth();
    const json = JSON.parse(fs.readFileSync(path.join(outdir, `${stack.stackName}.template.json`), 'utf8'));
    return { cfg, stack, template: Template.fromJSON(json), json };
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

let cached: Synthesized | undefined;
/** The example configuration, synthesized once per test process. */
export function shared(): Synthesized {
  cached ??= synth();
  return cached;
}

/** Resources of one type, by logical ID. */
export function ofType(s: Synthesized, type: string): [string, any][] {
  return Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
}

/** The logical ID of a construct's CloudFormation resource. */
export function logicalId(s: Synthesized, construct: { node: { defaultChild?: unknown } }): string {
  return s.stack.getLogicalId(construct.node.defaultChild as never);
}

/** Every IAM statement of identity policies (AWS::IAM::Policy and inline role policies), with the roles it applies to. */
export function iamStatements(s: Synthesized): { roles: string[]; statement: any }[] {
  const out: { roles: string[]; statement: any }[] = [];
  for (const [, p] of ofType(s, 'AWS::IAM::Policy')) {
    const roles = (p.Properties.Roles ?? []).map((r: any) => r.Ref);
    for (const st of p.Properties.PolicyDocument.Statement) out.push({ roles, statement: st });
  }
  for (const [id, r] of ofType(s, 'AWS::IAM::Role')) {
    for (const p of r.Properties.Policies ?? []) for (const st of p.PolicyDocument.Statement) out.push({ roles: [id], statement: st });
  }
  return out;
}

export const asList = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
