// The ECS cluster and everything that runs on it: the api, worker and
// llm-proxy services, the runner task definition workers start once per scan,
// the one-off migrate task and the scheduled maintenance task. One log group
// per role; one execution role (image, logs, its secrets) and one task role
// (its AWS calls) per task definition, each granted only what that role does.
import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import type { ServiceSize, TaskSize, VegaConfig } from './config';
import { API_PORT, LLM_PROXY_PORT, RUNNER_CONTAINER } from './contract';
import type { Buckets, ScanQueue } from './data';
import { ecsSecrets, roleEnvironment, type Role, ROLES, type VegaSecrets, type Wiring } from './environment';
import type { Identity } from './identity';
import type { Network } from './network';

const ECR_URI = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+?)(?::([A-Za-z0-9._-]+)|@(sha256:[0-9a-f]{64}))$/;

/** Which image each role runs; see docs/deploy-aws.md ("Images"). */
const RUNNER_IMAGE_ROLES: ReadonlySet<Role> = new Set<Role>([
  // Runs Codex on the scanned code.
  'runner',
  // Decide which engines a scan gets and mint model tokens only when Codex is
  // usable in their own process, and the API generates AI threat profiles.
  'api',
  'worker',
]);

export interface ComputeProps {
  readonly cfg: VegaConfig;
  readonly net: Network;
  readonly buckets: Buckets;
  readonly queue: ScanQueue;
  readonly identity: Identity;
  readonly secrets: VegaSecrets;
}

export class Compute extends Construct {
  readonly cluster: ecs.Cluster;
  readonly logGroups: Record<Role, logs.LogGroup>;
  readonly taskDefinitions: Record<Role, ecs.FargateTaskDefinition>;
  readonly api: ecs.FargateService;
  readonly worker: ecs.FargateService;
  readonly llmProxy: ecs.FargateService;
  readonly llmProxyUrl: string;
  /** Stopped runner tasks that failed (not cancelled): the RunnerTaskFailures alarm counts its matches. */
  readonly runnerFailures: events.Rule;
  readonly runnerFailureLogs: logs.LogGroup;

  private readonly images = new Map<string, ecs.ContainerImage>();

