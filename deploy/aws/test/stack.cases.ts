// Infrastructure tests on the synthesized template (config.example.json).
// Synthesis runs cdk-nag's AwsSolutionsChecks: reaching the assertions means
// every finding is fixed or acknowledged with a reason.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { acknowledgements, markdownTable } from '../lib/acks';
import * as contract from '../lib/contract';
import { ALB_IDLE_TIMEOUT, API_READ_TIMEOUT } from '../lib/edge';
import { ROLES, type Role } from '../lib/environment';
import { asList, iamStatements, logicalId, ofType, REPO, shared, type Synthesized } from './fixture';

let s: Synthesized;
before(() => {
  s = shared();
});

const td = (role: Role) => s.stack.compute.taskDefinitions[role];
const container = (role: Role) => s.json.Resources[logicalId(s, td(role))].Properties.ContainerDefinitions[0];
const roleId = (role: { node: { defaultChild?: unknown } }) => logicalId(s, role);
const execRole = (r: Role) => roleId(td(r).executionRole!);
const taskRole = (r: Role) => roleId(td(r).taskRole);
const mentions = (value: unknown, id: string) => JSON.stringify(value).includes(`"${id}"`);

describe('resources', () => {
  test('one of everything the deployment needs', () => {
    const t = s.template;
    t.resourceCountIs('AWS::S3::Bucket', 4); // source, artifacts, dashboard, access logs
    t.resourceCountIs('AWS::SQS::Queue', 2); // scans + dead letters
    t.resourceCountIs('AWS::RDS::DBCluster', 1);
    t.resourceCountIs('AWS::RDS::DBInstance', 1); // highAvailability: false
    t.resourceCountIs('AWS::ECS::Cluster', 1);
    t.resourceCountIs('AWS::ECS::TaskDefinition', ROLES.length);
    t.resourceCountIs('AWS::ECS::Service', 3); // api, worker, llm-proxy
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.resourceCountIs('AWS::CloudFront::VpcOrigin', 1);
    t.resourceCountIs('AWS::Cognito::UserPool', 1);
    t.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    t.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    t.resourceCountIs('AWS::Cognito::UserPoolGroup', 2);
    t.resourceCountIs('AWS::SecretsManager::Secret', 5); // database URL, auth, provider key, admin token + the master credentials
    t.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    t.resourceCountIs('AWS::Lambda::Function', 0); // no custom resources: nothing to patch or to run with broad roles
  });

  test('a log group with retention per role, plus Postgres and failed runner tasks', () => {
    const groups = ofType(s, 'AWS::Logs::LogGroup').map(([, r]) => r.Properties);
    for (const role of ROLES) {
      const g = groups.find((p) => p.LogGroupName === `/vega/${s.cfg.stackName}/${role}`);
      assert.ok(g, `no log group for ${role}`);
    }
    assert.equal(groups.length, ROLES.length + 2);
    for (const g of groups) assert.equal(g.RetentionInDays, s.cfg.logRetentionDays, `${g.LogGroupName} keeps logs forever`);
    for (const role of ROLES) {
      const log = container(role).LogConfiguration;
      assert.equal(log.LogDriver, 'awslogs');
      assert.ok(mentions(log.Options['awslogs-group'], logicalId(s, s.stack.compute.logGroups[role])), `${role} logs elsewhere`);
    }
  });

  test('a one-off migration task: the runtime image with VEGA_SERVICE_ROLE=migrate, its ARN in the outputs', () => {
    const env = Object.fromEntries(container('migrate').Environment.map((e: any) => [e.Name, e.Value]));
    assert.equal(env.VEGA_SERVICE_ROLE, 'migrate');
    assert.equal(container('migrate').Command, undefined, 'the role comes from the environment, not a command');
    assert.ok(mentions(s.json.Outputs.MigrateTaskDefinition.Value, logicalId(s, td('migrate'))));
    assert.ok(JSON.stringify(container('migrate').Image).includes('/vega:v1.0.0'));
  });
});

