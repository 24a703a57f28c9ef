import { isDeepStrictEqual } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Attr, FakeAws, fakeTransport, type Item } from '../../bench/lib/fake-aws';
import {
  createWebhookHandler,
  INTEGRATION_CACHE_ENTRIES,
  WEBHOOK_RESERVE_MS,
  webhookDeps,
} from '../../functions/webhook/app';
import { createWebhookClients } from '../../functions/webhook/clients';
import { type AwsConnection, AwsNetworkError, type AwsTransport } from '../../shared/aws/aws-json-client';
import { signBody } from '../../shared/bitbucket/signature';
import { MAX_BODY_BYTES, MAX_STORED_BODY_BYTES } from '../../shared/ingest/accept-delivery';
import { noTelemetry } from '../../shared/observability';
import type { IngestStore } from '../../shared/store/store';
import { readFixtureBytes, readFixtureJson } from '../support/fixtures';
import { lambdaContext } from '../support/lambda-context';
import { type RecordingLog, recordingLog } from '../support/recording-log';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-real-key' };
const TABLE = 'hookgate-test';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/hookgate-deliveries.fifo';

// The published known-answer secret (reference/bitbucket-protocol.md §1.3): the real captured
// signatures in the fixtures' `.headers.json` files are made with it.
const CLOUD_SECRET = 'Gkvl$k$wyNpQAF42';
const DC_SECRET = 'dc-secret-Zq81-never-logged';
const OLD_SECRET = 'old-secret-Pw93-never-logged';
const ROTATED_SECRET = 'rotated-secret-Lk27-never-logged';
const ALL_SECRETS = [CLOUD_SECRET, DC_SECRET, OLD_SECRET, ROTATED_SECRET];

const CLOUD = 'cloud-main';
const DC = 'dc-main';
const secretIdOf = (integration: string) => `hookgate/test/integrations/${integration}/webhook-secret`;

const cloudPush = readFixtureBytes('cloud/drone-go-scm__push.json');
const cloudRepoUuid = '{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}';
const cloudSigned = readFixtureBytes('cloud/jenkins-bbsource__signed_payload.json');
const cloudSignedHeaders = readFixtureJson<Record<string, string>>(
  'cloud/jenkins-bbsource__signed_payload.headers.json',
);
const dcSigned = readFixtureBytes('server/jenkins-bbsource__signed_payload.json');
const dcSignedHeaders = readFixtureJson<Record<string, string>>(
  'server/jenkins-bbsource__signed_payload.headers.json',
);
const dcPing = readFixtureBytes('server/jenkins-bbsource__ping.json');

const START = Date.parse('2025-03-01T10:00:00.000Z');
let clock = START;
const now = () => new Date(clock);
const advance = (ms: number) => {
  clock += ms;
};

/** An API Gateway HTTP API (payload 2.0) event for `POST /webhooks/{integration}`. */
function webhookEvent(options: RequestOptions = {}): APIGatewayProxyEventV2 {
  const integration = options.integration ?? CLOUD;
  const body = Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body ?? cloudPush);
  const headers: Record<string, string> = {
    'user-agent': 'Bitbucket-Webhooks/2.0',
    'x-hook-uuid': '{7c3f1a2b-9d4e-4f60-8a1b-2c3d4e5f6a7b}',
    'x-attempt-number': '1',
  };
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  if (options.eventKey !== null) headers['x-event-key'] = options.eventKey ?? 'repo:push';
  if (options.requestUuid !== undefined) headers['x-request-uuid'] = options.requestUuid;
  if (options.signature !== null) {
    headers['x-hub-signature'] = options.signature ?? signBody(body, options.secret ?? CLOUD_SECRET);
  }
  Object.assign(headers, options.headers);
  const rawPath = `/webhooks/${integration}`;
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{integration}',
    rawPath,
    rawQueryString: '',
    headers,
    pathParameters: { integration },
    body: options.base64 ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      domainName: 'a1b2c3d4e5.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'a1b2c3d4e5',
      http: {
        method: 'POST',
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '104.192.136.1',
        userAgent: 'Bitbucket-Webhooks/2.0',
      },
      requestId: 'Xyz123abcDEF=',
      routeKey: 'POST /webhooks/{integration}',
      stage: '$default',
      time: '01/Mar/2025:10:00:00 +0000',
      timeEpoch: START,
    },
  };
}

const s = (value: string): Attr => ({ S: value });
const key = (pk: string) => ({ pk: s(pk), sk: s('META') });

/** An integration as the store writes it: record attributes plus pk/sk. */
function integrationItem(
  name: string,
  provider: 'bitbucket-cloud' | 'bitbucket-data-center',
  extra: Item = {},
): Item {
  return {
    ...key(`INT#${name}`),
    name: s(name),
    provider: s(provider),
    scope: s('default'),
    labels: { L: [s('team:platform')] },
    description: s('the main workspace'),
    webhookSecretId: s(secretIdOf(name)),
    status: s('active'),
    version: { N: '3' },
    createdAt: s('2025-01-01T00:00:00.000Z'),
    updatedAt: s('2025-02-01T00:00:00.000Z'),
    ...extra,
  };
}

