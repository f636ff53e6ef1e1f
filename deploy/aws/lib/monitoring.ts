// Alarms, each described in docs/deploy-aws.md ("Alarms"): what it means and
// what to do. They notify one encrypted SNS topic (subscribe an address with
// alarmEmail, or anything else SNS delivers to).
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { Compute } from './compute';
import type { VegaConfig } from './config';
import { OLDEST_QUEUED_AGE_FIELD, QUEUE_STATS_MESSAGE, QUEUED_SCANS_FIELD } from './contract';
import type { ScanQueue } from './data';
import type { Edge } from './edge';

export interface MonitoringProps {
  readonly cfg: VegaConfig;
  readonly queue: ScanQueue;
  readonly compute: Compute;
  readonly edge: Edge;
}

export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly namespace: string;
  readonly alarms: Record<'deadLetters' | 'stuckQueued' | 'runnerFailures' | 'apiUnhealthy', cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, { cfg, queue, compute, edge }: MonitoringProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.namespace = `Vega/${stackName}`;

    // CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS
    // key, hence a customer key whose policy lets it.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: `${stackName}: encrypts the alarm topic`,
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'], // in a key policy, "*" means this key
    }));
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `${stackName} alarms`, masterKey: key, enforceSSL: true });
    if (cfg.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(cfg.alarmEmail));
    const notify = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
      return alarm;
    };

    // The worker's periodic queue line, as metrics (contract.ts).
    const workerLogs = compute.logGroups.worker;
    const fromQueueStats = (metricName: string, field: string) => {
      new logs.MetricFilter(this, `Filter-${metricName}`, {
        logGroup: workerLogs,
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.stringValue('$.msg', '=', QUEUE_STATS_MESSAGE),
          logs.FilterPattern.exists(`$.${field}`),
        ),
        metricNamespace: this.namespace,
        metricName,
        metricValue: `$.${field}`,
      });
      return new cloudwatch.Metric({ namespace: this.namespace, metricName, statistic: 'Maximum', period: Duration.minutes(5) });
    };
    fromQueueStats('QueuedScans', QUEUED_SCANS_FIELD);
    const oldestQueued = fromQueueStats('OldestQueuedScanAgeSeconds', OLDEST_QUEUED_AGE_FIELD);

    this.alarms = {
      deadLetters: notify(new cloudwatch.Alarm(this, 'DeadLetterMessages', {
        alarmDescription: 'Scan messages reached the dead-letter queue (docs/deploy-aws.md#alarms)',
        metric: queue.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })),
      // No line at all (no worker running) is as bad as an old queued scan.
      stuckQueued: notify(new cloudwatch.Alarm(this, 'ScansStuckQueued', {
        alarmDescription: `A scan has been queued for over ${cfg.stuckQueuedMinutes} minutes, or no worker reports (docs/deploy-aws.md#alarms)`,
        metric: oldestQueued,
        threshold: cfg.stuckQueuedMinutes * 60,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      })),
      runnerFailures: notify(new cloudwatch.Alarm(this, 'RunnerTaskFailures', {
        alarmDescription: 'Runner tasks failed to start or exited non-zero (docs/deploy-aws.md#alarms)',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Events',
          metricName: 'TriggeredRules', // times this rule matched an event
          dimensionsMap: { RuleName: compute.runnerFailures.ruleName },
          statistic: 'Sum',
          period: Duration.minutes(15),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      })),
      apiUnhealthy: notify(new cloudwatch.Alarm(this, 'ApiUnhealthy', {
        alarmDescription: 'No healthy api task behind the load balancer (docs/deploy-aws.md#alarms)',
        metric: edge.targets.metrics.healthyHostCount({ period: Duration.minutes(1), statistic: 'Minimum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      })),
    };
  }
}