describe('encryption and public access', () => {
  test('every bucket: encrypted, public access blocked, TLS (1.2+) required by policy', () => {
    const buckets = ofType(s, 'AWS::S3::Bucket');
    for (const [id, b] of buckets) {
      assert.ok(b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.length, `${id} unencrypted`);
      assert.deepEqual(b.Properties.PublicAccessBlockConfiguration,
        { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true }, `${id} public`);
      const policy = ofType(s, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === id);
      assert.ok(policy, `${id} has no bucket policy`);
      const st = policy[1].Properties.PolicyDocument.Statement;
      assert.ok(st.some((x: any) => x.Effect === 'Deny' && x.Condition?.Bool?.['aws:SecureTransport'] === 'false'), `${id} allows plain HTTP`);
      assert.ok(st.some((x: any) => x.Effect === 'Deny' && x.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2), `${id} allows TLS < 1.2`);
    }
    // Only CloudFront (origin access control) may read the dashboard bucket.
    const dash = logicalId(s, s.stack.buckets.dashboard);
    const allows = ofType(s, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === dash)![1]
      .Properties.PolicyDocument.Statement.filter((x: any) => x.Effect === 'Allow');
    assert.deepEqual(allows.map((x: any) => x.Principal), [{ Service: 'cloudfront.amazonaws.com' }]);
    assert.ok(allows[0].Condition.StringEquals['AWS:SourceArn'], 'OAC access not tied to this distribution');
  });

  test('Postgres: encrypted, private, TLS forced, deletion protected', () => {
    s.template.hasResourceProperties('AWS::RDS::DBCluster', { StorageEncrypted: true, DeletionProtection: true, Engine: 'aurora-postgresql' });
    for (const [, i] of ofType(s, 'AWS::RDS::DBInstance')) assert.equal(i.Properties.PubliclyAccessible, false);
    s.template.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Parameters: Match.objectLike({ 'rds.force_ssl': '1' }) });
  });

  test('queues and the alarm topic are encrypted; secrets hold no literal values', () => {
    for (const [id, q] of ofType(s, 'AWS::SQS::Queue')) assert.equal(q.Properties.SqsManagedSseEnabled, true, id);
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    for (const [id, sec] of ofType(s, 'AWS::SecretsManager::Secret')) {
      const p = sec.Properties;
      assert.ok(p.GenerateSecretString || JSON.stringify(p.SecretString).includes('{{resolve:secretsmanager:'), `${id} has a literal value in the template`);
    }
  });

  test('nothing is reachable from the internet except through CloudFront', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    const ingress = [
      ...ofType(s, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties),
      ...ofType(s, 'AWS::EC2::SecurityGroup').flatMap(([, r]) => r.Properties.SecurityGroupIngress ?? []),
    ];
    assert.ok(ingress.length > 0);
    for (const rule of ingress) {
      assert.notEqual(rule.CidrIp, '0.0.0.0/0', `open ingress: ${JSON.stringify(rule)}`);
      assert.notEqual(rule.CidrIpv6, '::/0', `open ingress: ${JSON.stringify(rule)}`);
    }
    for (const [id, svc] of ofType(s, 'AWS::ECS::Service')) {
      assert.equal(svc.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, 'DISABLED', id);
    }
  });

  test('runner tasks reach only Postgres, the proxy, S3 and the VPC endpoints', () => {
    const runnerSg = logicalId(s, s.stack.network.runnerSg);
    const egress = [
      ...ofType(s, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties).filter((p) => mentions(p.GroupId, runnerSg)),
      ...(s.json.Resources[runnerSg].Properties.SecurityGroupEgress ?? []),
    ];
    const targets = egress.map((e: any) => ({
      port: e.FromPort,
      to: e.CidrIp ?? e.DestinationPrefixListId ?? e.DestinationSecurityGroupId?.['Fn::GetAtt']?.[0],
    }));
    const byPort = (p: number) => targets.filter((t) => t.port === p).map((t) => t.to).sort();
    assert.deepEqual(byPort(5432), [logicalId(s, s.stack.network.databaseSg)]);
    assert.deepEqual(byPort(contract.LLM_PROXY_PORT), [logicalId(s, s.stack.network.llmProxySg)]);
    assert.deepEqual(byPort(443), [s.cfg.vpc.cidr, s.cfg.vpc.s3PrefixListId].sort());
    assert.equal(targets.length, 4, `unexpected runner egress: ${JSON.stringify(targets)}`);
    assert.ok(!targets.some((t) => t.to === '0.0.0.0/0'));
  });
});

describe('queue', () => {
  test('dead-letter redrive and the visibility timeout the worker extends', () => {
    const dlq = logicalId(s, s.stack.queue.deadLetters);
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: contract.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
      ReceiveMessageWaitTimeSeconds: contract.QUEUE_LONG_POLL_SECONDS,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: contract.QUEUE_MAX_RECEIVE_COUNT },
    });
    // Extending every third of the timeout leaves two chances before a live scan's message reappears.
    assert.ok(contract.QUEUE_VISIBILITY_TIMEOUT_SECONDS >= 3 * 30);
  });
});