/** A delivery as the store's createDelivery writes it. */
function deliveryItem(integration: string, deliveryId: string, status: string, receivedAt: string): Item {
  return {
    ...key(`DLV#${integration}#${deliveryId}`),
    integration: s(integration),
    deliveryId: s(deliveryId),
    provider: s('bitbucket-cloud'),
    eventKey: s('repo:push'),
    headers: { M: { 'x-event-key': s('repo:push') } },
    bodyGzip: { B: Buffer.from([31, 139]).toString('base64') },
    repositoryId: s(cloudRepoUuid),
    receivedAt: s(receivedAt),
    status: s(status),
    expiresAt: { N: String(Math.floor(Date.parse(receivedAt) / 1000) + 30 * 86_400) },
    gsi2pk: s(`DLVI#${integration}`),
    gsi2sk: s(`${receivedAt}#${deliveryId}`),
  };
}

const PUT = 'DynamoDB_20120810.PutItem';
const GET = 'DynamoDB_20120810.GetItem';
const DELETE = 'DynamoDB_20120810.DeleteItem';
const SEND = 'AmazonSQS.SendMessage';
const GET_SECRET = 'secretsmanager.GetSecretValue';

/** An error answer as the service sends it (`__type` and `message`, with its HTTP status). */
interface ServiceFault {
  status: number;
  type: string;
  message: string;
}

/**
 * What an attempt meets: no answer ever (`hang`), no answer within the attempt's timeout
 * (`timeout`, at once), a reply lost after the request was applied (`lose-reply`), or an error
 * answer.
 */
type Fault = 'hang' | 'timeout' | 'lose-reply' | ServiceFault;

/** What AwsJsonClient says of an attempt that got no answer in time. */
const NO_ANSWER = 'no answer within 2000 ms';

