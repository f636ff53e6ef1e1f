// The one public entry point: a CloudFront distribution on the deployment's
// domain. The dashboard comes from its S3 bucket (origin access control);
// /v1/*, /git/* and /docs go to the API through an internal load balancer
// that CloudFront reaches as a VPC origin, so the dashboard and the API share
// one origin and the load balancer has no public address.
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { Compute } from './compute';
import type { VegaConfig } from './config';
import { API_HEALTH_PATH, API_PATH_PATTERNS, API_PORT, dashboardCsp } from './contract';
import type { Buckets } from './data';
import type { Identity } from './identity';
import type { Network } from './network';

/** The CloudFront Function source, shared with the e2e harness (ui/e2e/edge.mjs). */
export const SPA_REWRITE_FILE = path.join(__dirname, '..', '..', 'edge', 'spa-rewrite.js');

/**
 * CloudFront waits this long for the first byte and between bytes from the API.
 * The event stream sends a comment every 15 s (app/api/events.go), so a live
 * stream never idles this long; the default quota allows up to 120 s.
 */
export const API_READ_TIMEOUT = Duration.seconds(60);
/** Load balancer idle timeout: above CloudFront's read timeout, so CloudFront gives up first. */
export const ALB_IDLE_TIMEOUT = Duration.seconds(120);

export interface EdgeProps {
  readonly cfg: VegaConfig;
  readonly net: Network;
  readonly buckets: Buckets;
  readonly compute: Compute;
  readonly identity: Identity;
}

export class Edge extends Construct {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly targets: elbv2.ApplicationTargetGroup;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, { cfg, net, buckets, compute, identity }: EdgeProps) {
    super(scope, id);

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: net.vpc,
      internetFacing: false,
      vpcSubnets: net.privateSubnets,
      securityGroup: net.albSg,
      idleTimeout: ALB_IDLE_TIMEOUT,
      dropInvalidHeaderFields: true,
      deletionProtection: cfg.deletionProtection,
    });
    this.alb.logAccessLogs(buckets.logs, 'alb');
    // Plain HTTP inside the VPC: TLS ends at CloudFront, and the hop from the
    // VPC origin's interfaces to this internal load balancer stays in the VPC
    // (docs/deploy-aws.md, "Network").
    const listener = this.alb.addListener('Http', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'not found' }),
    });
    this.targets = listener.addTargets('Api', {
      priority: 10,
      conditions: [elbv2.ListenerCondition.pathPatterns([...API_PATH_PATTERNS])],
      port: API_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [compute.api],
      healthCheck: { path: API_HEALTH_PATH, interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
      // Long-lived event streams reconnect with Last-Event-ID; do not hold a deploy for them.
      deregistrationDelay: Duration.seconds(30),
    });

    const api = origins.VpcOrigin.withApplicationLoadBalancer(this.alb, {
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      httpPort: 80,
      readTimeout: API_READ_TIMEOUT,
      keepaliveTimeout: Duration.seconds(60),
    });
    const apiHeaders = new cloudfront.ResponseHeadersPolicy(this, 'ApiHeaders', {
      comment: 'Vega API: transport security only (the API sets its own content headers)',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
      },
    });
    const apiBehavior: cloudfront.BehaviorOptions = {
      origin: api,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      // Nothing from the API is cached. With caching disabled, the AllViewer
      // policy forwards every header (Authorization, Last-Event-ID, Range) and
      // the query string (?access_token= of the event stream, ?service= of
      // git) to the origin. Host included: the API answers only to its public
      // name (VEGA_PUBLIC_URL; 421 otherwise, its DNS-rebinding defence).
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER,
      responseHeadersPolicy: apiHeaders,
      // Compression would make CloudFront hold back event-stream bytes.
      compress: false,
    };

    // Objects carry their own Cache-Control (deploy/aws/scripts/publish-dashboard.mjs):
    // hashed assets for a year, index.html and config.json never. A zero
    // default TTL means an object without the header is not cached either.
    const dashboardCache = new cloudfront.CachePolicy(this, 'DashboardCache', {
      comment: 'Vega dashboard: obey the object Cache-Control; nothing in the cache key but the path',
      minTtl: Duration.seconds(0),
      defaultTtl: Duration.seconds(0),
      maxTtl: Duration.days(365),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    const dashboardHeaders = new cloudfront.ResponseHeadersPolicy(this, 'DashboardHeaders', {
      comment: 'Vega dashboard: the same security headers the binary sends',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: dashboardCsp({ publicUrl: `https://${cfg.domainName}`, cognitoDomain: identity.domain }),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      },
    });
    const spaRewrite = new cloudfront.Function(this, 'SpaRewrite', {
      comment: 'Dashboard routes get index.html',
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      code: cloudfront.FunctionCode.fromFile({ filePath: SPA_REWRITE_FILE }),
    });

    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: `Vega ${cfg.domainName}`,
      domainNames: [cfg.domainName],
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', cfg.certificateArn),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cfg.priceClass as cloudfront.PriceClass,
      defaultRootObject: 'index.html',
      enableLogging: true,
      logBucket: buckets.logs,
      logFilePrefix: 'cloudfront/',
      webAclId: cfg.webAclArn,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(buckets.dashboard),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: dashboardCache,
        responseHeadersPolicy: dashboardHeaders,
        compress: true,
        functionAssociations: [{ function: spaRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: Object.fromEntries(API_PATH_PATTERNS.map((p) => [p, apiBehavior])),
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Vega users may sign in from anywhere; access is controlled by Cognito, not geography.',
    });
    if (!cfg.webAclArn) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR2',
        reason: 'A CLOUDFRONT-scope web ACL lives in us-east-1 and is billed separately; attach one with webAclArn (docs/deploy-aws.md).',
      });
    }
  }
}
