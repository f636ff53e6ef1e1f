// Vega on AWS: one stack holding everything docs/deploy-aws.md deploys.
import { CfnOutput, Stack, Tags } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Compute } from './compute';
import type { VegaConfig } from './config';
import { AppSecrets, Buckets, Database, ScanQueue } from './data';
import { Edge } from './edge';
import { Identity } from './identity';
import { Monitoring } from './monitoring';
import { Network } from './network';

export class VegaStack extends Stack {
  readonly network: Network;
  readonly buckets: Buckets;
  readonly queue: ScanQueue;
  readonly database: Database;
  readonly secrets: AppSecrets;
  readonly identity: Identity;
  readonly compute: Compute;
  readonly edge: Edge;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, cfg: VegaConfig) {
    super(scope, cfg.stackName, {
      env: { account: cfg.account, region: cfg.region },
      description: `Vega AI code security scanner (${cfg.environment}, https://${cfg.domainName})`,
      terminationProtection: cfg.deletionProtection,
    });
    Tags.of(this).add('app', 'vega');
    Tags.of(this).add('vega:environment', cfg.environment);

    this.network = new Network(this, 'Network', cfg);
    this.buckets = new Buckets(this, 'Buckets', cfg);
    this.queue = new ScanQueue(this, 'Queue');
    this.database = new Database(this, 'Database', cfg, this.network);
    this.secrets = new AppSecrets(this, 'Secrets');
    this.identity = new Identity(this, 'Identity', cfg);
    this.compute = new Compute(this, 'Compute', {
      cfg,
      net: this.network,
      buckets: this.buckets,
      queue: this.queue,
      identity: this.identity,
      secrets: this.secrets.all(this.database.urlSecret),
    });
    this.edge = new Edge(this, 'Edge', { cfg, net: this.network, buckets: this.buckets, compute: this.compute, identity: this.identity });
    this.monitoring = new Monitoring(this, 'Monitoring', { cfg, queue: this.queue, compute: this.compute, edge: this.edge });

    // Outputs: what the scripts in deploy/aws/scripts and the runbook read.
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    const c = this.compute;
    out('Url', `https://${cfg.domainName}`, 'Vega: dashboard and API');
    out('DistributionDomainName', this.edge.distribution.distributionDomainName, `CNAME/alias target for ${cfg.domainName}`);
    out('DistributionId', this.edge.distribution.distributionId, 'CloudFront distribution');
    out('DashboardBucket', this.buckets.dashboard.bucketName, 'publish-dashboard.mjs uploads ui/dist here');
    out('SourceBucket', this.buckets.source.bucketName, 'VEGA_S3_SOURCE_BUCKET');
    out('ArtifactsBucket', this.buckets.artifacts.bucketName, 'VEGA_S3_ARTIFACTS_BUCKET');
    out('QueueUrl', this.queue.queue.queueUrl, 'VEGA_SCAN_QUEUE_URL');
    out('DeadLetterQueueUrl', this.queue.deadLetters.queueUrl, 'Scan messages that failed 5 receives');
    out('ClusterName', c.cluster.clusterName, 'ECS cluster');
    out('ApiService', c.api.serviceName, 'ECS service (api)');
    out('WorkerService', c.worker.serviceName, 'ECS service (worker)');
    out('LlmProxyService', c.llmProxy.serviceName, 'ECS service (llm-proxy)');
    out('MigrateTaskDefinition', c.taskDefinitions.migrate.taskDefinitionArn, 'Run once before rolling the services (scripts/run-task.sh migrate)');
    out('MaintenanceTaskDefinition', c.taskDefinitions.maintenance.taskDefinitionArn, 'Runs daily; scripts/run-task.sh maintenance runs it now');
    out('RunnerTaskDefinition', c.taskDefinitions.runner.taskDefinitionArn, 'Started by workers, one task per scan');
    out('TaskSubnets', cfg.vpc.privateSubnetIds.join(','), 'Subnets of one-off tasks');
    out('JobsSecurityGroup', this.network.jobsSg.securityGroupId, 'Security group of one-off tasks');
    out('UserPoolId', this.identity.pool.userPoolId, 'Cognito user pool');
    out('UserPoolClientId', this.identity.client.userPoolClientId, 'Cognito app client of the dashboard');
    out('CognitoDomain', this.identity.domain, 'Cognito hosted UI');
    out('CognitoRegion', cfg.region, 'Cognito region');
    out('DatabaseUrlSecret', this.database.urlSecret.secretArn, 'VEGA_DATABASE_URL');
    out('DatabaseMasterSecret', this.database.cluster.secret!.secretArn, 'Postgres master credentials (JSON)');
    out('DatabaseClusterId', this.database.cluster.clusterIdentifier, 'Aurora cluster');
    out('AuthSecret', this.secrets.authSecret.secretArn, 'VEGA_AUTH_SECRET');
    out('ProviderKeySecret', this.secrets.providerKey.secretArn, 'VEGA_LLM_PROVIDER_API_KEY: put the model provider key here');
    out('ProxyAdminTokenSecret', this.secrets.proxyAdminToken.secretArn, 'VEGA_LLM_PROXY_ADMIN_TOKEN');
    out('AlarmTopic', this.monitoring.topic.topicArn, 'SNS topic of every alarm');
    for (const [role, group] of Object.entries(c.logGroups)) out(`Logs${role.replace(/(^|-)(\w)/g, (_m, _d, ch: string) => ch.toUpperCase())}`, group.logGroupName, `CloudWatch logs of ${role}`);
    out('LogsRunnerTaskFailures', c.runnerFailureLogs.logGroupName, 'ECS events of failed runner tasks');
  }
}
