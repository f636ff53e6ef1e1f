// Shared by the operator scripts: argument parsing, stack outputs, and
// running the AWS CLI (argv arrays, never a shell) or printing what it would
// run (--dry-run).
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

/** --name value pairs and bare --flags; everything else is positional. */
function parseArgs(argv) {
  const flags = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) positional.push(a);
    else if (a === '--dry-run' || a === '--no-wait') flags[a.slice(2)] = true;
    else if (i + 1 < argv.length) flags[a.slice(2)] = argv[++i];
    else throw new Error(`${a} needs a value`);
  }
  return { flags, positional };
}

/**
 * The stack's outputs: from `cdk deploy --outputs-file FILE` (--outputs FILE)
 * or, without it, from CloudFormation (--stack NAME, default Vega).
 */
function stackOutputs(flags, aws) {
  const stack = flags.stack;
  if (flags.outputs) {
    const all = JSON.parse(fs.readFileSync(flags.outputs, 'utf8'));
    const names = Object.keys(all);
    const name = stack || (names.length === 1 ? names[0] : undefined);
    if (!name || !all[name]) throw new Error(`${flags.outputs}: name the stack with --stack (it holds ${names.join(', ') || 'nothing'})`);
    return all[name];
  }
  const res = JSON.parse(aws.read(['cloudformation', 'describe-stacks', '--stack-name', stack || 'Vega', '--query', 'Stacks[0].Outputs', '--output', 'json']));
  return Object.fromEntries((res || []).map((o) => [o.OutputKey, o.OutputValue]));
}

/** Runs the AWS CLI; with dryRun it records the argv lists instead. */
function awsCli({ dryRun = false, log = (line) => process.stdout.write(line + '\n') } = {}) {
  const calls = [];
  return {
    calls,
    /** A call whose output we need (reads happen even in a dry run). */
    read(args) {
      return execFileSync('aws', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    },
    /** A call that changes something. */
    run(args) {
      calls.push(args);
      if (dryRun) {
        log(['aws', ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' '));
        return '';
      }
      return execFileSync('aws', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    },
  };
}

function fail(e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}

module.exports = { parseArgs, stackOutputs, awsCli, fail };
