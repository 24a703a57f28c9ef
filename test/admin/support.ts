import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSEvent,
} from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { adminDeps, createAdminHandler } from '../../functions/admin/app';
import { createProcessorHandler } from '../../functions/processor/app';
import { createWebhookHandler, webhookDeps } from '../../functions/webhook/app';
import { ensureTable } from '../../local/dynamo';
import type { AdminAuth } from '../../shared/admin/context';
import { createBitbucketClient } from '../../shared/bitbucket/rest/create-client';
import { signBody } from '../../shared/bitbucket/signature';
import { type TriggerMessage, TriggerMessageSchema } from '../../shared/domain/trigger-message';
import { noTelemetry } from '../../shared/observability';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { sdkDynamoApi } from '../../shared/store/sdk-dynamo-api';
import { type LocalDynamo, startDynalite } from '../support/dynalite';
import { type FakeCloud, startFakeCloud } from '../support/fake-bitbucket/fake-cloud';
import { type FakeDataCenter, startFakeDataCenter } from '../support/fake-bitbucket/fake-data-center';
import { lambdaContext } from '../support/lambda-context';
import { MemorySecretStore } from '../support/memory-secret-store';
import { recordingLog } from '../support/recording-log';
import { RecordingQueue } from '../support/recording-queue';

export const STAGE = 'test';
export const WEBHOOK_BASE = 'https://hooks.example.test';
export const ADMIN_ARN = 'arn:aws:iam::123456789012:user/alice';
export const context = { functionName: 'hookgate-admin', awsRequestId: 'req' } as Context;

export interface CallOptions {
  body?: unknown;
  /** A raw body, sent as it is. */
  rawBody?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  /** Leaves the IAM authorizer out of the event (a route API Gateway did not authorise). */
  anonymous?: boolean;
}

export interface AdminAnswer {
  status: number;
  headers: Record<string, string>;
  body: any;
}

export interface HarnessOptions {
  auth?: AdminAuth;
  /** Undefined: the request's domain is the base. */
  webhookBaseUrl?: string | null;
  rotationGraceHours?: number;
}

/**
 * The admin handler on a fresh dynalite table, an in-memory secret store and recording queues,
 * with the webhook and processor handlers wired to the same store, and fake Bitbucket Cloud and
 * Data Center servers the REST client talks to (no backoff waits).
 */