const throttled = {
  dynamodb: {
    status: 400,
    type: 'ProvisionedThroughputExceededException',
    message: 'The level of configured provisioned throughput for the table was exceeded.',
  },
  secrets: { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
  sqs: { status: 403, type: 'RequestThrottled', message: 'Request is throttled.' },
} satisfies Record<string, ServiceFault>;

interface RequestOptions {
  integration?: string;
  body?: Buffer | string;
  /** Signs the body with this secret unless `signature` is given. */
  secret?: string;
  signature?: string | null;
  eventKey?: string | null;
  contentType?: string | null;
  requestUuid?: string;
  headers?: Record<string, string>;
  base64?: boolean;
}

/**
 * The webhook as it ships (functions/webhook/handler.ts): createWebhookClients' AwsJsonClient for
 * DynamoDB, SQS and Secrets Manager, over a transport answering from an in-process fake of the
 * three services. The transport keeps every request it is given, in order, and injects faults
 * per operation (`DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessage`, …), optionally only for
 * requests whose input has the given fields.
 */
function shippedWebhook(options: { now?: () => Date; sleep?: (ms: number) => Promise<void> } = {}) {
  const fake = new FakeAws();
  fake.putItem(integrationItem(CLOUD, 'bitbucket-cloud'));
  fake.putItem(integrationItem(DC, 'bitbucket-data-center'));
  fake.secrets.set(secretIdOf(CLOUD), JSON.stringify({ current: CLOUD_SECRET }));
  fake.secrets.set(secretIdOf(DC), JSON.stringify({ current: DC_SECRET }));
  let faults: Array<{ target: string; fields: Record<string, unknown>; planned: Fault[] }> = [];
  let sent: Array<{ target: string; input: Record<string, any> }> = [];
  const answer = fakeTransport(fake);
  const transport: AwsTransport = async (request) => {
    const target = request.headers['x-amz-target'] ?? '';
    const input = JSON.parse(request.body) as Record<string, any>;
    sent.push({ target, input });
    const rule = faults.findLast(
      (candidate) =>
        candidate.target === target &&
        Object.entries(candidate.fields).every(([name, value]) => isDeepStrictEqual(input[name], value)),
    );
    const fault = rule && rule.planned.length > 1 ? rule.planned.shift() : rule?.planned[0];
    if (fault === 'hang') return new Promise(() => undefined);
    if (fault === 'timeout') throw new AwsNetworkError(NO_ANSWER);
    if (typeof fault === 'object') {
      return { status: fault.status, body: JSON.stringify({ __type: fault.type, message: fault.message }) };
    }
    const reply = await answer(request);
    if (fault === 'lose-reply') {
      faults = faults.filter((candidate) => candidate !== rule);
      throw new AwsNetworkError('connection reset after the request was applied');
    }
    return reply;
  };
  const connection: AwsConnection = { region: 'us-east-1', credentials };
  const deps = webhookDeps({
    ...createWebhookClients({
      aws: { dynamodb: connection, sqs: connection, secretsmanager: connection },
      tableName: TABLE,
      deliveriesQueueUrl: QUEUE_URL,
      transport,
    }),
    log,
    telemetry: noTelemetry,
    now: options.now ?? now,
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  const handler = createWebhookHandler(deps);
  return {
    fake,
    deps,
    handler,
    /**
     * `planned` faults apply to successive attempts of `target` (with these input `fields`); the
     * last one stays until replaced or healed.
     */
    inject(target: string, planned: Fault | Fault[], fields: Record<string, unknown> = {}) {
      faults.push({ target, fields, planned: [planned].flat() });
    },
    heal(target: string) {
      faults = faults.filter((rule) => rule.target !== target);
    },
    /** Requests the fake answered, by `X-Amz-Target`. */
    calls: (target: string) => fake.calls.get(target) ?? 0,
    /** The input of every request sent to `target` (an operation, or a whole service), in order. */
    requests: (target: string) =>
      sent
        .filter((request) => request.target === target || request.target.startsWith(`${target}.`))
        .map((request) => request.input),
    /** The operations sent, in order. */
    order: () => sent.map((request) => request.target),
    /** Forgets the requests sent so far (not the fake's state). */
    forget() {
      sent = [];
    },
    async send(request: RequestOptions = {}, remainingMs = 10_000, use = handler) {
      const response = (await use(
        webhookEvent(request),
        lambdaContext('hookgate-webhook', remainingMs),
      )) as APIGatewayProxyStructuredResultV2;
      return {
        status: response.statusCode,
        text: response.body ?? '',
        body: JSON.parse(response.body ?? 'null') as Record<string, unknown> & {
          error?: { code: string; message: string };
        },
        headers: response.headers,
      };
    },
    stored: (integration: string, deliveryId: string) =>
      fake.getItem(key(`DLV#${integration}#${deliveryId}`)),
  };
}

let log: RecordingLog;
let webhook: ReturnType<typeof shippedWebhook>;

const send = (options: RequestOptions = {}) => webhook.send(options);
const putItems = () => webhook.requests(PUT);
const sentMessages = () => webhook.requests(SEND);
function expectNothingWritten() {
  expect(webhook.requests(PUT)).toHaveLength(0);
  expect(webhook.requests(DELETE)).toHaveLength(0);
  expect(webhook.requests(SEND)).toHaveLength(0);
}

beforeEach(() => {
  clock = START;
  log = recordingLog();
  webhook = shippedWebhook();
});

afterEach(() => {
  // Whatever a test did, no secret may reach a log line.
  const text = log.printed();
  for (const secret of ALL_SECRETS) expect(text).not.toContain(secret);
});

describe('an accepted delivery', () => {
  it('answers 202 with the Cloud X-Request-UUID as the delivery id and status received', async () => {
    const response = await send({ requestUuid: '{a6b0f0e4-2c2d-4c61-9a3e-0d5f0f1b9c11}' });

    expect(response.status).toBe(202);
    expect(response.headers).toEqual({ 'content-type': 'application/json' });
    expect(response.body).toEqual({
      deliveryId: '{a6b0f0e4-2c2d-4c61-9a3e-0d5f0f1b9c11}',
      status: 'received',
    });
  });

  it('records the delivery with one conditional PutItem holding the gzipped raw body', async () => {
    await send({ requestUuid: 'req-1' });

    expect(putItems()).toHaveLength(1);
    const [put] = putItems();
    expect(put?.TableName).toBe(TABLE);
    expect(put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put?.Item).toMatchObject({
      pk: s(`DLV#${CLOUD}#req-1`),
      sk: s('META'),
      integration: s(CLOUD),
      deliveryId: s('req-1'),
      provider: s('bitbucket-cloud'),
      eventKey: s('repo:push'),
      status: s('received'),
      repositoryId: s(cloudRepoUuid),
      receivedAt: s('2025-03-01T10:00:00.000Z'),
      attempt: { N: '1' },
      // Deliveries expire 30 days after they arrive (DESIGN §7).
      expiresAt: { N: String(START / 1000 + 30 * 86_400) },
    });
    const body = put?.Item?.bodyGzip?.B;
    expect(body && gunzipSync(Buffer.from(body, 'base64')).equals(cloudPush)).toBe(true);
    // The signature authenticates one request; storing it would only leak material.
    expect(put?.Item?.headers?.M).not.toHaveProperty('x-hub-signature');
    expect(put?.Item?.headers?.M?.['x-event-key']).toEqual(s('repo:push'));
  });

  it('enqueues one message grouped by integration and repository, after recording it', async () => {
    await send({ requestUuid: 'req-1' });

    expect(sentMessages()).toHaveLength(1);
    const [message] = sentMessages();
    expect(message).toMatchObject({
      QueueUrl: QUEUE_URL,
      MessageGroupId: `${CLOUD}#${cloudRepoUuid}`,
      MessageDeduplicationId: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(JSON.parse(message?.MessageBody ?? '')).toEqual({ integration: CLOUD, deliveryId: 'req-1' });
    const order = webhook.order();
    expect(order.indexOf(PUT)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(PUT)).toBeLessThan(order.indexOf(SEND));
  });

  it('gives different deliveries different deduplication ids', async () => {
    await send({ requestUuid: 'req-1' });
    await send({ requestUuid: 'req-2' });

    const [first, second] = sentMessages();
    expect(first?.MessageDeduplicationId).not.toBe(second?.MessageDeduplicationId);
  });

  it('takes the delivery id from X-Request-Id on Data Center and groups by the numeric repository id', async () => {
    webhook.fake.secrets.set(secretIdOf(DC), JSON.stringify({ current: CLOUD_SECRET }));
    const response = await send({
      integration: DC,
      body: dcSigned,
      eventKey: dcSignedHeaders['X-Event-Key'] ?? null,
      // The real captured signature of this body.
      signature: dcSignedHeaders['X-Hub-Signature'] ?? null,
      headers: { 'x-request-id': dcSignedHeaders['X-Request-Id'] ?? '' },
    });

    expect(response.status).toBe(202);
    expect(response.body).toEqual({ deliveryId: '2b15f131-4d3a-436e-bc63-caa9ae92580d', status: 'received' });
    expect(putItems()[0]?.Item).toMatchObject({
      pk: s(`DLV#${DC}#2b15f131-4d3a-436e-bc63-caa9ae92580d`),
      provider: s('bitbucket-data-center'),
      eventKey: s('repo:refs_changed'),
      repositoryId: s('2'),
    });
    expect(sentMessages()[0]?.MessageGroupId).toBe(`${DC}#2`);
  });

  it('falls back to a hash of hook id and body when neither request id header is sent', async () => {
    // The real Cloud capture carries its signature but no X-Request-UUID.
    const request = {
      body: cloudSigned,
      eventKey: cloudSignedHeaders['X-Event-Key'] ?? null,
      signature: cloudSignedHeaders['X-Hub-Signature'] ?? null,
    };
    const first = await send(request);
    const again = await send(request);
    const other = await send({ body: cloudPush });

    expect(first.status).toBe(202);
    expect(first.body.deliveryId).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(again.body.deliveryId).toBe(first.body.deliveryId);
    expect(other.body.deliveryId).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(other.body.deliveryId).not.toBe(first.body.deliveryId);
    expect(putItems()[0]?.Item?.pk).toEqual(s(`DLV#${CLOUD}#${first.body.deliveryId}`));
    expect(sentMessages()[0]?.MessageGroupId).toBe(`${CLOUD}#{3deb8c29-778a-450c-8f69-3e50a18079df}`);
  });

  it('accepts header names in any case', async () => {
    const event = webhookEvent({ requestUuid: 'req-case' });
    const headers = event.headers;
    event.headers = {
      'Content-Type': headers['content-type'] ?? '',
      'X-Event-Key': headers['x-event-key'] ?? '',
      'X-Hub-Signature': headers['x-hub-signature'] ?? '',
      'X-Request-UUID': 'req-case',
    };
    const response = (await webhook.handler(
      event,
      lambdaContext('hookgate-webhook', 10_000),
    )) as APIGatewayProxyStructuredResultV2;

    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body ?? '')).toEqual({ deliveryId: 'req-case', status: 'received' });
  });

  it('accepts an event it does not act on, recording it for the processor to ignore', async () => {
    const response = await send({ eventKey: 'pullrequest:approved', requestUuid: 'req-approved' });

    expect(response.status).toBe(202);
    expect(putItems()[0]?.Item?.eventKey).toEqual(s('pullrequest:approved'));
    expect(putItems()).toHaveLength(1);
    expect(sentMessages()).toHaveLength(1);
  });

  it('tags log lines after acceptance with the delivery id and integration', async () => {
    await send({ requestUuid: 'req-logged' });

    const accepted = log.lines.find((line) => line.message === 'delivery accepted');
    expect(accepted?.keys).toEqual({ integration: CLOUD, deliveryId: 'req-logged' });
  });

  it('does not carry one delivery’s log keys into the next invocation', async () => {
    await send({ requestUuid: 'req-first' });
    webhook.inject(GET, 'timeout', { Key: key('INT#other') });
    await send({ integration: 'other' });

    const fault = log.lines.find((line) => line.message === 'dependency unavailable');
    expect(fault).toBeDefined();
    expect(fault?.keys).not.toHaveProperty('deliveryId');
    expect(fault?.keys).not.toHaveProperty('integration');
  });
});

describe('a connection test', () => {
  it('answers diagnostics:ping with 200 {ok: true} and stores and sends nothing', async () => {
    const response = await send({
      integration: DC,
      secret: DC_SECRET,
      eventKey: 'diagnostics:ping',
      body: '{}',
    });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
    expectNothingWritten();
  });

  it('answers the keyless {"test": true} body with 200 {ok: true} and stores and sends nothing', async () => {
    const response = await send({ integration: DC, secret: DC_SECRET, eventKey: null, body: dcPing });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
    expectNothingWritten();
  });

  it.each([
    ['diagnostics:ping', { eventKey: 'diagnostics:ping', body: '{}' }],
    ['the keyless {"test": true} body', { eventKey: null, body: dcPing }],
  ] as const)(
    'answers an unsigned %s with 200 {ok: true}, as Data Center sends it, and stores nothing',
    async (_what, options) => {
      const response = await send({ integration: DC, signature: null, ...options });

      expect(response.status).toBe(200);
      expect(response.body).toEqual({ ok: true });
      expectNothingWritten();
    },
  );

  it.each([
    ['a push', { eventKey: 'repo:push' }],
    ['a push whose body looks like a ping', { eventKey: 'repo:push', body: dcPing }],
  ] as const)('does not exempt %s from its signature', async (_what, options) => {
    const response = await send({ integration: DC, signature: null, ...options });

    expect(response.status).toBe(401);
    expectNothingWritten();
  });

  it('still checks the signature of a ping', async () => {
    const response = await send({
      integration: DC,
      secret: 'wrong',
      eventKey: 'diagnostics:ping',
      body: '{}',
    });

    expect(response.status).toBe(401);
    expectNothingWritten();
  });
});

describe('an integration that cannot take deliveries', () => {
  it('answers 404 for an unknown integration', async () => {
    const response = await send({ integration: 'nobody' });

    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({ code: 'not-found', message: 'no integration named "nobody"' });
    expect(webhook.requests(GET)).toContainEqual(
      expect.objectContaining({ TableName: TABLE, Key: key('INT#nobody') }),
    );
    expect(webhook.requests(GET_SECRET)).toHaveLength(0);
    expectNothingWritten();
  });

  it('answers 410 saying the integration was deleted', async () => {
    webhook.fake.putItem(
      integrationItem('retired', 'bitbucket-cloud', {
        status: s('deleted'),
        deletedAt: s('2025-02-20T08:00:00.000Z'),
      }),
    );

    const response = await send({ integration: 'retired' });

    expect(response.status).toBe(410);
    expect(response.body.error?.code).toBe('gone');
    expect(response.body.error?.message).toMatch(/integration "retired" was deleted/);
    expect(response.body.error?.message).toContain('2025-02-20T08:00:00.000Z');
    expectNothingWritten();
  });
});

describe('signatures', () => {
  it('answers 401 when X-Hub-Signature is missing', async () => {
    const response = await send({ signature: null });

    expect(response.status).toBe(401);
    expect(response.body.error?.code).toBe('invalid-signature');
    expect(response.body.error?.message).toMatch(/X-Hub-Signature is missing/);
    expectNothingWritten();
  });

  it('answers 401 to a wrong signature without revealing anything about the secrets', async () => {
    webhook.fake.secrets.set(
      secretIdOf(CLOUD),
      JSON.stringify({
        current: CLOUD_SECRET,
        previous: OLD_SECRET,
        previousValidUntil: '2025-03-02T00:00:00.000Z',
      }),
    );
    const response = await send({ secret: 'not-the-secret' });

    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: { code: 'invalid-signature', message: 'signature does not match' },
    });
    for (const secret of ALL_SECRETS) expect(response.text).not.toContain(secret);
    expect(response.text).not.toMatch(/previous|current|rotat|hookgate\//i);
    expectNothingWritten();
  });

  it('answers 401 to a malformed signature header', async () => {
    const response = await send({ signature: 'sha1=0123456789abcdef0123456789abcdef01234567' });

    expect(response.status).toBe(401);
    expectNothingWritten();
  });

  it('answers 401 when the integration has no webhook secret stored, and says so in the log', async () => {
    webhook.fake.secrets.delete(secretIdOf(CLOUD));

    const response = await send();

    expect(response.status).toBe(401);
    expect(log.lines.some((line) => line.message === 'integration has no webhook secret stored')).toBe(true);
    expectNothingWritten();
  });

  it.each([
    ['not JSON', 'Gkvl$k$wyNpQAF42'],
    ['missing its current secret', JSON.stringify({ previous: OLD_SECRET })],
  ])('answers a stored secret document that is %s with a generic 5xx', async (_what, stored) => {
    webhook.fake.secrets.set(secretIdOf(CLOUD), stored);

    const response = await send();

    expect(response.status).toBeGreaterThanOrEqual(500);
    expect(response.text).not.toMatch(/secret/i);
    expectNothingWritten();
  });

  it('accepts a base64-encoded body signed over its decoded bytes', async () => {
    const response = await send({ base64: true, requestUuid: 'req-b64' });

    expect(response.status).toBe(202);
    const body = putItems()[0]?.Item?.bodyGzip?.B;
    expect(body && gunzipSync(Buffer.from(body, 'base64')).equals(cloudPush)).toBe(true);
  });

  it('rejects a base64-encoded body whose signature was computed over the base64 text', async () => {
    const response = await send({
      base64: true,
      signature: signBody(cloudPush.toString('base64'), CLOUD_SECRET),
    });

    expect(response.status).toBe(401);
    expectNothingWritten();
  });
});

describe('secret rotation', () => {
  const validUntil = Date.parse('2025-03-01T12:00:00.000Z');

  beforeEach(() => {
    webhook.fake.secrets.set(
      secretIdOf(CLOUD),
      JSON.stringify({
        current: ROTATED_SECRET,
        previous: OLD_SECRET,
        previousValidUntil: new Date(validUntil).toISOString(),
      }),
    );
  });

  it('accepts the previous secret until previousValidUntil and the new one throughout', async () => {
    clock = validUntil - 60_000;
    expect((await send({ secret: OLD_SECRET, requestUuid: 'r1' })).status).toBe(202);
    expect((await send({ secret: ROTATED_SECRET, requestUuid: 'r2' })).status).toBe(202);

    clock = validUntil + 1_000;
    const expired = await send({ secret: OLD_SECRET, requestUuid: 'r3' });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({
      error: { code: 'invalid-signature', message: 'signature does not match' },
    });
    expect((await send({ secret: ROTATED_SECRET, requestUuid: 'r4' })).status).toBe(202);

    expect(putItems().map((put) => put.Item?.deliveryId)).toEqual([s('r1'), s('r2'), s('r4')]);
  });

  it('no longer accepts the previous secret at exactly previousValidUntil', async () => {
    clock = validUntil;
    expect((await send({ secret: OLD_SECRET })).status).toBe(401);
  });
});

describe('bad input', () => {
  it('answers 400 naming X-Event-Key when it is missing', async () => {
    const response = await send({ eventKey: null });

    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe('invalid-payload');
    expect(response.body.error?.message).toContain('X-Event-Key');
    expectNothingWritten();
  });

  it('answers 400 naming the content type when it is not JSON', async () => {
    const response = await send({ contentType: 'application/x-www-form-urlencoded' });

    expect(response.status).toBe(400);
    expect(response.body.error?.message).toContain('Content-Type');
    expect(response.body.error?.message).toContain('application/x-www-form-urlencoded');
    expectNothingWritten();
  });

  it('answers 400 when Content-Type is missing', async () => {
    const response = await send({ contentType: null });

    expect(response.status).toBe(400);
    expect(response.body.error?.message).toBe('Content-Type header is missing');
  });

  it('accepts application/json with a charset', async () => {
    const response = await send({ contentType: 'application/json; charset=utf-8' });

    expect(response.status).toBe(202);
  });

  it('answers 400 to a correctly signed body that is not JSON', async () => {
    const response = await send({ body: '{"push": {"changes": [' });

    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({ code: 'invalid-payload', message: 'body is not valid JSON' });
    expectNothingWritten();
  });

  it('answers 413 to a body over 1 MB before touching any AWS service', async () => {
    const body = Buffer.from(`{"pad":"${'a'.repeat(MAX_BODY_BYTES)}"}`);
    const response = await send({ body });

    expect(response.status).toBe(413);
    expect(response.body.error?.code).toBe('payload-too-large');
    expect(webhook.requests('DynamoDB_20120810')).toHaveLength(0);
    expect(webhook.requests('secretsmanager')).toHaveLength(0);
    expect(webhook.requests('AmazonSQS')).toHaveLength(0);
  });

  it('accepts a body of exactly 1 MB', async () => {
    const padding = MAX_BODY_BYTES - '{"pad":""}'.length;
    const body = Buffer.from(`{"pad":"${'a'.repeat(padding)}"}`);
    expect(body.length).toBe(MAX_BODY_BYTES);

    const response = await send({ body, requestUuid: 'req-big' });

    expect(response.status).toBe(202);
    expect(sentMessages()[0]?.MessageGroupId).toBe(`${CLOUD}#none`);
  });

  it.each([
    ['an empty body', { body: '' }],
    ['a JSON null', { body: 'null' }],
    ['a JSON array', { body: '[1, 2]' }],
    ['an unknown event key', { eventKey: 'made:up' }],
    ['a non-hex signature', { signature: 'sha256=zz' }],
    ['an over-long request id', { requestUuid: 'x'.repeat(500) }],
    ['a request id with spaces', { requestUuid: 'a b c' }],
    ['a base64 flag on a body that is not base64', { base64: true, signature: 'sha256=00' }],
    ['an empty integration name', { integration: '' }],
  ] as const)('never answers 5xx to %s', async (_name, options) => {
    const response = await send(options);

    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(500);
  });
});

describe('a dependency fault', () => {
  const faults = [
    ['DynamoDB GetItem (integration)', 'throttling', throttled.dynamodb],
    ['DynamoDB GetItem (integration)', 'a timeout', 'timeout'],
    ['Secrets Manager GetSecretValue', 'throttling', throttled.secrets],
    ['Secrets Manager GetSecretValue', 'a timeout', 'timeout'],
    ['DynamoDB PutItem', 'throttling', throttled.dynamodb],
    ['DynamoDB PutItem', 'a timeout', 'timeout'],
    ['SQS SendMessage', 'throttling', throttled.sqs],
    ['SQS SendMessage', 'a timeout', 'timeout'],
  ] as const;
  type Dependency = (typeof faults)[number][0];

  /** Each dependency's operation, and the input fields that single out its request. */
  const operations: Record<Dependency, [string, Record<string, unknown>]> = {
    'DynamoDB GetItem (integration)': [GET, { Key: key(`INT#${CLOUD}`) }],
    'Secrets Manager GetSecretValue': [GET_SECRET, { SecretId: secretIdOf(CLOUD) }],
    'DynamoDB PutItem': [PUT, {}],
    'SQS SendMessage': [SEND, {}],
  };

  function inject(dependency: Dependency, fault: Fault) {
    const [target, fields] = operations[dependency];
    webhook.inject(target, fault, fields);
  }

  function clear(dependency: Dependency) {
    webhook.heal(operations[dependency][0]);
  }

  /** What the fault says of itself, which the answer must not repeat. */
  const wordsOf = (fault: Fault) =>
    typeof fault === 'object' ? [fault.type, fault.message] : ['AwsNetworkError', NO_ANSWER];

  it.each(faults)(
    'answers 503 with a generic body when %s fails with %s',
    async (dependency, _kind, fault) => {
      inject(dependency, fault);

      const response = await send({ requestUuid: 'req-fault' });

      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        error: { code: 'unavailable', message: 'temporarily unavailable; retry later' },
      });
      for (const internal of [...wordsOf(fault), TABLE, QUEUE_URL, secretIdOf(CLOUD), 'DLV#', 'INT#']) {
        expect(response.text).not.toContain(internal);
      }
      expect(log.lines.find((line) => line.message === 'dependency unavailable')?.level).toBe('error');
    },
  );

  it.each(faults)('leaves nothing half-written when %s fails with %s', async (dependency, _kind, fault) => {
    inject(dependency, fault);

    await send({ requestUuid: 'req-fault' });

    if (dependency === 'SQS SendMessage') {
      // The record stays `received` (no undo): Bitbucket's retry or the sweeper enqueues it.
      expect(putItems()).toHaveLength(1);
      expect(webhook.requests(DELETE)).toHaveLength(0);
    } else if (dependency === 'DynamoDB PutItem') {
      expect(webhook.requests(DELETE)).toHaveLength(0);
      expect(sentMessages()).toHaveLength(0);
    } else {
      expectNothingWritten();
    }
  });

  it.each(faults)('accepts Bitbucket’s retry after %s failed with %s', async (dependency, _kind, fault) => {
    inject(dependency, fault);
    expect((await send({ requestUuid: 'req-fault' })).status).toBe(503);
    clear(dependency);
    webhook.forget();

    const retry = await send({ requestUuid: 'req-fault', headers: { 'x-attempt-number': '2' } });

    expect(retry.status).toBe(202);
    // After a failed enqueue the record is kept, so the retry finds it: a duplicate, enqueued again.
    expect(retry.body).toEqual({
      deliveryId: 'req-fault',
      status: 'received',
      ...(dependency === 'SQS SendMessage' ? { duplicate: true } : {}),
    });
    expect(putItems()).toHaveLength(1);
    expect(putItems()[0]?.Item?.attempt).toEqual({ N: '2' });
    expect(sentMessages()).toHaveLength(1);
    expect(webhook.requests(DELETE)).toHaveLength(0);
  });

  it('does not cache a failed integration lookup', async () => {
    inject('DynamoDB GetItem (integration)', 'timeout');
    expect((await send()).status).toBe(503);
    const failedLookups = webhook.requests(GET).length;
    clear('DynamoDB GetItem (integration)');
    expect((await send()).status).toBe(202);

    expect(failedLookups).toBeGreaterThan(0);
    expect(webhook.requests(GET)).toContainEqual(expect.objectContaining({ Key: key(`INT#${CLOUD}`) }));
    expect(webhook.requests(GET)).toHaveLength(failedLookups + 1);
  });
});