describe('IAM', () => {
  test('no "*" action anywhere, and "*" resources only where AWS has no resource to name', () => {
    for (const { roles, statement } of iamStatements(s)) {
      for (const a of asList<string>(statement.Action)) {
        assert.ok(a !== '*' && !a.endsWith(':*'), `wildcard action ${a} for ${roles}`);
      }
      if (asList(statement.Resource).includes('*')) {
        assert.deepEqual(asList(statement.Action), ['ecr:GetAuthorizationToken'], `"*" resource for ${JSON.stringify(statement.Action)} (${roles})`);
      }
    }
  });

  test('only the llm-proxy can read the provider key', () => {
    const key = logicalId(s, s.stack.secrets.providerKey);
    const readers = iamStatements(s).filter(({ statement }) => mentions(statement.Resource, key));
    assert.ok(readers.length > 0);
    for (const { roles, statement } of readers) {
      assert.deepEqual(roles, [execRole('llm-proxy')], `provider key readable by ${roles}`);
      assert.ok(asList<string>(statement.Action).every((a) => a.startsWith('secretsmanager:Get') || a === 'secretsmanager:DescribeSecret'));
    }
    for (const role of ROLES) {
      const names = (container(role).Secrets ?? []).map((x: any) => x.Name);
      assert.equal(names.includes('VEGA_LLM_PROVIDER_API_KEY'), role === 'llm-proxy', `${role} gets the provider key`);
      assert.ok(!mentions(container(role).Environment, key));
    }
  });

  test('each execution role reads exactly its role\'s secrets', () => {
    const secretIds = {
      url: logicalId(s, s.stack.database.urlSecret),
      auth: logicalId(s, s.stack.secrets.authSecret),
      key: logicalId(s, s.stack.secrets.providerKey),
      admin: logicalId(s, s.stack.secrets.proxyAdminToken),
    };
    const want: Record<Role, (keyof typeof secretIds)[]> = {
      api: ['url', 'auth', 'admin'],
      worker: ['url', 'admin'],
      'llm-proxy': ['url', 'key', 'admin'],
      runner: ['url'],
      migrate: ['url'],
      maintenance: ['url'],
    };
    const all = iamStatements(s);
    for (const role of ROLES) {
      const readable = (Object.keys(secretIds) as (keyof typeof secretIds)[]).filter((k) =>
        all.some(({ roles, statement }) => roles.includes(execRole(role)) && mentions(statement.Resource, secretIds[k])));
      assert.deepEqual(readable.sort(), [...want[role]].sort(), `${role} execution role`);
      const taskReads = all.filter(({ roles, statement }) => roles.includes(taskRole(role)) && asList<string>(statement.Action).some((a) => a.startsWith('secretsmanager:')));
      assert.deepEqual(taskReads, [], `${role}'s code can call Secrets Manager`);
    }
  });

  test('runner: reads snapshots, writes artifacts; no queue, no ECS, no other bucket access', () => {
    const st = iamStatements(s).filter(({ roles }) => roles.includes(taskRole('runner'))).map((x) => x.statement);
    const src = logicalId(s, s.stack.buckets.source);
    const art = logicalId(s, s.stack.buckets.artifacts);
    const actions = st.flatMap((x) => asList<string>(x.Action));
    assert.ok(!actions.some((a) => a.startsWith('sqs:') || a.startsWith('ecs:') || a.startsWith('iam:') || a.startsWith('secretsmanager:')), actions.join());
    const get = st.find((x) => asList(x.Action).includes('s3:GetObject'))!;
    assert.deepEqual(get.Resource, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [src, 'Arn'] }, '/snapshots/*']] });
    const put = st.find((x) => asList(x.Action).includes('s3:PutObject'))!;
    assert.deepEqual(put.Resource, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [art, 'Arn'] }, '/scans/*']] });
    assert.ok(!actions.includes('s3:DeleteObject') && !actions.includes('s3:ListBucket'));
  });

  test('worker: RunTask of the runner revision on this cluster, StopTask/DescribeTasks, PassRole only for the runner\'s roles', () => {
    const st = iamStatements(s).filter(({ roles }) => roles.includes(taskRole('worker'))).map((x) => x.statement);
    const runTask = st.find((x) => asList(x.Action).includes('ecs:RunTask'))!;
    assert.deepEqual(runTask.Resource, { Ref: logicalId(s, td('runner')) });
    assert.ok(mentions(runTask.Condition.ArnEquals['ecs:cluster'], logicalId(s, s.stack.compute.cluster)));
    assert.ok(st.some((x) => asList(x.Action).includes('ecs:StopTask') && asList(x.Action).includes('ecs:DescribeTasks')));
    const pass = st.filter((x) => asList(x.Action).includes('iam:PassRole'));
    assert.equal(pass.length, 1);
    assert.deepEqual(asList(pass[0].Resource).map((r: any) => r['Fn::GetAtt'][0]).sort(), [taskRole('runner'), execRole('runner')].sort());
    assert.equal(pass[0].Condition.StringEquals['iam:PassedToService'], 'ecs-tasks.amazonaws.com');
    // Nobody else starts tasks or passes roles, except EventBridge starting the maintenance task.
    const events = roleId(td('maintenance').node.findChild('EventsRole') as never);
    for (const { roles, statement } of iamStatements(s)) {
      const a = asList<string>(statement.Action);
      if (a.includes('ecs:RunTask') || a.includes('iam:PassRole')) {
        assert.ok(roles.every((r) => r === taskRole('worker') || r === events), `${roles} may run tasks or pass roles`);
      }
      if (roles.includes(events) && a.includes('ecs:RunTask')) assert.deepEqual(statement.Resource, { Ref: logicalId(s, td('maintenance')) });
    }
  });

  test('the queue: api and worker send, only workers receive; llm-proxy and migrate make no AWS calls', () => {
    const byRole = (r: Role) => iamStatements(s).filter(({ roles }) => roles.includes(taskRole(r))).flatMap(({ statement }) => asList<string>(statement.Action));
    assert.ok(byRole('api').includes('sqs:SendMessage') && !byRole('api').includes('sqs:ReceiveMessage'));
    assert.ok(byRole('worker').includes('sqs:ReceiveMessage') && byRole('worker').includes('sqs:ChangeMessageVisibility'));
    for (const r of ['runner', 'maintenance', 'llm-proxy', 'migrate'] as const) assert.ok(!byRole(r).some((a) => a.startsWith('sqs:')), r);
    assert.deepEqual(byRole('llm-proxy'), []);
    assert.deepEqual(byRole('migrate'), []);
  });
});