export async function createHarness(dynamo: LocalDynamo, options: HarnessOptions = {}) {
  const tableName = `admin-${randomUUID()}`;
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoStore(sdkDynamoApi(dynamo.client), tableName);
  const secrets = new MemorySecretStore();
  const deliveries = new RecordingQueue();
  const triggers = new RecordingQueue();
  const log = recordingLog();
  let clock = Date.now();
  const now = () => new Date(clock);
  const cloud: FakeCloud = await startFakeCloud();
  const dc: FakeDataCenter = await startFakeDataCenter();

  const auth = options.auth ?? { kind: 'iam' };
  const admin = createAdminHandler(
    adminDeps({
      store,
      secrets,
      deliveries,
      log,
      auth,
      stage: STAGE,
      rotationGraceHours: options.rotationGraceHours ?? 24,
      network: 'local',
      now,
      ...(options.webhookBaseUrl === null ? {} : { webhookBaseUrl: options.webhookBaseUrl ?? WEBHOOK_BASE }),
      bitbucket: (integration, credentials) =>
        createBitbucketClient(integration.provider, {
          credentials,
          ...(integration.baseUrl ? { baseUrl: integration.baseUrl } : {}),
          tokenUrl: cloud.tokenUrl,
          sleep: async () => undefined,
          timeoutMs: 3_000,
          network: 'local',
        }),
    }),
  );
  const webhook = createWebhookHandler(
    webhookDeps({
      store,
      deliveries,
      secretStore: secrets,
      log,
      telemetry: noTelemetry,
      now,
      integrationCacheMs: 0,
      secretCacheMs: 0,
    }),
  );
  const processor = createProcessorHandler({ store, triggers, now, log, telemetry: noTelemetry });

  async function call(method: string, path: string, request: CallOptions = {}): Promise<AdminAnswer> {
    const url = new URL(path, 'https://admin.example.test');
    const query = { ...Object.fromEntries(url.searchParams), ...request.query };
    const headers: Record<string, string> = { ...request.headers };
    const body = request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const event = {
      version: '2.0',
      routeKey: 'ANY /admin/{proxy+}',
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      pathParameters: { proxy: url.pathname.replace(/^\/admin\//, '') },
      ...(body !== undefined ? { body } : {}),
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        apiId: 'a1b2c3d4e5',
        domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
        domainPrefix: 'a1b2c3d4e5',
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'test' },
        requestId: randomUUID(),
        routeKey: 'ANY /admin/{proxy+}',
        stage: '$default',
        time: '01/Mar/2025:10:00:00 +0000',
        timeEpoch: clock,
        ...(auth.kind === 'iam' && !request.anonymous
          ? {
              authorizer: { iam: { userArn: ADMIN_ARN, accountId: '123456789012', callerId: 'AIDAEXAMPLE' } },
            }
          : {}),
      },
    } as unknown as APIGatewayProxyEventV2;
    const response = (await admin(event, context)) as APIGatewayProxyStructuredResultV2;
    return {
      status: response.statusCode ?? 200,
      headers: (response.headers ?? {}) as Record<string, string>,
      body: response.body ? JSON.parse(response.body) : undefined,
    };
  }

  /** Posts a payload to `/webhooks/{integration}` signed with `secret`, as Bitbucket would. */
  async function deliver(
    integration: string,
    payload: unknown,
    eventKey: string,
    secret: string,
    deliveryId: string = randomUUID(),
  ) {
    const body = JSON.stringify(payload);
    const event = {
      version: '2.0',
      routeKey: 'POST /webhooks/{integration}',
      rawPath: `/webhooks/${integration}`,
      rawQueryString: '',
      headers: {
        'content-type': 'application/json',
        'x-event-key': eventKey,
        'x-request-uuid': deliveryId,
        'x-hook-uuid': '{hook}',
        'x-hub-signature': signBody(body, secret),
      },
      pathParameters: { integration },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const response = (await webhook(event, context)) as APIGatewayProxyStructuredResultV2;
    return { status: response.statusCode, body: JSON.parse(response.body ?? '{}'), deliveryId };
  }

  /** Feeds everything on `deliveries.fifo` to the processor, as SQS would. */
  async function drain() {
    const messages = deliveries.take();
    const event = {
      Records: messages.map((message, index) => ({
        messageId: `m${index}`,
        receiptHandle: `r${index}`,
        body: message.body,
        attributes: { MessageGroupId: message.groupId },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:deliveries.fifo',
        awsRegion: 'us-east-1',
      })),
    } as unknown as SQSEvent;
    const result = await processor(event, lambdaContext('hookgate-processor', 60_000));
    return result.batchItemFailures;
  }

  const sentTriggers = (): TriggerMessage[] =>
    triggers.messages.map((message) => TriggerMessageSchema.parse(JSON.parse(message.body)));

  return {
    store,
    secrets,
    deliveries,
    triggers,
    log,
    cloud,
    dc,
    call,
    deliver,
    drain,
    sentTriggers,
    advance(ms: number) {
      clock += ms;
    },
    async close() {
      await Promise.all([cloud.close(), dc.close()]);
    },
  };
}

export type Harness = Awaited<ReturnType<typeof createHarness>>;

/** A Cloud access token with every scope Hookgate needs. */
export const CLOUD_TOKEN = 'cloud-token-Hq83-never-logged';
export const CLOUD_SCOPES = ['repository', 'repository:admin', 'pullrequest', 'webhook'];
export const DC_TOKEN = 'dc-token-Zt52-never-logged';

/** Creates a Cloud integration whose credentials the fake accepts; returns the create answer. */
export async function createCloudIntegration(
  harness: Harness,
  name = 'cloud-main',
  extra: Record<string, unknown> = {},
): Promise<AdminAnswer> {
  harness.cloud.addAccessToken(CLOUD_TOKEN, CLOUD_SCOPES);
  return harness.call('POST', '/admin/integrations', {
    body: {
      name,
      provider: 'bitbucket-cloud',
      scope: 'default',
      labels: ['team:platform'],
      description: 'Cloud workspace',
      baseUrl: harness.cloud.apiUrl,
      credentials: { kind: 'access-token', token: CLOUD_TOKEN },
      ...extra,
    },
  });
}

/** Creates a Data Center integration (REPO_ADMIN token); returns the create answer. */
export async function createDcIntegration(
  harness: Harness,
  name = 'dc-main',
  extra: Record<string, unknown> = {},
): Promise<AdminAnswer> {
  harness.dc.addToken(DC_TOKEN, 'REPO_ADMIN');
  return harness.call('POST', '/admin/integrations', {
    body: {
      name,
      provider: 'bitbucket-data-center',
      scope: 'default',
      labels: [],
      description: 'Data Center',
      baseUrl: harness.dc.url,
      credentials: { kind: 'http-access-token', token: DC_TOKEN },
      ...extra,
    },
  });
}

/**
 * The hooks every admin test file needs: one dynalite per file, a fresh harness per test, and after
 * each test the check that no credential, webhook secret or private key line reached a log line.
 * `current()` is the running test's harness; `dynamo()` serves extra harnesses a test builds.
 */
export function useHarness(): { current: () => Harness; dynamo: () => LocalDynamo } {
  let dynamo: LocalDynamo | undefined;
  let harness: Harness | undefined;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  beforeEach(async () => {
    harness = await createHarness(required(dynamo));
  });
  afterEach(async () => {
    const h = required(harness);
    expectNoSecretLogged(h);
    await h.close();
  });
  return { current: () => required(harness), dynamo: () => required(dynamo) };
}

/** Fails when a credential, a stored secret or one line of a private key is in the printed log. */
export function expectNoSecretLogged(h: Harness): void {
  const printed = h.log.printed();
  for (const stored of [CLOUD_TOKEN, DC_TOKEN, ...h.secrets.values.values()]) {
    for (const value of secretValues(stored)) expect(printed).not.toContain(value);
  }
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('used outside a test');
  return value;
}

/**
 * The secret strings inside a stored value: a plain token, or the secret fields of a JSON
 * document; a multi-line one (a private key) by its lines, as a log would cut it.
 */
function secretValues(stored: string): string[] {
  let values: string[];
  try {
    const doc = JSON.parse(stored) as Record<string, unknown>;
    values = Object.entries(doc)
      .filter(
        ([key, value]) =>
          typeof value === 'string' &&
          !['kind', 'email', 'previousValidUntil', 'publicKey', 'fingerprint'].includes(key),
      )
      .map(([, value]) => value as string);
  } catch {
    values = [stored];
  }
  return values.flatMap((value) =>
    value.includes('\n')
      ? value.split('\n').filter((line) => line.length >= 20 && !line.startsWith('-----'))
      : [value],
  );
}
