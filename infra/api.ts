import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_SETTINGS } from './settings';

/** The public route Bitbucket delivers to (DESIGN §5). */
export const WEBHOOK_ROUTE = '/webhooks/{integration}';

/** The admin API's routes (DESIGN §8), all behind IAM (SigV4). */
export const ADMIN_ROUTE = '/admin/{proxy+}';

export interface CustomDomain {
  domainName: string;
  /** An ACM certificate for `domainName` in the stack's region. */
  certificateArn: string;
}

export interface WebhookApiProps {
  /** Names the API: `hookgate-<stage>`. */
  stage: string;
  webhookFunction: lambda.IFunction;
  /** When given, `ANY /admin/{proxy+}` is routed to it with IAM authorization. */
  adminFunction?: lambda.IFunction;
  logRetention: logs.RetentionDays;
  /**
   * Requests per second over time, and the burst above it, for the whole stage. Bitbucket does
   * not retry a 429: set it above any burst Bitbucket sends (infra/settings.ts, README).
   */
  throttle?: apigwv2.ThrottleSettings;
  domain?: CustomDomain;
}

/** One JSON object per request; `caller` names the IAM principal of an admin call. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    caller: '$context.identity.userArn',
    method: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
    authorizerError: '$context.authorizer.error',
  }),
);

/**
 * The HTTP API: `POST /webhooks/{integration}` open to Bitbucket (authenticity is the HMAC
 * signature the webhook function verifies on the raw body), `/admin/*` IAM-only once an admin
 * function exists. One `$default` stage with throttling and JSON access logs.
 */
export class WebhookApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly webhookRoutes: apigwv2.HttpRoute[];
  readonly adminRoutes: apigwv2.HttpRoute[];
  /** The custom domain's target for a DNS alias or CNAME, when a custom domain is set. */
  readonly domainName?: apigwv2.DomainName;
  private readonly customDomain?: CustomDomain;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.customDomain = props.domain;
    this.api = new apigwv2.HttpApi(this, 'Api', {
      apiName: `hookgate-${props.stage}`,
      description: 'Hookgate: Bitbucket webhooks in, pipeline triggers out',
      createDefaultStage: false,
    });

    if (props.domain) {
      this.domainName = new apigwv2.DomainName(this, 'Domain', {
        domainName: props.domain.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.domain.certificateArn),
      });
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? {
        rateLimit: DEFAULT_SETTINGS.throttleRateLimit,
        burstLimit: DEFAULT_SETTINGS.throttleBurstLimit,
      },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
      ...(this.domainName ? { domainMapping: { domainName: this.domainName } } : {}),
    });

    this.webhookRoutes = this.api.addRoutes({
      path: WEBHOOK_ROUTE,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Webhook', props.webhookFunction),
      authorizer: new apigwv2.HttpNoneAuthorizer(),
    });
    for (const route of this.webhookRoutes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Bitbucket cannot sign requests with SigV4 (and Cloud sends no credentials at all), so this route cannot use an API Gateway authorizer. ' +
          'Every delivery is authenticated by the webhook function instead: a constant-time HMAC-SHA256 check of ' +
          "X-Hub-Signature over the raw body with the integration's secret, answered 401 before anything is stored (DESIGN §5, §10).",
      });
    }

    this.adminRoutes = props.adminFunction
      ? this.api.addRoutes({
          path: ADMIN_ROUTE,
          methods: [apigwv2.HttpMethod.ANY],
          integration: new HttpLambdaIntegration('Admin', props.adminFunction),
          authorizer: new HttpIamAuthorizer(),
        })
      : [];
  }

  /** The execute-api base URL, `https://{api-id}.execute-api.{region}.amazonaws.com/`. */
  get url(): string {
    return `${this.api.apiEndpoint}/`;
  }

  /** `https://{domainName}/`, when a custom domain is set. */
  get customUrl(): string | undefined {
    return this.customDomain ? `https://${this.customDomain.domainName}/` : undefined;
  }

  /** The `execute-api:Invoke` resource for `/admin/*` with this method (`ANY` for all). */
  adminArn(method: 'ANY' | 'GET'): string {
    return this.api.arnForExecuteApi(method, '/admin/*');
  }
}