describe('CloudFront', () => {
  const distribution = () => ofType(s, 'AWS::CloudFront::Distribution')[0][1].Properties.DistributionConfig;
  const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
  const ALL_VIEWER = '216adef6-5c7f-47e4-b989-5492eafa07d3';

  test('/v1/* (and /git/*, /docs) go to the load balancer: every method, nothing cached, every header (Host too) forwarded, not compressed', () => {
    const d = distribution();
    const vpcOrigin = d.Origins.find((o: any) => o.VpcOriginConfig);
    assert.ok(vpcOrigin, 'no VPC origin');
    assert.deepEqual(d.CacheBehaviors.map((b: any) => b.PathPattern), contract.API_PATH_PATTERNS);
    for (const b of d.CacheBehaviors) {
      assert.equal(b.TargetOriginId, vpcOrigin.Id);
      assert.equal(b.CachePolicyId, CACHING_DISABLED); // with caching off, Authorization may be forwarded
      assert.equal(b.OriginRequestPolicyId, ALL_VIEWER); // Authorization, Last-Event-ID, query strings, and Host (the API checks it)
      assert.equal(b.Compress, false, 'compression buffers the event stream');
      assert.deepEqual([...b.AllowedMethods].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
      assert.equal(b.ViewerProtocolPolicy, 'https-only');
    }
    assert.ok(mentions(s.json.Resources[vpcOrigin.VpcOriginConfig.VpcOriginId['Fn::GetAtt'][0]].Properties.VpcOriginEndpointConfig.Arn, logicalId(s, s.stack.edge.alb)));
  });

  test('the event stream outlives the timeouts: keepalives every 15 s, CloudFront waits 60 s, the load balancer 120 s', () => {
    const events = fs.readFileSync(path.join(REPO, 'app/api/events.go'), 'utf8');
    const m = /sseHeartbeat\s*=\s*(\d+)\s*\*\s*time\.Second/.exec(events);
    assert.ok(m, 'sseHeartbeat not found in app/api/events.go');
    const heartbeat = Number(m[1]);
    const read = distribution().Origins.find((o: any) => o.VpcOriginConfig).VpcOriginConfig.OriginReadTimeout;
    assert.equal(read, API_READ_TIMEOUT.toSeconds());
    assert.ok(read >= 2 * heartbeat && read <= 120, `read timeout ${read}s vs heartbeat ${heartbeat}s (quota: 120 s)`);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: String(ALB_IDLE_TIMEOUT.toSeconds()) }]),
    });
    assert.ok(ALB_IDLE_TIMEOUT.toSeconds() > read);
    assert.equal(distribution().Origins.find((o: any) => o.VpcOriginConfig).ResponseCompletionTimeout, undefined, 'a completion timeout would cut live streams');
  });

  test('the dashboard: S3 through origin access control, routes rewritten to index.html, the deployment\'s CSP, HTTPS with TLS 1.2+', () => {
    const d = distribution();
    const s3Origin = d.Origins.find((o: any) => o.S3OriginConfig);
    assert.ok(s3Origin.OriginAccessControlId);
    assert.equal(d.DefaultCacheBehavior.TargetOriginId, s3Origin.Id);
    assert.equal(d.DefaultCacheBehavior.ViewerProtocolPolicy, 'redirect-to-https');
    assert.equal(d.DefaultCacheBehavior.FunctionAssociations[0].EventType, 'viewer-request');
    assert.deepEqual(d.Aliases, [s.cfg.domainName]);
    assert.equal(d.ViewerCertificate.MinimumProtocolVersion, 'TLSv1.2_2021');
    assert.ok(d.Logging.Bucket, 'no access logs');
    // Objects decide their caching (publish-dashboard.cjs sets Cache-Control); nothing without it is cached.
    s.template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ MinTTL: 0, DefaultTTL: 0, MaxTTL: 31536000 }),
    });
    // The same CSP the binary sends for these settings (environment.cases.ts asks the binary).
    const csp = contract.dashboardCsp({ publicUrl: `https://${s.cfg.domainName}`, cognitoDomain: s.stack.identity.domain });
    assert.ok(csp.includes(`connect-src 'self' https://${s.cfg.domainName} https://${s.stack.identity.domain};`), csp);
    s.template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({ ContentSecurityPolicy: { ContentSecurityPolicy: csp, Override: true } }),
      }),
    });
  });

  test('the load balancer only answers API paths and checks /v1/healthz', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: contract.API_PATH_PATTERNS } }],
    });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: contract.API_HEALTH_PATH, Port: contract.API_PORT });
  });
});