  constructor(scope: Construct, id: string, private readonly props: ComputeProps) {
    super(scope, id);
    const { cfg, net, buckets, queue, identity } = props;
    const stackName = Stack.of(this).stackName;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: net.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
      name: `${stackName.toLowerCase()}.internal`,
      vpc: net.vpc,
      description: 'Vega service discovery (llm-proxy)',
    });
    this.llmProxyUrl = `http://llm-proxy.${namespace.namespaceName}:${LLM_PROXY_PORT}`;

    this.logGroups = Object.fromEntries(
      ROLES.map((role) => [
        role,
        new logs.LogGroup(this, `Logs-${role}`, {
          logGroupName: `/vega/${stackName}/${role}`,
          retention: cfg.logRetentionDays as logs.RetentionDays,
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      ]),
    ) as Record<Role, logs.LogGroup>;

    const wiring = (runnerTaskDefinitionArn: string): Wiring => ({
      environment: cfg.environment,
      publicUrl: `https://${cfg.domainName}`,
      sourceBucket: buckets.source.bucketName,
      artifactsBucket: buckets.artifacts.bucketName,
      queueUrl: queue.queue.queueUrl,
      cluster: this.cluster.clusterName,
      runnerTaskDefinitionArn,
      runnerSubnets: cfg.vpc.privateSubnetIds,
      runnerSecurityGroup: net.runnerSg.securityGroupId,
      llmProxyUrl: this.llmProxyUrl,
      workerConcurrency: cfg.tasks.worker.concurrency,
      cognito: { region: cfg.region, userPoolId: identity.pool.userPoolId, clientId: identity.client.userPoolClientId, domain: identity.domain },
      llm: cfg.llm,
    });

    // The runner first: the worker's environment and policy name its exact revision.
    const runner = this.taskDefinition('runner', cfg.tasks.runner, wiring(''));
    const w = wiring(runner.taskDefinitionArn);
    const t = cfg.tasks;
    this.taskDefinitions = {
      runner,
      api: this.taskDefinition('api', t.api, w, API_PORT),
      worker: this.taskDefinition('worker', t.worker, w),
      'llm-proxy': this.taskDefinition('llm-proxy', t.llmProxy, w, LLM_PROXY_PORT),
      migrate: this.taskDefinition('migrate', t.migrate, w),
      maintenance: this.taskDefinition('maintenance', t.maintenance, w),
    };
    const td = this.taskDefinitions;

    // --- task roles: the AWS calls each role makes, nothing more ---
    const allow = (role: Role, actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      td[role].taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources, conditions }));
    // Object keys are generated (per repository, snapshot, scan), so object
    // permissions name a bucket and, where the role's keys share one, a prefix.
    const allowObjects = (role: Role, actions: string[], bucket: s3.IBucket, prefix = '') => {
      allow(role, actions, [`${bucket.bucketArn}/${prefix}*`]);
      const logicalId = Stack.of(this).getLogicalId(bucket.node.defaultChild as CfnElement);
      Validations.of(td[role].taskRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
        reason: `${role} works on generated object keys${prefix ? ` under ${prefix}` : ''} in this one bucket.`,
      });
    };
    const readWriteObjects = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'];

    // api: uploads and snapshots, artifacts and exports (write, download,
    // delete with their repository or project), and enqueueing scans.
    allowObjects('api', readWriteObjects, buckets.source);
    allowObjects('api', readWriteObjects, buckets.artifacts);
    allow('api', ['s3:ListBucket'], [buckets.source.bucketArn, buckets.artifacts.bucketArn]);
    allow('api', ['sqs:SendMessage', 'sqs:GetQueueAttributes'], [queue.queue.queueArn]);
    // Access tokens carry no email or name: the api reads them from the pool
    // at each sign-in (docs/auth.md, "Cognito users").
    allow('api', ['cognito-idp:AdminGetUser'], [identity.pool.userPoolArn]);

    // worker: the queue (including re-sending scans whose send failed) and
    // exactly one task definition revision on this cluster.
    allow('worker', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:SendMessage'], [queue.queue.queueArn]);
    allow('worker', ['ecs:RunTask'], [runner.taskDefinitionArn], { ArnEquals: { 'ecs:cluster': this.cluster.clusterArn } });
    const clusterTasks = Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${this.cluster.clusterName}/*` });
    allow('worker', ['ecs:StopTask', 'ecs:DescribeTasks'], [clusterTasks]);
    allow('worker', ['ecs:TagResource'], [clusterTasks], { StringEquals: { 'ecs:CreateAction': 'RunTask' } });
    allow('worker', ['iam:PassRole'], [runner.taskRole.roleArn, runner.executionRole!.roleArn], {
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    Validations.of(td.worker.taskRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${cfg.region}:${cfg.account}:task/<${Stack.of(this).getLogicalId(this.cluster.node.defaultChild as CfnElement)}>/*]`,
      reason: 'Task IDs are assigned by RunTask; the worker may stop and describe tasks of this cluster only.',
    });

    // runner: reads snapshots, writes artifacts. No queue, no other secrets.
    allowObjects('runner', ['s3:GetObject'], buckets.source, 'snapshots/');
    allowObjects('runner', ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], buckets.artifacts, 'scans/');

    // maintenance: finds orphaned objects by listing, deletes them.
    allow('maintenance', ['s3:ListBucket'], [buckets.source.bucketArn, buckets.artifacts.bucketArn]);
    allowObjects('maintenance', ['s3:DeleteObject'], buckets.source);
    allowObjects('maintenance', ['s3:DeleteObject'], buckets.artifacts);

    // llm-proxy and migrate make no AWS calls; their task roles stay empty.

    // --- services ---
    const service = (role: Role, size: ServiceSize, sg: ec2.ISecurityGroup, extra: Partial<ecs.FargateServiceProps> = {}) => {
      const s = new ecs.FargateService(this, `Service-${role}`, {
        cluster: this.cluster,
        taskDefinition: td[role],
        desiredCount: this.props.cfg.paused ? 0 : size.count,
        securityGroups: [sg],
        vpcSubnets: net.privateSubnets,
        assignPublicIp: false,
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        circuitBreaker: { enable: true, rollback: true },
        propagateTags: ecs.PropagatedTagSource.SERVICE,
        enableExecuteCommand: false,
        ...extra,
      });
      return s;
    };
    this.api = service('api', t.api, net.apiSg, { healthCheckGracePeriod: Duration.seconds(60) });
    this.worker = service('worker', t.worker, net.workerSg);
    this.llmProxy = service('llm-proxy', t.llmProxy, net.llmProxySg, {
      cloudMapOptions: { name: 'llm-proxy', cloudMapNamespace: namespace, dnsRecordType: servicediscovery.DnsRecordType.A, dnsTtl: Duration.seconds(10) },
    });

    // --- maintenance, daily ---
    new events.Rule(this, 'MaintenanceSchedule', {
      description: 'Vega maintenance: stale-scan recovery and orphaned-object cleanup',
      schedule: events.Schedule.expression(cfg.maintenanceSchedule),
      targets: [
        new targets.EcsTask({
          cluster: this.cluster,
          taskDefinition: td.maintenance,
          subnetSelection: net.privateSubnets,
          securityGroups: [net.jobsSg],
          assignPublicIp: false,
          launchType: ecs.LaunchType.FARGATE,
        }),
      ],
    });
    // The EcsTask target's role (CDK-generated) may tag the tasks it starts.
    Validations.of(td.maintenance.node.findChild('EventsRole')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:${cfg.region}:*:task/<${Stack.of(this).getLogicalId(this.cluster.node.defaultChild as CfnElement)}>/*]`,
      reason: 'Generated by the EventBridge ECS target to tag the maintenance task it starts; limited to tasks of this cluster.',
    });

    // --- runner task failures: an EventBridge rule over ECS task state changes ---
    this.runnerFailureLogs = new logs.LogGroup(this, 'Logs-runner-failures', {
      logGroupName: `/vega/${stackName}/runner-task-failures`,
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.runnerFailures = new events.Rule(this, 'RunnerTaskFailed', {
      description: 'A Vega runner task stopped without finishing (failed to start, or exited non-zero); cancels are not failures',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [this.cluster.clusterArn],
          lastStatus: ['STOPPED'],
          taskDefinitionArn: [{ prefix: Stack.of(this).formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${runner.family}:` }) }],
          $or: [
            { stopCode: ['TaskFailedToStart'] },
            { stopCode: ['EssentialContainerExited'], containers: { exitCode: [{ 'anything-but': 0 }] } },
          ],
        },
      },
    });
    // The events land in a log group (whole event: stop code, reason, exit
    // code, scan ID in startedBy). A plain resource policy lets EventBridge
    // write there, without the custom resource the L2 target would add.
    const failureLogsArn = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: this.runnerFailureLogs.logGroupName,
    });
    new logs.CfnResourcePolicy(this, 'RunnerFailureLogsPolicy', {
      policyName: `${stackName}-runner-task-failures`,
      policyDocument: Stack.of(this).toJsonString({
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: this.runnerFailureLogs.logGroupArn,
          Condition: { ArnEquals: { 'aws:SourceArn': this.runnerFailures.ruleArn } },
        }],
      }),
    });
    this.runnerFailures.addTarget({ bind: () => ({ arn: failureLogsArn }) });
  }

  /** The image of a role, imported once per URI; ECR images grant pulls to each execution role. */
  private imageFor(role: Role): ecs.ContainerImage {
    const cfg = this.props.cfg;
    const uri = role === 'migrate' ? cfg.migrateImageUri : RUNNER_IMAGE_ROLES.has(role) ? cfg.runnerImageUri : cfg.imageUri;
    let image = this.images.get(uri);
    if (!image) {
      const m = ECR_URI.exec(uri);
      if (m) {
        const [, account, region, name, tag, digest] = m;
        const repo = ecr.Repository.fromRepositoryAttributes(this, `Repo-${this.images.size}`, {
          repositoryName: name,
          repositoryArn: `arn:${Stack.of(this).partition}:ecr:${region}:${account}:repository/${name}`,
        });
        image = ecs.ContainerImage.fromEcrRepository(repo, tag ?? digest);
      } else {
        image = ecs.ContainerImage.fromRegistry(uri);
      }
      this.images.set(uri, image);
    }
    return image;
  }

  private taskDefinition(role: Role, size: TaskSize, wiring: Wiring, port?: number): ecs.FargateTaskDefinition {
    const stackName = Stack.of(this).stackName;
    const td = new ecs.FargateTaskDefinition(this, `Task-${role}`, {
      family: `${stackName}-${role}`,
      cpu: size.cpu,
      memoryLimitMiB: size.memoryMiB,
      ephemeralStorageGiB: size.ephemeralGiB > 20 ? size.ephemeralGiB : undefined,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const env = roleEnvironment(role, wiring, this.props.secrets);
    td.addContainer(role === 'runner' ? RUNNER_CONTAINER : role, {
      image: this.imageFor(role),
      environment: env.environment,
      secrets: ecsSecrets(env),
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroups[role], streamPrefix: role }),
      portMappings: port ? [{ containerPort: port, protocol: ecs.Protocol.TCP }] : [],
      // Every role finishes or hands back its work on SIGTERM within this.
      stopTimeout: Duration.seconds(60),
      essential: true,
    });
    Validations.of(td).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'Environment holds non-secret settings only (names, URLs, modes); secrets are injected from Secrets Manager.',
    });
    Validations.of(td.executionRole!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are limited to the repository.',
    });
    return td;
  }
}
