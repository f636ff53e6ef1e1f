// Builds the CDK app: the stack plus cdk-nag's AWS Solutions rules as a
// policy-validation plugin, so synthesis fails on any finding that is not
// acknowledged next to its resource with a reason.
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { VegaConfig } from './config';
import { VegaStack } from './stack';

export function buildApp(cfg: VegaConfig, props: AppProps = {}): { app: App; stack: VegaStack } {
  const app = new App(props);
  const stack = new VegaStack(app, cfg);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
