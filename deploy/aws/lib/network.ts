// The operator's VPC, imported from the settings, and one security group per
// kind of task. Nothing of Vega is reachable from the internet: CloudFront
// reaches the internal load balancer through a VPC origin, and every group
// starts with no egress at all, so each allowed path is written out here.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { VegaConfig } from './config';
import { LLM_PROXY_PORT } from './contract';

const POSTGRES = ec2.Port.tcp(5432);
const HTTPS = ec2.Port.tcp(443);

export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly privateSubnets: ec2.SubnetSelection;
  readonly albSg: ec2.SecurityGroup;
  readonly apiSg: ec2.SecurityGroup;
  readonly workerSg: ec2.SecurityGroup;
  readonly llmProxySg: ec2.SecurityGroup;
  readonly runnerSg: ec2.SecurityGroup;
  /** One-off and scheduled tasks: migrate, maintenance. */
  readonly jobsSg: ec2.SecurityGroup;
  readonly databaseSg: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, cfg: VegaConfig) {
    super(scope, id);
    const v = cfg.vpc;
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
      vpcId: v.id,
      vpcCidrBlock: v.cidr,
      availabilityZones: v.availabilityZones,
      publicSubnetIds: v.publicSubnetIds,
      privateSubnetIds: v.privateSubnetIds,
      privateSubnetRouteTableIds: v.privateRouteTableIds,
    });
    this.privateSubnets = { subnets: this.vpc.privateSubnets };
    const vpcCidr = ec2.Peer.ipv4(v.cidr);
    const sg = (name: string, description: string) =>
      new ec2.SecurityGroup(this, name, { vpc: this.vpc, description, allowAllOutbound: false });

    this.albSg = sg('Alb', 'Vega internal load balancer: reached only by CloudFront VPC origin interfaces');
    this.apiSg = sg('Api', 'Vega api tasks');
    this.workerSg = sg('Worker', 'Vega worker tasks');
    this.llmProxySg = sg('LlmProxy', 'Vega llm-proxy tasks');
    this.runnerSg = sg('Runner', 'Vega runner tasks (one per scan; no internet)');
    this.jobsSg = sg('Jobs', 'Vega migrate and maintenance tasks');
    this.databaseSg = sg('Database', 'Vega Postgres');

    // CloudFront's VPC origin places its interfaces in the load balancer's
    // subnets, so the load balancer accepts the VPC's own range on its port.
    // The runners' group has no egress to it.
    this.albSg.addIngressRule(vpcCidr, ec2.Port.tcp(80), 'CloudFront VPC origin');

    for (const [group, why] of [
      [this.apiSg, 'api'],
      [this.workerSg, 'worker'],
      [this.llmProxySg, 'llm-proxy'],
      [this.runnerSg, 'runner'],
      [this.jobsSg, 'migrate/maintenance'],
    ] as const) {
      group.connections.allowTo(this.databaseSg, POSTGRES, `${why} to Postgres`);
    }
    for (const [group, why] of [
      [this.apiSg, 'api: repository-scoped tokens for AI threat profiles, and Codex'],
      [this.workerSg, 'worker: scan-scoped tokens'],
      [this.runnerSg, 'runner: Codex model traffic'],
    ] as const) {
      group.connections.allowTo(this.llmProxySg, ec2.Port.tcp(LLM_PROXY_PORT), why);
    }
    // The API clones repositories from the internet (https, and http when a
    // URL says so) and calls S3, SQS and Cognito's JWKS; workers call SQS and
    // ECS; the proxy calls the model provider; jobs call S3. All through the
    // VPC's NAT gateway or endpoints.
    this.apiSg.addEgressRule(ec2.Peer.anyIpv4(), HTTPS, 'Git clones, AWS APIs, Cognito JWKS');
    this.apiSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'Git clones of http:// URLs');
    this.workerSg.addEgressRule(ec2.Peer.anyIpv4(), HTTPS, 'SQS, ECS, image pulls');
    this.llmProxySg.addEgressRule(ec2.Peer.anyIpv4(), HTTPS, 'Model provider');
    this.jobsSg.addEgressRule(ec2.Peer.anyIpv4(), HTTPS, 'S3, image pulls');
    // Runners read hostile code and run an agent on it: they reach Postgres,
    // the proxy, S3 (gateway endpoint, by prefix list) and the VPC's interface
    // endpoints (ECR, CloudWatch Logs, Secrets Manager), and nothing else.
    this.runnerSg.addEgressRule(ec2.Peer.prefixList(v.s3PrefixListId), HTTPS, 'S3 through the gateway endpoint');
    this.runnerSg.addEgressRule(vpcCidr, HTTPS, 'Interface endpoints: ECR, CloudWatch Logs, Secrets Manager');

    if (v.createEndpoints) this.addEndpoints(vpcCidr);
  }

  /** The endpoints a task without internet access needs to start and log. */
  private addEndpoints(vpcCidr: ec2.IPeer) {
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.privateSubnets] });
    const endpointSg = new ec2.SecurityGroup(this, 'Endpoints', {
      vpc: this.vpc,
      description: 'Vega interface endpoints',
      allowAllOutbound: false,
    });
    endpointSg.addIngressRule(vpcCidr, HTTPS, 'Tasks in the VPC');
    for (const [name, service] of [
      ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
      ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
    ] as const) {
      this.vpc.addInterfaceEndpoint(name, { service, subnets: this.privateSubnets, securityGroups: [endpointSg], privateDnsEnabled: true, open: false });
    }
  }
}