describe('Cognito', () => {
  test('invite-only pool with MFA, a public PKCE client for the dashboard, root and operator groups', () => {
    s.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
    });
    s.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: Match.arrayWith(['openid', 'email', 'profile']),
      CallbackURLs: [`https://${s.cfg.domainName}${contract.COGNITO_CALLBACK_PATH}`],
      LogoutURLs: [`https://${s.cfg.domainName}${contract.COGNITO_SIGN_OUT_PATH}`],
      EnableTokenRevocation: true,
    });
    s.template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: s.cfg.cognitoDomainPrefix });
    const groups = ofType(s, 'AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties.GroupName).sort();
    assert.deepEqual(groups, [contract.COGNITO_OPERATOR_GROUP, contract.COGNITO_ROOT_GROUP].sort());
    const ui = fs.readFileSync(path.join(REPO, 'ui/src/auth/cognito.ts'), 'utf8');
    assert.ok(ui.includes(`CALLBACK_PATH = '${contract.COGNITO_CALLBACK_PATH}'`), 'the dashboard callback route moved');
    assert.ok(ui.includes(`SIGN_OUT_PATH = '${contract.COGNITO_SIGN_OUT_PATH}'`), 'the dashboard signs out to an unregistered URL');
  });

  test('only the api reads users from the pool (their email and name), and only from this pool', () => {
    const pool = logicalId(s, s.stack.identity.pool);
    const reads = iamStatements(s).filter(({ statement }) => asList<string>(statement.Action).some((a) => a.startsWith('cognito-idp:')));
    assert.equal(reads.length, 1);
    assert.deepEqual(reads[0].roles, [taskRole('api')]);
    assert.deepEqual(asList(reads[0].statement.Action), ['cognito-idp:AdminGetUser']);
    assert.deepEqual(reads[0].statement.Resource, { 'Fn::GetAtt': [pool, 'Arn'] });
  });
});