describe('logging', () => {
  it('never writes a secret to a log line, across accepted, rejected and failed requests', async () => {
    webhook.fake.secrets.set(
      secretIdOf(CLOUD),
      JSON.stringify({
        current: CLOUD_SECRET,
        previous: OLD_SECRET,
        previousValidUntil: '2025-03-01T12:00:00.000Z',
      }),
    );
    await send({ requestUuid: 'ok' });
    await send({ secret: ROTATED_SECRET });
    webhook.inject(SEND, 'timeout');
    await send({ requestUuid: 'fault' });
    webhook.inject(GET_SECRET, throttled.secrets, { SecretId: secretIdOf(DC) });
    await send({ integration: DC, secret: DC_SECRET });

    expect(log.lines.filter((line) => line.level === 'error').length).toBeGreaterThanOrEqual(2);
    const text = log.printed();
    for (const secret of ALL_SECRETS) expect(text).not.toContain(secret);
  });
});

describe('the shipped webhook inside its deadline', () => {
  // 300 ms of budget: the context says the reserve plus 300 ms remain.
  const BUDGET_MS = 300;
  const remaining = WEBHOOK_RESERVE_MS + BUDGET_MS;

  it.each([
    ['the integration lookup (GetItem)', GET],
    ['the secret (GetSecretValue)', GET_SECRET],
    ['the delivery record (PutItem)', PUT],
    ['the enqueue (SendMessage)', SEND],
  ])('answers 503, never 500, before the deadline when %s hangs', async (_what, target) => {
    webhook.inject(target, 'hang');
    const started = Date.now();

    const response = await webhook.send({ requestUuid: 'req-hang' }, remaining);

    const elapsed = Date.now() - started;
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      error: { code: 'unavailable', message: 'temporarily unavailable; retry later' },
    });
    expect(elapsed).toBeLessThan(BUDGET_MS + 150);
    expect(webhook.fake.messages).toHaveLength(0);
  });

  it('answers 503 with what middy keeps back when a dependency ignores the deadline', async () => {
    const hangingStore = {
      ...webhook.deps.store,
      getIntegration: () => new Promise(() => undefined),
    } as unknown as IngestStore;
    const handler = createWebhookHandler({ ...webhook.deps, store: hangingStore });
    const started = Date.now();

    // middy fires 500 ms after the budget ends, whatever the handler is doing.
    const response = await webhook.send({}, WEBHOOK_RESERVE_MS - 300, handler);

    expect(response.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(400);
  });

  it('keeps the record after an enqueue that hung, and enqueues it on Bitbucket’s retry', async () => {
    webhook.inject(SEND, 'hang');
    expect((await webhook.send({ requestUuid: 'req-retry' }, remaining)).status).toBe(503);
    expect(webhook.stored(CLOUD, 'req-retry')?.status).toEqual(s('received'));
    expect(webhook.calls('DynamoDB_20120810.DeleteItem')).toBe(0);

    webhook.heal(SEND);
    const retry = await webhook.send({ requestUuid: 'req-retry', headers: { 'x-attempt-number': '2' } });

    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ deliveryId: 'req-retry', status: 'received', duplicate: true });
    expect(webhook.fake.messages).toHaveLength(1);
  });
});

