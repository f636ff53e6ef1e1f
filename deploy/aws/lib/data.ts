// Where Vega keeps state: three buckets (snapshots, artifacts, dashboard) plus
// one for access logs, the scan queue and its dead-letter queue, Postgres,
// and the four application secrets.
import { Duration, Fn, RemovalPolicy, SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { VegaConfig } from './config';
import { QUEUE_LONG_POLL_SECONDS, QUEUE_MAX_RECEIVE_COUNT, QUEUE_VISIBILITY_TIMEOUT_SECONDS } from './contract';
import type { VegaSecrets } from './environment';
import type { Network } from './network';

/** Characters a generated database password must not contain: it is embedded in a URL. */
const NOT_IN_URL = ` %+~\`#$&*()|[]{}:;<>?!'/@"\\=,^`;

export class Buckets extends Construct {
  readonly logs: s3.Bucket;
  readonly source: s3.Bucket;
  readonly artifacts: s3.Bucket;
  readonly dashboard: s3.Bucket;

  constructor(scope: Construct, id: string, cfg: VegaConfig) {
    super(scope, id);
    // Access logs of the other buckets, the load balancer and CloudFront.
    // CloudFront's standard logs are delivered with ACLs, hence OBJECT_WRITER;
    // the load balancer only writes to SSE-S3 buckets.
    this.logs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket; logging it into itself would loop.',
    });

    const bucket = (name: string, extra: Partial<s3.BucketProps> = {}) =>
      new s3.Bucket(this, name, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: this.logs,
        serverAccessLogsPrefix: `s3/${name.toLowerCase()}/`,
        // Uploads stream as multipart uploads; a crashed upload must not leave parts behind.
        lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
        // Not versioned: deleting a repository deletes its source for good.
        removalPolicy: RemovalPolicy.RETAIN,
        ...extra,
      });
    this.source = bucket('Source');
    this.artifacts = bucket('Artifacts', {
      // Downloads may be redirects to presigned URLs that the dashboard fetches.
      cors: [{ allowedOrigins: [`https://${cfg.domainName}`], allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD], maxAge: 600 }],
    });
    this.dashboard = bucket('Dashboard');
  }
}

export class ScanQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the scan queue.',
    });
    // The database is the source of truth; a message only wakes a worker. See
    // contract.ts for the visibility timeout the worker keeps extending.
    this.queue = new sqs.Queue(this, 'Scans', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(QUEUE_VISIBILITY_TIMEOUT_SECONDS),
      receiveMessageWaitTime: Duration.seconds(QUEUE_LONG_POLL_SECONDS),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: QUEUE_MAX_RECEIVE_COUNT },
    });
  }
}

export class Database extends Construct {
  readonly cluster: rds.DatabaseCluster;
  /** postgres://… for VEGA_DATABASE_URL, assembled at deploy time from the generated credentials. */
  readonly urlSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, cfg: VegaConfig, net: Network) {
    super(scope, id);
    const stack = Stack.of(this);
    const clusterIdentifier = `${cfg.stackName.toLowerCase()}-postgres`;
    // Created here (not by RDS) so it has a retention period.
    const postgresLogs = new logs.LogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const params = new rds.ParameterGroup(this, 'Parameters', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_13 }),
      description: 'Vega: TLS required, slow statements logged',
      parameters: { 'rds.force_ssl': '1', log_min_duration_statement: '2000' },
    });
    this.cluster = new rds.DatabaseCluster(this, 'Postgres', {
      clusterIdentifier,
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_13 }),
      parameterGroup: params,
      credentials: rds.Credentials.fromGeneratedSecret('vega', { excludeCharacters: NOT_IN_URL }),
      defaultDatabaseName: 'vega',
      writer: rds.ClusterInstance.serverlessV2('Writer', { publiclyAccessible: false, autoMinorVersionUpgrade: true }),
      readers: cfg.database.highAvailability ? [rds.ClusterInstance.serverlessV2('Reader', { scaleWithWriter: true, publiclyAccessible: false })] : [],
      serverlessV2MinCapacity: cfg.database.minAcu,
      serverlessV2MaxCapacity: cfg.database.maxAcu,
      vpc: net.vpc,
      vpcSubnets: net.privateSubnets,
      securityGroups: [net.databaseSg],
      storageEncrypted: true,
      backup: { retention: Duration.days(cfg.database.backupRetentionDays), preferredWindow: '02:00-03:00' },
      preferredMaintenanceWindow: 'sun:04:00-sun:05:00',
      cloudwatchLogsExports: ['postgresql'],
      deletionProtection: cfg.deletionProtection,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      copyTagsToSnapshot: true,
    });
    this.cluster.node.addDependency(postgresLogs);
    if (!cfg.deletionProtection) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: 'The settings turn deletion protection off (deletionProtection: false), which is for throwaway test stacks.',
      });
    }
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS6',
      reason: 'Vega connects with a password DSN from Secrets Manager (VEGA_DATABASE_URL); pgx IAM token auth is not implemented.',
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason: 'A non-default port is obscurity, not a control: only Vega task security groups may connect.',
    });

    // The master secret holds JSON (username, password, host, …); Vega takes a
    // URL. CloudFormation resolves the password reference at deploy time, so
    // the value never appears in the template. TLS is required by the
    // parameter group; see docs/deploy-aws.md on certificate verification.
    const master = this.cluster.secret!;
    const password = master.secretValueFromJson('password').unsafeUnwrap();
    this.urlSecret = new secretsmanager.Secret(this, 'Url', {
      description: `${stack.stackName}: VEGA_DATABASE_URL`,
      secretStringValue: SecretValue.unsafePlainText(
        Fn.join('', [
          'postgres://vega:', password, '@', this.cluster.clusterEndpoint.hostname, ':',
          this.cluster.clusterEndpoint.port.toString(), '/vega?sslmode=require',
        ]),
      ),
    });
    for (const s of [this.cluster.node.findChild('Secret'), this.urlSecret]) {
      Validations.of(s).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Rotation is the documented procedure in docs/deploy-aws.md (both secrets change together, then services restart).',
      });
    }
  }
}

export class AppSecrets extends Construct {
  readonly authSecret: secretsmanager.Secret;
  readonly providerKey: secretsmanager.Secret;
  readonly proxyAdminToken: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const random = (name: string, description: string) => {
      const s = new secretsmanager.Secret(this, name, {
        description: `${stackName}: ${description}`,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
      });
      Validations.of(s).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'Rotation is the documented procedure in docs/deploy-aws.md (put a new value, then restart the services that read it).',
      });
      return s;
    };
    this.authSecret = random('AuthSecret', 'VEGA_AUTH_SECRET (signs tokens of the custom provider)');
    this.proxyAdminToken = random('ProxyAdminToken', 'VEGA_LLM_PROXY_ADMIN_TOKEN (guards scan-token minting)');
    // Created with a random placeholder: the operator puts the real key after
    // the first deployment (docs/deploy-aws.md); it never passes through
    // CloudFormation.
    this.providerKey = random('ProviderKey', 'VEGA_LLM_PROVIDER_API_KEY (set the model provider key here; read only by llm-proxy)');
  }

  all(databaseUrl: secretsmanager.ISecret): VegaSecrets {
    return { databaseUrl, authSecret: this.authSecret, providerKey: this.providerKey, proxyAdminToken: this.proxyAdminToken };
  }
}
