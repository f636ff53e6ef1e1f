#!/usr/bin/env node
// Prints every cdk-nag acknowledgement of the stack (config.example.json):
// the construct, the rule and the one-line reason. docs/deploy-aws.md lists them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { buildApp } from '../lib/app';
import { parseConfig } from '../lib/config';

const cfg = parseConfig(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'config.example.json'), 'utf8')));
const { stack } = buildApp(cfg);
const rows: string[] = [];
const visit = (c: IConstruct) => {
  for (const m of c.node.metadata) {
    if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
    for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
      rows.push(`| \`${c.node.path.replace(`${stack.stackName}/`, '')}\` | \`${id.replace(/^Annotation::/, '')}\` | ${reason} |`);
    }
  }
  c.node.children.forEach(visit);
};
visit(stack);
console.log(['| construct | rule | reason |', '|---|---|---|', ...new Set(rows)].join('\n'));
