// Sign-in: a Cognito user pool with the hosted UI, one public app client for
// the dashboard (authorization code + PKCE, ui/src/auth/cognito.ts), and the
// groups that make a user root or operator. Users are invited by an operator;
// nobody can sign up on their own.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import type { VegaConfig } from './config';
import { COGNITO_CALLBACK_PATH, COGNITO_OPERATOR_GROUP, COGNITO_ROOT_GROUP, COGNITO_SIGN_OUT_PATH } from './contract';

export class Identity extends Construct {
  readonly pool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;
  /** Host name of the hosted UI, e.g. vega-example.auth.eu-west-1.amazoncognito.com (VEGA_COGNITO_DOMAIN). */
  readonly domain: string;

  constructor(scope: Construct, id: string, cfg: VegaConfig) {
    super(scope, id);
    const origin = `https://${cfg.domainName}`;
    this.pool = new cognito.UserPool(this, 'Users', {
      userPoolName: `${Stack.of(this).stackName}-users`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // An authenticator app for everyone: these accounts can read findings and source.
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Plus: compromised-credential and risk-based sign-in protection, enforced.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: cfg.deletionProtection,
      removalPolicy: cfg.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.pool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: cfg.cognitoDomainPrefix } });
    this.domain = `${cfg.cognitoDomainPrefix}.auth.${cfg.region}.amazoncognito.com`;

    this.client = this.pool.addClient('Dashboard', {
      userPoolClientName: 'dashboard',
      generateSecret: false, // a browser app cannot keep one; PKCE protects the code
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [`${origin}${COGNITO_CALLBACK_PATH}`],
        logoutUrls: [`${origin}${COGNITO_SIGN_OUT_PATH}`],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.minutes(15),
      idTokenValidity: Duration.minutes(15),
      refreshTokenValidity: Duration.hours(12),
    });

    for (const [name, description] of [
      [COGNITO_ROOT_GROUP, 'Vega root: everything, including users and settings'],
      [COGNITO_OPERATOR_GROUP, 'Vega operator: workers, queue, recovery and cleanup'],
    ]) {
      new cognito.CfnUserPoolGroup(this, `Group-${name}`, { userPoolId: this.pool.userPoolId, groupName: name, description });
    }
  }
}
