import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PARTITION_PREFIXES } from '../shared/store/keys';
import { BUNDLING, ENTRIES, LOCK_FILE, PROJECT_ROOT } from './bundling';
import { acknowledgeWildcardResource } from './nag';
import type { PrivateNetwork } from './network';
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

/** One sweep reads at most 1,000 index entries per integration; a minute is ample and ends well before the next run. */
export const SWEEPER_TIMEOUT = Duration.seconds(60);

/** How often the sweeper runs: often enough that a lost delivery waits about ten minutes at most. */
export const SWEEP_SCHEDULE = Duration.minutes(5);

/**
 * Concurrent processor invocations the deliveries queue may start. FIFO already caps them at the
 * number of repositories with deliveries waiting; this caps a backlog drained after an outage,
 * so the processor does not take the account's concurrency from the webhook function or hit
 * Bitbucket's REST rate limits with hundreds of lookups at once. Unlike reserved concurrency,
 * the event source simply stops receiving: no throttled receive counts towards the dead-letter queue.
 */
export const PROCESSOR_MAX_CONCURRENCY = 20;

/**
 * Memory of each function. Lambda allocates CPU in proportion to memory; 1024 MB gives cold starts
 * a usable share. The sweeper needs little CPU: a few Query pages and sends. The benchmark's cost
 * model reads these.
 */
export const FUNCTION_MEMORY_MB = { webhook: 1024, processor: 1024, admin: 1024, sweeper: 256 } as const;

interface BundledFunctionProps {
  entry: string;
  description: string;
  /** From FUNCTION_MEMORY_MB. */
  memorySize: number;
  timeout: Duration;
  logRetention: logs.RetentionDays;
  environment: Record<string, string>;
  reservedConcurrentExecutions?: number;
  /** The VPC placement, for a function that calls Bitbucket (infra/network.ts). */
  network?: PrivateNetwork;
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
  // In place of AWSLambdaVPCAccessExecutionRole, for the same reason; before the function, which
  // Lambda creates only once its role may manage network interfaces.
  props.network?.grantVpcAccess(role);
  const fn = new NodejsFunction(scope, 'Function', {
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
    ...(props.reservedConcurrentExecutions === undefined
      ? {}
      : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
    ...(props.network
      ? {
          vpc: props.network.vpc,
          vpcSubnets: { subnets: props.network.subnets },
          securityGroups: props.network.securityGroups,
        }
      : {}),
  });
  for (const endpoint of props.network?.endpoints ?? []) fn.node.addDependency(endpoint);
  return fn;
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
      memorySize: FUNCTION_MEMORY_MB.webhook,
      timeout: WEBHOOK_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.storage.table.tableName,
        DELIVERIES_QUEUE_URL: props.queues.deliveries.queueUrl,
      },
    });
    // It reads integrations and deliveries, and writes (and undoes) delivery items only.
    props.storage.grantItems(fn, 'dynamodb:GetItem');
    props.storage.grantItemsUnder(
      fn,
      [PARTITION_PREFIXES.delivery],
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    );
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
  /** Runs it in a VPC, to reach a Data Center behind a firewall. */
  network?: PrivateNetwork;
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
      memorySize: FUNCTION_MEMORY_MB.processor,
      timeout: PROCESSOR_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.storage.table.tableName,
        TRIGGERS_QUEUE_URL: props.queues.triggers.queueUrl,
      },
      ...(props.network ? { network: props.network } : {}),
    });
    // It reads anything it decides with, and writes deliveries, pull-request state (under the
    // project) and trigger claims only.
    props.storage.grantItems(fn, 'dynamodb:GetItem', 'dynamodb:Query');
    props.storage.grantItemsUnder(
      fn,
      [PARTITION_PREFIXES.delivery, PARTITION_PREFIXES.project, PARTITION_PREFIXES.trigger],
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
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
      new SqsEventSource(props.queues.deliveries, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: PROCESSOR_MAX_CONCURRENCY,
      }),
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
  /** Runs it in a VPC, to reach a Data Center behind a firewall. */
  network?: PrivateNetwork;
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
      memorySize: FUNCTION_MEMORY_MB.admin,
      timeout: ADMIN_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.storage.table.tableName,
        STAGE: props.stage,
        DELIVERIES_QUEUE_URL: props.queues.deliveries.queueUrl,
        ROTATION_GRACE_HOURS: String(props.rotationGraceHours),
        ...(props.webhookBaseUrl ? { WEBHOOK_BASE_URL: props.webhookBaseUrl } : {}),
      },
      ...(props.network ? { network: props.network } : {}),
    });
    props.storage.grantItems(
      fn,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
    );
    props.storage.grantQueryIndexes(fn);
    props.queues.deliveries.grantSendMessages(fn);
    props.secrets.grantManage(fn);
    this.function = fn;
  }
}

export interface DeliverySweeperProps {
  storage: Storage;
  queues: DeliveryQueues;
  logRetention: logs.RetentionDays;
}

/**
 * The sweeper (DESIGN §11) and its schedule: every five minutes it re-enqueues deliveries left
 * `received` or `decided` (shared/ingest/sweep-deliveries.ts). It queries the indexes, reads and
 * writes its checkpoint items (`SWEEP#…`) and sends to `deliveries.fifo`; no delivery item
 * write, no secret.
 */
export class DeliverySweeper extends Construct {
  readonly function: lambda.IFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: DeliverySweeperProps) {
    super(scope, id);
    const fn = bundledFunction(this, {
      entry: ENTRIES.sweeper,
      description: 'Hookgate sweeper: re-enqueues deliveries left unfinished',
      memorySize: FUNCTION_MEMORY_MB.sweeper,
      timeout: SWEEPER_TIMEOUT,
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.storage.table.tableName,
        DELIVERIES_QUEUE_URL: props.queues.deliveries.queueUrl,
      },
      // One sweep at a time: EventBridge delivers at least once, and two sweeps of one
      // checkpoint would race on it and enqueue the same deliveries twice.
      reservedConcurrentExecutions: 1,
    });
    props.storage.grantQueryIndexes(fn);
    props.storage.grantItemsUnder(
      fn,
      [PARTITION_PREFIXES.sweepCheckpoint],
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    );
    props.queues.deliveries.grantSendMessages(fn);
    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'Hookgate: sweep deliveries left unfinished',
      schedule: events.Schedule.rate(SWEEP_SCHEDULE),
      // A missed run is made up by the next one: no retries that could overlap it.
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
    });
    this.function = fn;
  }
}