describe('the shipped webhook when a reply is lost or a delivery repeats', () => {
  it('takes its own PutItem whose reply was lost for an acceptance and enqueues it once', async () => {
    webhook.inject(PUT, 'lose-reply');

    const response = await webhook.send({ requestUuid: 'req-lost' });

    expect(response.status).toBe(202);
    expect(response.body).toEqual({ deliveryId: 'req-lost', status: 'received' });
    expect(webhook.calls(PUT)).toBe(2);
    // The fake returns the item with the failed condition (ALL_OLD), as DynamoDB does: no read.
    expect(webhook.calls(GET)).toBe(1);
    expect(webhook.fake.messages).toHaveLength(1);
  });

  it.each([0, 1_000, 14_000, 60_000, 3_600_000])(
    'enqueues a repeat of a delivery still `received` %i ms later, with the same deduplication id',
    async (ageMs) => {
      await webhook.send({ requestUuid: 'req-again' });
      advance(ageMs);

      const repeat = await webhook.send({ requestUuid: 'req-again', headers: { 'x-attempt-number': '2' } });

      expect(repeat.status).toBe(202);
      expect(repeat.body).toEqual({ deliveryId: 'req-again', status: 'received', duplicate: true });
      const [first, second] = webhook.fake.messages;
      expect(webhook.fake.messages).toHaveLength(2);
      expect(second?.deduplicationId).toBe(first?.deduplicationId);
      expect(second?.groupId).toBe(`${CLOUD}#${cloudRepoUuid}`);
    },
  );

  it.each(['decided', 'processed', 'invalid'])(
    'answers a true duplicate of a %s delivery 202 duplicate and enqueues nothing',
    async (status) => {
      webhook.fake.putItem(deliveryItem(CLOUD, 'req-done', status, '2025-03-01T09:59:58.000Z'));

      const response = await webhook.send({ requestUuid: 'req-done' });

      expect(response.status).toBe(202);
      expect(response.body).toEqual({ deliveryId: 'req-done', status, duplicate: true });
      expect(webhook.fake.messages).toHaveLength(0);
      expect(webhook.stored(CLOUD, 'req-done')?.status).toEqual(s(status));
    },
  );
});

