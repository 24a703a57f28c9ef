import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLING, ENTRIES, LOCK_FILE, PROJECT_ROOT } from './bundling';
import { acknowledgeWildcardResource } from './nag';
import type { DeliveryQueues } from './queues';
import type { SecretAccess } from './secret-access';
import type { Storage } from './storage';

/** Bitbucket Cloud gives up on a delivery after 10 s; an answer later than that is wasted. */
export const WEBHOOK_TIMEOUT = Duration.seconds(10);

/** Room for a batch of ten deliveries, including the REST calls the rules may make. */
export const PROCESSOR_TIMEOUT = Duration.seconds(60);

/**
 * API Gateway answers 503 after 30 s whatever the function does; ending first leaves a timeout in
 * the function's own log. A connect or repair fits: each REST call gives up after 5 s.
 */
export const ADMIN_TIMEOUT = Duration.seconds(29);

interface BundledFunctionProps {
  entry: string;
  description: string;
  /** Lambda allocates CPU in proportion to memory; 1024 MB gives cold starts a usable share. */
  memorySize: number;
  timeout: Duration;
  logRetention: logs.RetentionDays;
  environment: Record<string, string>;
}

/**
 * A function bundled by the local esbuild with `BUNDLING`, on Node 24 and arm64, with its own log
 * group (retention set, so logs do not pile up forever) and its own role, which may write to that
 * log group and nothing else until the caller grants more.
 */
function bundledFunction(scope: Construct, props: BundledFunctionProps): NodejsFunction {
  const logGroup = new logs.LogGroup(scope, 'Logs', { retention: props.logRetention });
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of: ${props.description}`,
  });
  // In place of AWSLambdaBasicExecutionRole, which may write to every log group in the account.
  logGroup.grantWrite(role);
  return new NodejsFunction(scope, 'Function', {
    entry: props.entry,
    handler: 'handler',
    description: props.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    role,
    logGroup,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: LOCK_FILE,
    bundling: BUNDLING,
    environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
  });
}

export interface WebhookFunctionProps {
  storage: Storage;
  queues: DeliveryQueues;
  secrets: SecretAccess;
  logRetention: logs.RetentionDays;
}

/**
 * `POST /webhooks/{integration}` (DESIGN §2, §5): verifies, records and enqueues a delivery. It
 * reads integrations, writes deliveries, sends to `deliveries.fifo` and reads webhook secrets;
 * it cannot read credentials or deploy keys.
 */
export class WebhookFunction extends Construct {
  readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: WebhookFunctionProps) {
    super(scope, id);
    const fn = bundledFunction(this, {
      entry: ENTRIES.webhook,
      description: 'Hookgate webhook: verifies and enqueues Bitbucket deliveries',
      memorySize: 1024,
      timeout: WEBHOOK_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.storage.table.tableName,
        DELIVERIES_QUEUE_URL: props.queues.deliveries.queueUrl,
      },
    });
    props.storage.grantItems(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    props.queues.deliveries.grantSendMessages(fn);
    props.secrets.grantReadWebhookSecrets(fn);
    acknowledgeWildcardResource(
      fn.role ?? fn,
      props.secrets.webhookSecretsArn,
      'Webhook secrets are created per integration at run time (admin API, or by hand), so they can only be named by prefix. ' +
        "The grant is GetSecretValue on this stage's integrations/*/webhook-secret documents only (never credentials or deploy keys); " +
        'the trailing -* matches the six random characters Secrets Manager appends to a secret ARN.',
    );
    this.function = fn;
  }
}

export interface ProcessorFunctionProps {
  storage: Storage;
  queues: DeliveryQueues;
  secrets: SecretAccess;
  logRetention: logs.RetentionDays;
}

/**
 * Consumes `deliveries.fifo` in batches (DESIGN §2): decides, sends triggers to `triggers.fifo`,
 * records decisions. Failed records are reported one by one so the rest of a batch is not
 * redelivered. Reads integrations' Bitbucket credentials, to ask the REST API for open pull
 * requests and full commit hashes (DESIGN §4); never webhook secrets or deploy keys.
 */
export class ProcessorFunction extends Construct {
  readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: ProcessorFunctionProps) {
    super(scope, id);
    const fn = bundledFunction(this, {
      entry: ENTRIES.processor,
      description: 'Hookgate processor: turns deliveries into pipeline triggers',
      memorySize: 1024,
      timeout: PROCESSOR_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.storage.table.tableName,
        TRIGGERS_QUEUE_URL: props.queues.triggers.queueUrl,
      },
    });
    props.storage.grantItems(
      fn,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
    );
    props.queues.triggers.grantSendMessages(fn);
    props.secrets.grantReadCredentials(fn);
    acknowledgeWildcardResource(
      fn.role ?? fn,
      props.secrets.credentialsArn,
      'Bitbucket credentials are stored per integration at run time by the admin API, so they can only be named by prefix. ' +
        "The grant is GetSecretValue on this stage's integrations/*/credentials secrets only (never webhook secrets or deploy keys); " +
        'the trailing -* matches the six random characters Secrets Manager appends to a secret ARN.',
    );
    fn.addEventSource(
      new SqsEventSource(props.queues.deliveries, { batchSize: 10, reportBatchItemFailures: true }),
    );
    this.function = fn;
  }
}

export interface AdminFunctionProps {
  stage: string;
  storage: Storage;
  queues: DeliveryQueues;
  secrets: SecretAccess;
  logRetention: logs.RetentionDays;
  /** How long the previous webhook secret keeps working after a rotation. */
  rotationGraceHours: number;
  /**
   * Where Bitbucket reaches the webhook route, e.g. `https://hooks.example.com` (a custom domain).
   * Without it the function answers with the domain the admin request came to.
   */
  webhookBaseUrl?: string;
}

/**
 * `ANY /admin/{proxy+}` (DESIGN §8): integrations, projects, deploy keys and webhooks, delivery
 * listings, replay and evaluate. It reads and writes the table and lists from its indexes, sends
 * replays to `deliveries.fifo`, and manages every secret of its stage; it cannot send triggers.
 */
export class AdminFunction extends Construct {
  readonly function: lambda.IFunction;

  constructor(scope: Construct, id: string, props: AdminFunctionProps) {
    super(scope, id);
    const fn = bundledFunction(this, {
      entry: ENTRIES.admin,
      description: 'Hookgate admin API: integrations, projects, deliveries',
      memorySize: 1024,
      timeout: ADMIN_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.storage.table.tableName,
        STAGE: props.stage,
        DELIVERIES_QUEUE_URL: props.queues.deliveries.queueUrl,
        ROTATION_GRACE_HOURS: String(props.rotationGraceHours),
        ...(props.webhookBaseUrl ? { WEBHOOK_BASE_URL: props.webhookBaseUrl } : {}),
      },
    });
    props.storage.grantItems(
      fn,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
    );
    props.storage.grantQueryIndexes(fn);
    props.queues.deliveries.grantSendMessages(fn);
    props.secrets.grantManage(fn);
    this.function = fn;
  }
}
