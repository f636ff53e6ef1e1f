// The acknowledgements recorded with Validations.of(…).acknowledge(…), for
// the runbook's table (npm run acks) and the test that keeps it current.
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export interface Acknowledgement {
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

export function acknowledgements(stack: Stack): Acknowledgement[] {
  const out = new Map<string, Acknowledgement>();
  const visit = (c: IConstruct) => {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        const a = { path: c.node.path.replace(`${stack.stackName}/`, ''), rule: id.replace(/^Annotation::/, ''), reason };
        out.set(`${a.path} ${a.rule}`, a);
      }
    }
    c.node.children.forEach(visit);
  };
  visit(stack);
  return [...out.values()];
}

export function markdownTable(acks: Acknowledgement[]): string {
  return ['| construct | rule | reason |', '|---|---|---|', ...acks.map((a) => `| \`${a.path}\` | \`${a.rule}\` | ${a.reason} |`)].join('\n');
}