describe('the shipped webhook across a secret rotation', () => {
  const rotated = JSON.stringify({
    current: ROTATED_SECRET,
    previous: CLOUD_SECRET,
    previousValidUntil: '2025-03-02T10:00:00.000Z',
  });

  it('accepts the new secret 0 ms after a rotation on an instance that fetched 100 ms before', async () => {
    expect((await webhook.send({ requestUuid: 'r1' })).status).toBe(202);
    advance(100);
    webhook.fake.secrets.set(secretIdOf(CLOUD), rotated);

    expect((await webhook.send({ secret: ROTATED_SECRET, requestUuid: 'r2' })).status).toBe(202);
    expect((await webhook.send({ secret: CLOUD_SECRET, requestUuid: 'r3' })).status).toBe(202);
    expect(webhook.calls(GET_SECRET)).toBe(2);
  });

  it('accepts the new secret right after a rotation even when bad signatures just caused a refetch', async () => {
    const sleeps: number[] = [];
    webhook = shippedWebhook({
      sleep: async (ms) => {
        sleeps.push(ms);
        advance(ms);
      },
    });
    expect((await webhook.send({ secret: 'forged', requestUuid: 'bad' })).status).toBe(401);
    advance(200);
    webhook.fake.secrets.set(secretIdOf(CLOUD), rotated);

    expect((await webhook.send({ secret: ROTATED_SECRET, requestUuid: 'r1' })).status).toBe(202);
    // It waited for the next refetch slot, one second after the last.
    expect(sleeps).toEqual([800]);
  });

  it('reads the secret at most about once a second under a flood of bad signatures', async () => {
    vi.useFakeTimers({ now: START, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      webhook = shippedWebhook({ now: () => new Date() });
      const seconds = 10;
      const pending: Array<Promise<{ status: number | undefined }>> = [];
      for (let i = 0; i < 1_000; i++) {
        pending.push(webhook.send({ secret: `forged-${i}`, requestUuid: `bad-${i}` }));
        await vi.advanceTimersByTimeAsync((seconds * 1_000) / 1_000);
      }
      await vi.advanceTimersByTimeAsync(2_000);
      const responses = await Promise.all(pending);

      expect(responses.every((response) => response.status === 401)).toBe(true);
      // One fetch to fill the cache, then one refetch per second at most.
      const fetches = webhook.calls(GET_SECRET);
      expect(fetches).toBeLessThanOrEqual(seconds + 2);
      console.log(`bad-signature flood: 1000 deliveries over ${seconds} s -> ${fetches} GetSecretValue`);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('the shipped webhook with input no integration can take', () => {
  it.each([
    ['3 KB', 'a'.repeat(3 * 1024)],
    ['10 KB', 'b'.repeat(10 * 1024)],
    ['upper case', 'Cloud-Main'],
    ['a slash', 'cloud%2Fmain'],
    ['a dot', 'cloud.main'],
  ])('answers 404 to an integration name of %s before any AWS call', async (_what, integration) => {
    const response = await webhook.send({ integration });

    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'not-found', message: 'no integration by that name' } });
    expect([...webhook.fake.calls.values()].reduce((sum, n) => sum + n, 0)).toBe(0);
  });

  it('keeps at most its bound of integrations cached when 20,000 made-up names are tried', async () => {
    for (let i = 0; i < 20_000; i++) {
      const response = await webhook.send({
        integration: `x${i.toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
      });
      expect(response.status).toBe(404);
    }

    expect(webhook.deps.integrations.size).toBeLessThanOrEqual(INTEGRATION_CACHE_ENTRIES);
    expect(webhook.deps.integrations.size).toBe(INTEGRATION_CACHE_ENTRIES);
    expect((await webhook.send({ requestUuid: 'still-works' })).status).toBe(202);
  }, 60_000);

  it('answers 413 to a body that would not fit in a delivery item, and stores nothing', async () => {
    // Random bytes as hex barely compress: about 512 KB of gzip from 1 MB of text.
    const { randomBytes } = await import('node:crypto');
    const body = Buffer.from(`{"pad":"${randomBytes((MAX_BODY_BYTES - 20) / 2).toString('hex')}"}`);

    const response = await webhook.send({ body, requestUuid: 'req-huge' });

    expect(response.status).toBe(413);
    expect(String((response.body.error as { message: string }).message)).toContain(
      String(MAX_STORED_BODY_BYTES),
    );
    expect(webhook.calls(PUT)).toBe(0);
  });

  it('groups a delivery whose repository id is no repository id under no repository', async () => {
    const body = JSON.stringify({ push: { changes: [] }, repository: { uuid: `{${'z'.repeat(500)}}` } });

    const response = await webhook.send({ body, requestUuid: 'req-odd-repo' });

    expect(response.status).toBe(202);
    expect(webhook.fake.messages[0]?.groupId).toBe(`${CLOUD}#none`);
  });

  it('drops an X-Attempt-Number no DynamoDB number can hold', async () => {
    const response = await webhook.send({
      requestUuid: 'req-1e308',
      headers: { 'x-attempt-number': '1e308' },
    });

    expect(response.status).toBe(202);
    expect(webhook.stored(CLOUD, 'req-1e308')).not.toHaveProperty('attempt');
  });
});
