// The settings that change the shape of the stack, in their other positions:
// each variant also passes AwsSolutionsChecks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exampleConfig, ofType, shared, synth } from './fixture';

describe('variants', () => {
  test('existing VPC endpoints, a standby database, a web ACL, no alarm e-mail, no deletion protection', () => {
    const base = exampleConfig();
    const webAclArn = `arn:aws:wafv2:us-east-1:${base.account}:global/webacl/vega/0a1b2c3d-1111-2222-3333-444455556666`;
    const s = synth(exampleConfig({
      vpc: { ...base.vpc, createEndpoints: false },
      database: { ...base.database, highAvailability: true },
      webAclArn,
      alarmEmail: undefined,
      deletionProtection: false,
    }));
    s.template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    s.template.resourceCountIs('AWS::RDS::DBInstance', 2);
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    const d = ofType(s, 'AWS::CloudFront::Distribution')[0][1].Properties.DistributionConfig;
    assert.equal(d.WebACLId, webAclArn);
    s.template.hasResourceProperties('AWS::RDS::DBCluster', { DeletionProtection: false });
  });

  test("an upgrade's first step: only the migrate task gets the new image; paused stops every service", () => {
    const base = exampleConfig();
    const next = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vega:v1.1.0';
    const s = synth(exampleConfig({ migrateImageUri: next, paused: true }));
    const images = ofType(s, 'AWS::ECS::TaskDefinition').map(([, t]) => [t.Properties.Family, JSON.stringify(t.Properties.ContainerDefinitions[0].Image)]);
    for (const [family, image] of images) {
      assert.equal(image.includes('vega:v1.1.0'), family === `${base.stackName}-migrate`, `${family}: ${image}`);
    }
    for (const [id, svc] of ofType(s, 'AWS::ECS::Service')) assert.equal(svc.Properties.DesiredCount, 0, id);
  });

  test('the example configuration creates the endpoints runners need without internet', () => {
    const s = shared();
    const services = ofType(s, 'AWS::EC2::VPCEndpoint').map(([, e]) => JSON.stringify(e.Properties.ServiceName));
    for (const svc of ['ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', '.s3']) {
      assert.ok(services.some((x) => x.includes(svc)), `no ${svc} endpoint`);
    }
  });
});
