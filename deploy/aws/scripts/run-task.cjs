#!/usr/bin/env node
// Runs a one-off task of the stack (migrate before rolling the services on an
// upgrade, or maintenance now instead of at its daily time), waits for it to
// stop, and exits with its exit code. Its logs are in /vega/<stack>/<role>.
//
//   node scripts/run-task.cjs migrate --outputs outputs.json [--dry-run] [--no-wait]
//   node scripts/run-task.cjs maintenance --stack Vega
'use strict';
const { parseArgs, stackOutputs, awsCli, fail } = require('./common.cjs');

const TASKS = { migrate: 'MigrateTaskDefinition', maintenance: 'MaintenanceTaskDefinition' };

function runTask(argv, opts = {}) {
  const { flags, positional } = parseArgs(argv);
  const role = positional[0];
  if (!TASKS[role]) throw new Error(`usage: run-task.cjs ${Object.keys(TASKS).join('|')} (--outputs FILE | --stack NAME) [--dry-run] [--no-wait]`);
  const aws = opts.aws || awsCli({ dryRun: flags['dry-run'] });
  const out = stackOutputs(flags, aws);
  for (const k of ['ClusterName', TASKS[role], 'TaskSubnets', 'JobsSecurityGroup']) {
    if (!out[k]) throw new Error(`stack output ${k} is missing`);
  }
  const network = `awsvpcConfiguration={subnets=[${out.TaskSubnets}],securityGroups=[${out.JobsSecurityGroup}],assignPublicIp=DISABLED}`;
  const started = aws.run([
    'ecs', 'run-task', '--cluster', out.ClusterName, '--task-definition', out[TASKS[role]], '--launch-type', 'FARGATE',
    '--network-configuration', network, '--started-by', `run-task.cjs/${role}`, '--query', 'tasks[0].taskArn', '--output', 'text',
  ]).trim();
  if (flags['dry-run'] || flags['no-wait']) return { taskArn: started, exitCode: undefined };
  if (!started || started === 'None') throw new Error(`${role}: RunTask started nothing (see the failures above)`);
  aws.run(['ecs', 'wait', 'tasks-stopped', '--cluster', out.ClusterName, '--tasks', started]);
  const [exitCode, reason] = JSON.parse(aws.run([
    'ecs', 'describe-tasks', '--cluster', out.ClusterName, '--tasks', started,
    '--query', 'tasks[0].[containers[0].exitCode, stoppedReason]', '--output', 'json',
  ]));
  return { taskArn: started, exitCode, reason };
}

if (require.main === module) {
  try {
    const { taskArn, exitCode, reason } = runTask(process.argv.slice(2));
    process.stdout.write(`${taskArn}${exitCode === undefined ? '' : ` exited ${exitCode} (${reason})`}\n`);
    if (exitCode !== undefined && exitCode !== 0) process.exit(typeof exitCode === 'number' ? exitCode : 1);
  } catch (e) {
    fail(e);
  }
}

module.exports = { runTask };
