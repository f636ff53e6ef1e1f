// The VEGA_* variables each role's container gets: the whole runtime
// configuration of the deployment, in one table. Names are exactly those of
// app/config (README.md's generated table; test/environment.test.ts checks).
//
// Secrets are injected by ECS from Secrets Manager (`secrets`), so each
// task's *execution role* can read exactly the secrets its role needs and the
// application code never calls Secrets Manager: the provider key reaches the
// llm-proxy container and nothing else (docs/deploy-aws.md, "Secrets").
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { API_PORT, COGNITO_OPERATOR_GROUP, COGNITO_ROOT_GROUP, LLM_PROXY_PORT, RUNNER_CONTAINER } from './contract';

export const ROLES = ['api', 'worker', 'llm-proxy', 'runner', 'migrate', 'maintenance'] as const;
export type Role = (typeof ROLES)[number];

export interface Wiring {
  readonly environment: string;
  readonly publicUrl: string;
  readonly sourceBucket: string;
  readonly artifactsBucket: string;
  readonly queueUrl: string;
  readonly cluster: string;
  readonly runnerTaskDefinitionArn: string;
  readonly runnerSubnets: string[];
  readonly runnerSecurityGroup: string;
  readonly llmProxyUrl: string;
  readonly workerConcurrency: number;
  readonly cognito: { readonly region: string; readonly userPoolId: string; readonly clientId: string; readonly domain: string };
  readonly llm: { readonly providerBaseUrl: string; readonly maxCostUsdPerScan: number; readonly codexModel?: string };
}

export interface VegaSecrets {
  readonly databaseUrl: secretsmanager.ISecret;
  readonly authSecret: secretsmanager.ISecret;
  readonly providerKey: secretsmanager.ISecret;
  readonly proxyAdminToken: secretsmanager.ISecret;
}

export interface RoleEnvironment {
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, secretsmanager.ISecret>;
}

/** The variables and secrets of one role's container. */
export function roleEnvironment(role: Role, w: Wiring, s: VegaSecrets): RoleEnvironment {
  // Every role: its role, the log label, the database. Every role also gets the
  // Cognito settings, so configuration validates the same way everywhere and
  // no role but the API needs the custom provider's signing secret.
  const common = {
    VEGA_SERVICE_ROLE: role,
    VEGA_ENVIRONMENT: w.environment,
    VEGA_PERSISTENCE_BACKEND: 'postgres',
    VEGA_AUTH_PROVIDER: 'cognito',
    VEGA_COGNITO_REGION: w.cognito.region,
    VEGA_COGNITO_USER_POOL_ID: w.cognito.userPoolId,
    VEGA_COGNITO_APP_CLIENT_ID: w.cognito.clientId,
  };
  const blobs = {
    VEGA_FILE_STORAGE_BACKEND: 's3',
    VEGA_S3_SOURCE_BUCKET: w.sourceBucket,
    VEGA_S3_ARTIFACTS_BUCKET: w.artifactsBucket,
  };
  // Processes that run (or plan) Codex talk to the standalone proxy; there is
  // no Docker engine in a Fargate task, so Codex runs with its own read-only
  // sandbox inside the task, which is itself the isolation boundary.
  const codex: Record<string, string> = {
    VEGA_LLM_PROXY_URL: w.llmProxyUrl,
    VEGA_CODEX_SANDBOX: 'none',
    ...(w.llm.codexModel ? { VEGA_CODEX_MODEL: w.llm.codexModel } : {}),
  };
  const db = { VEGA_DATABASE_URL: s.databaseUrl };

  switch (role) {
    case 'api':
      return {
        environment: {
          ...common,
          ...blobs,
          ...codex,
          VEGA_LISTEN_ADDR: `0.0.0.0:${API_PORT}`,
          VEGA_PUBLIC_URL: w.publicUrl,
          VEGA_SERVE_UI: 'false', // CloudFront serves the dashboard from S3, same origin
          VEGA_COGNITO_DOMAIN: w.cognito.domain,
          VEGA_COGNITO_ROOT_GROUP: COGNITO_ROOT_GROUP,
          VEGA_COGNITO_OPERATOR_GROUP: COGNITO_OPERATOR_GROUP,
          VEGA_SCAN_EXECUTION_MODE: 'sqs',
          VEGA_SCAN_QUEUE_URL: w.queueUrl,
        },
        // The admin token mints the repository-scoped tokens of AI threat profiles.
        secrets: { ...db, VEGA_AUTH_SECRET: s.authSecret, VEGA_LLM_PROXY_ADMIN_TOKEN: s.proxyAdminToken },
      };
    case 'worker':
      return {
        environment: {
          ...common,
          ...blobs,
          ...codex,
          VEGA_SCAN_EXECUTION_MODE: 'sqs',
          VEGA_SCAN_QUEUE_URL: w.queueUrl,
          VEGA_SCAN_WORKER_EXECUTION_MODE: 'ecs',
          VEGA_THREAD_CONCURRENCY: String(w.workerConcurrency), // runner tasks at once per worker
          VEGA_ECS_CLUSTER: w.cluster,
          VEGA_ECS_RUNNER_TASK_DEFINITION: w.runnerTaskDefinitionArn,
          VEGA_ECS_RUNNER_CONTAINER: RUNNER_CONTAINER,
          VEGA_ECS_SUBNETS: w.runnerSubnets.join(','),
          VEGA_ECS_SECURITY_GROUPS: w.runnerSecurityGroup,
        },
        // The worker mints each scan's token and hands it to the runner task.
        secrets: { ...db, VEGA_LLM_PROXY_ADMIN_TOKEN: s.proxyAdminToken },
      };
    case 'runner':
      // Per-scan values (the scan-scoped model token) arrive as overrides on
      // RunTask; everything else is here. No admin token, no provider key.
      return { environment: { ...common, ...blobs, ...codex }, secrets: { ...db } };
    case 'llm-proxy':
      return {
        environment: {
          ...common,
          VEGA_LLM_PROXY_LISTEN_ADDR: `0.0.0.0:${LLM_PROXY_PORT}`,
          VEGA_LLM_PROVIDER_BASE_URL: w.llm.providerBaseUrl,
          VEGA_LLM_PROXY_MAX_COST_USD_PER_SCAN: String(w.llm.maxCostUsdPerScan),
        },
        secrets: { ...db, VEGA_LLM_PROXY_ADMIN_TOKEN: s.proxyAdminToken, VEGA_LLM_PROVIDER_API_KEY: s.providerKey },
      };
    case 'migrate':
      return { environment: { ...common }, secrets: { ...db } };
    case 'maintenance':
      return { environment: { ...common, ...blobs }, secrets: { ...db } };
  }
}

/** ECS's form of a role's secrets. */
export function ecsSecrets(env: RoleEnvironment): Record<string, ecs.Secret> {
  return Object.fromEntries(Object.entries(env.secrets).map(([k, v]) => [k, ecs.Secret.fromSecretsManager(v)]));
}