describe('alarms', () => {
  const alarm = (c: { node: { defaultChild?: unknown } }) => s.json.Resources[logicalId(s, c)].Properties;

  test('dead letters: any message in the DLQ', () => {
    const a = alarm(s.stack.monitoring.alarms.deadLetters);
    assert.equal(a.MetricName, 'ApproximateNumberOfMessagesVisible');
    assert.ok(mentions(a.Dimensions, logicalId(s, s.stack.queue.deadLetters)));
    assert.equal(a.Threshold, 1);
  });

  test('scans stuck in queued: the worker\'s queue line, as a metric; silence counts as stuck', () => {
    const a = alarm(s.stack.monitoring.alarms.stuckQueued);
    assert.equal(a.MetricName, 'OldestQueuedScanAgeSeconds');
    assert.equal(a.Threshold, s.cfg.stuckQueuedMinutes * 60);
    assert.equal(a.TreatMissingData, 'breaching');
    const filters = ofType(s, 'AWS::Logs::MetricFilter').map(([, f]) => f.Properties);
    const f = filters.find((x) => x.MetricTransformations[0].MetricName === 'OldestQueuedScanAgeSeconds')!;
    assert.ok(f.FilterPattern.includes(`"${contract.QUEUE_STATS_MESSAGE}"`), f.FilterPattern);
    assert.equal(f.MetricTransformations[0].MetricValue, `$.${contract.OLDEST_QUEUED_AGE_FIELD}`);
    assert.ok(mentions(f.LogGroupName, logicalId(s, s.stack.compute.logGroups.worker)));
    // The documented line must be one the filter matches.
    const doc = fs.readFileSync(path.join(REPO, 'docs/deploy-aws.md'), 'utf8');
    const line = doc.split('\n').find((l) => l.includes(`"msg":"${contract.QUEUE_STATS_MESSAGE}"`));
    assert.ok(line, 'docs/deploy-aws.md does not show the queue line');
    const parsed = JSON.parse(line.trim());
    assert.equal(typeof parsed[contract.QUEUED_SCANS_FIELD], 'number');
    assert.equal(typeof parsed[contract.OLDEST_QUEUED_AGE_FIELD], 'number');
  });

  test('runner task failures: stopped runner tasks that failed to start or exited non-zero, not cancels', () => {
    const a = alarm(s.stack.monitoring.alarms.runnerFailures);
    assert.equal(a.Namespace, 'AWS/Events');
    assert.ok(mentions(a.Dimensions, logicalId(s, s.stack.compute.runnerFailures)));
    const rule = s.json.Resources[logicalId(s, s.stack.compute.runnerFailures)].Properties;
    const d = rule.EventPattern.detail;
    assert.deepEqual(rule.EventPattern['detail-type'], ['ECS Task State Change']);
    assert.deepEqual(d.lastStatus, ['STOPPED']);
    assert.ok(JSON.stringify(d.taskDefinitionArn).includes(`task-definition/${s.cfg.stackName}-runner:`));
    assert.deepEqual(d.$or, [
      { stopCode: ['TaskFailedToStart'] },
      { stopCode: ['EssentialContainerExited'], containers: { exitCode: [{ 'anything-but': 0 }] } },
    ]);
    assert.ok(!JSON.stringify(d).includes('UserInitiated'), 'a cancel (StopTask) must not count');
    assert.ok(mentions(rule.Targets, logicalId(s, s.stack.compute.runnerFailureLogs)) || JSON.stringify(rule.Targets).includes('runner-task-failures'));
  });

  test('every alarm notifies the topic', () => {
    const topic = logicalId(s, s.stack.monitoring.topic);
    for (const [id, a] of ofType(s, 'AWS::CloudWatch::Alarm')) assert.ok(mentions(a.Properties.AlarmActions, topic), id);
  });
});

describe('acknowledgements', () => {
  test('each carries a reason, and docs/deploy-aws.md lists exactly these', () => {
    const acks = acknowledgements(s.stack);
    assert.ok(acks.length > 0);
    for (const a of acks) assert.ok(a.reason.length > 20 && !a.reason.includes('\n'), `${a.path} ${a.rule}: a one-line reason`);
    const doc = fs.readFileSync(path.join(REPO, 'docs/deploy-aws.md'), 'utf8');
    assert.ok(doc.includes(markdownTable(acks)), 'docs/deploy-aws.md: paste the output of `npm run acks` into "Checks and acknowledgements"');
  });
});
