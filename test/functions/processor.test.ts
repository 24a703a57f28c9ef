import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { createProcessorHandler } from '../../functions/processor/app';
import type { Decision } from '../../shared/domain/decision';
import { BITBUCKET_CLOUD_KNOWN_HOSTS } from '../../shared/domain/known-hosts';
import { triggerIdOf } from '../../shared/domain/trigger-id';
import { TriggerMessageSchema } from '../../shared/domain/trigger-message';
import { noTelemetry, silentLog } from '../../shared/observability';
import { sdkSqsApi } from '../../shared/queue/sdk-sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { DynamoStore } from '../../shared/store/dynamo-store';
import { sdkDynamoApi } from '../../shared/store/sdk-dynamo-api';
import { readFixtureBytes, readFixtureJson } from '../support/fixtures';
import { lambdaContext } from '../support/lambda-context';

const ddb = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-real-key' };
const TABLE = 'hookgate-test';
const TRIGGERS_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/hookgate-triggers.fifo';
const DELIVERIES_ARN = 'arn:aws:sqs:us-east-1:123456789012:hookgate-deliveries.fifo';

const store = new DynamoStore(sdkDynamoApi(new DynamoDBClient({ region: 'us-east-1', credentials })), TABLE);
const triggers = new SqsQueue(sdkSqsApi(new SQSClient({ region: 'us-east-1', credentials })), TRIGGERS_URL);

const NOW = '2025-03-01T10:00:05.000Z';
const RECEIVED_AT = '2025-03-01T10:00:00.000Z';
const DC_KNOWN_HOSTS = [
  'bitbucket.acme.internal ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleHostKeyForTests',
];

interface Platform {
  name: string;
  integration: string;
  provider: 'bitbucket-cloud' | 'bitbucket-data-center';
  fixture: string;
  eventKey: string;
  repositoryId: string;
  fullName: string;
  projectId: string;
  branch: string;
  sha: string;
  knownHosts: readonly string[];
}

const CLOUD: Platform = {
  name: 'Cloud',
  integration: 'cloud-main',
  provider: 'bitbucket-cloud',
  fixture: 'cloud/drone-go-scm__push.json',
  eventKey: 'repo:push',
  repositoryId: '{bc771cbf-829e-4c4b-b71f-a0eb3ac2b860}',
  fullName: 'brydzewski/foo',
  projectId: 'p-cloud',
  branch: 'master',
  sha: '141977fedf5cf35aa290ac87d4b5177ac4cd9de1',
  knownHosts: BITBUCKET_CLOUD_KNOWN_HOSTS,
};

const DC: Platform = {
  name: 'Data Center',
  integration: 'dc-main',
  provider: 'bitbucket-data-center',
  fixture: 'server/drone-go-scm__push.json',
  eventKey: 'repo:refs_changed',
  repositoryId: '1',
  fullName: 'PRJ/my-repo',
  projectId: 'p-dc',
  branch: 'master',
  sha: '823b2230a56056231c9425d63758fa87078a66b4',
  knownHosts: DC_KNOWN_HOSTS,
};

/** A push to a repository no project is connected to. */
const UNCONNECTED_PUSH = 'cloud/woodpecker__HookPush.json';

const s = (value: string): AttributeValue => ({ S: value });
const b = (value: boolean): AttributeValue => ({ BOOL: value });
const list = (values: string[]): AttributeValue => ({ L: values.map(s) });
const key = (pk: string, sk = 'META') => ({ pk: s(pk), sk: s(sk) });
const deliveryKey = (integration: string, deliveryId: string) => key(`DLV#${integration}#${deliveryId}`);

function integrationItem(platform: Platform): Record<string, AttributeValue> {
  return {
    ...key(`INT#${platform.integration}`),
    name: s(platform.integration),
    provider: s(platform.provider),
    scope: s('default'),
    labels: list([]),
    description: s(''),
    ...(platform.provider === 'bitbucket-data-center'
      ? { baseUrl: s('https://bitbucket.acme.internal'), sshKnownHosts: list([...DC_KNOWN_HOSTS]) }
      : {}),
    webhookSecretId: s(`hookgate/test/integrations/${platform.integration}/webhook-secret`),
    status: s('active'),
    version: { N: '1' },
    createdAt: s('2025-01-01T00:00:00.000Z'),
    updatedAt: s('2025-01-01T00:00:00.000Z'),
  };
}

/** A project as DynamoStore's putProject writes it, with the default settings. */
function projectItem(platform: Platform): Record<string, AttributeValue> {
  const cloneUrls =
    platform.provider === 'bitbucket-cloud'
      ? {
          ssh: s(`git@bitbucket.org:${platform.fullName}.git`),
          https: s(`https://bitbucket.org/${platform.fullName}.git`),
        }
      : {
          ssh: s('ssh://git@bitbucket.acme.internal:7999/prj/my-repo.git'),
          https: s('https://bitbucket.acme.internal/scm/prj/my-repo.git'),
        };
  return {
    ...key(`PRJ#${platform.projectId}`),
    id: s(platform.projectId),
    integration: s(platform.integration),
    provider: s(platform.provider),
    repositoryId: s(platform.repositoryId),
    fullName: s(platform.fullName),
    cloneUrls: { M: cloneUrls },
    defaultBranch: s(platform.branch),
    settings: {
      M: {
        onlyBuildPullRequests: b(false),
        buildForkedPullRequests: b(false),
        passSecretsToForkedPullRequests: b(false),
        alwaysBuildBranches: list([]),
        ignoreBranches: list([]),
        buildTags: b(false),
        tagPatterns: list(['*']),
        skipMarkers: b(true),
        buildDraftPullRequests: b(true),
      },
    },
    deployKeySecretId: s(`hookgate/test/projects/${platform.projectId}/deploy-key`),
    createdAt: s('2025-01-01T00:00:00.000Z'),
    updatedAt: s('2025-01-01T00:00:00.000Z'),
  };
}

interface StoredDelivery {
  platform?: Platform;
  deliveryId: string;
  body?: Buffer;
  eventKey?: string;
  status?: string;
  decisions?: Decision[];
}

/** A delivery as the webhook's createDelivery stored it, with a gzipped real body. */
function deliveryItem(delivery: StoredDelivery): Record<string, AttributeValue> {
  const platform = delivery.platform ?? CLOUD;
  const eventKey = delivery.eventKey ?? platform.eventKey;
  const { integration } = platform;
  return {
    ...deliveryKey(integration, delivery.deliveryId),
    integration: s(integration),
    deliveryId: s(delivery.deliveryId),
    provider: s(platform.provider),
    eventKey: s(eventKey),
    headers: { M: { 'x-event-key': s(eventKey), 'content-type': s('application/json') } },
    bodyGzip: { B: new Uint8Array(gzipSync(delivery.body ?? readFixtureBytes(platform.fixture))) },
    repositoryId: s(platform.repositoryId),
    receivedAt: s(RECEIVED_AT),
    status: s(delivery.status ?? 'received'),
    ...(delivery.decisions ? { decisions: s(JSON.stringify(delivery.decisions)) } : {}),
    expiresAt: { N: String(Math.floor(Date.parse(RECEIVED_AT) / 1000) + 30 * 86_400) },
    gsi2pk: s(`DLVI#${integration}`),
    gsi2sk: s(`${RECEIVED_AT}#${delivery.deliveryId}`),
  };
}

function stored(delivery: StoredDelivery): void {
  const platform = delivery.platform ?? CLOUD;
  ddb
    .on(GetItemCommand, { Key: deliveryKey(platform.integration, delivery.deliveryId) })
    .resolves({ Item: deliveryItem(delivery) });
}

let records = 0;

/** One record of a `deliveries.fifo` batch, as the SQS event source mapping hands it over. */
function sqsRecord(options: { body?: string; deliveryId?: string; platform?: Platform; group?: string }) {
  records += 1;
  const platform = options.platform ?? CLOUD;
  const body =
    options.body ?? JSON.stringify({ integration: platform.integration, deliveryId: options.deliveryId });
  const record: SQSRecord = {
    messageId: `0e1f2a3b-0000-4000-8000-${String(records).padStart(12, '0')}`,
    receiptHandle: `AQEB-receipt-${records}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.parse(RECEIVED_AT)),
      SenderId: 'AROAEXAMPLE:hookgate-webhook',
      ApproximateFirstReceiveTimestamp: String(Date.parse(RECEIVED_AT) + 100),
      SequenceNumber: String(18_849_496_460_467_696_000 + records),
      MessageGroupId: options.group ?? `${platform.integration}#${platform.repositoryId}`,
      MessageDeduplicationId: `dedup-${records}`,
    },
    messageAttributes: {},
    md5OfBody: '0123456789abcdef0123456789abcdef',
    eventSource: 'aws:sqs',
    eventSourceARN: DELIVERIES_ARN,
    awsRegion: 'us-east-1',
  };
  return record;
}

const context = lambdaContext('hookgate-processor', 60_000);

const handler = createProcessorHandler({
  store,
  triggers,
  now: () => new Date(NOW),
  log: silentLog,
  telemetry: noTelemetry,
});

async function runBatch(...batch: SQSRecord[]) {
  const event: SQSEvent = { Records: batch };
  const response = await handler(event, context);
  return response.batchItemFailures.map((failure) => failure.itemIdentifier);
}

const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400 },
  });

function updatesOf(pk: string): UpdateItemCommandInput[] {
  return ddb
    .commandCalls(UpdateItemCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.Key?.pk?.S === pk);
}

function statusSet(update: UpdateItemCommandInput | undefined): string | undefined {
  return update?.ExpressionAttributeValues?.[':status']?.S;
}

function storedDecisions(update: UpdateItemCommandInput | undefined): unknown {
  const gzip = update?.ExpressionAttributeValues?.[':decisionsGzip']?.B;
  return gzip ? JSON.parse(gunzipSync(gzip).toString('utf8')) : null;
}

function callOf(command: typeof UpdateItemCommand, pk: string, status: string) {
  return ddb
    .commandCalls(command)
    .find((call) => call.args[0].input.Key?.pk?.S === pk && statusSet(call.args[0].input) === status);
}

function expectNoWrites(): void {
  expect(ddb).not.toHaveReceivedCommand(PutItemCommand);
  expect(ddb).not.toHaveReceivedCommand(UpdateItemCommand);
  expect(ddb).not.toHaveReceivedCommand(DeleteItemCommand);
  expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
}

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  ddb.on(GetItemCommand).resolves({});
  for (const platform of [CLOUD, DC]) {
    ddb
      .on(GetItemCommand, { Key: key(`INT#${platform.integration}`) })
      .resolves({ Item: integrationItem(platform) });
    ddb.on(GetItemCommand, { Key: key(`REPO#${platform.integration}#${platform.repositoryId}`) }).resolves({
      Item: {
        ...key(`REPO#${platform.integration}#${platform.repositoryId}`),
        projectId: s(platform.projectId),
      },
    });
    ddb
      .on(GetItemCommand, { Key: key(`PRJ#${platform.projectId}`) })
      .resolves({ Item: projectItem(platform) });
  }
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(PutItemCommand).resolves({});
  ddb.on(UpdateItemCommand).resolves({});
  ddb.on(DeleteItemCommand).resolves({});
  sqs.on(SendMessageCommand).resolves({ MessageId: 'trigger-msg', $metadata: {} });
});

describe.each([CLOUD, DC])('a $name push to the default branch of a connected project', (platform) => {
  const deliveryPk = `DLV#${platform.integration}#d-push`;
  const triggerId = triggerIdOf(platform.projectId, 'branch', platform.branch, platform.sha);

  beforeEach(() => stored({ platform, deliveryId: 'd-push' }));

  it('sends one trigger that validates against the v1 schema', async () => {
    const failures = await runBatch(sqsRecord({ platform, deliveryId: 'd-push' }));

    expect(failures).toEqual([]);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    const sent = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(sent?.QueueUrl).toBe(TRIGGERS_URL);
    const message = TriggerMessageSchema.parse(JSON.parse(sent?.MessageBody ?? ''));
    expect(message).toMatchObject({
      schema: 'hookgate.trigger/v1',
      triggerId,
      createdAt: NOW,
      integration: platform.integration,
      provider: platform.provider,
      project: {
        id: platform.projectId,
        repository: platform.fullName,
        repositoryId: platform.repositoryId,
        defaultBranch: platform.branch,
      },
      reason: 'default-branch',
      ref: { type: 'branch', name: platform.branch },
      commit: { sha: platform.sha, abbreviated: false },
      trust: 'trusted',
      secretsAllowed: true,
      checkout: {
        deployKeySecretId: `hookgate/test/projects/${platform.projectId}/deploy-key`,
        knownHosts: [...platform.knownHosts],
      },
      delivery: { id: 'd-push', eventKey: platform.eventKey, receivedAt: RECEIVED_AT },
    });
    expect(message.project.cloneUrl).toMatch(/^(git@|ssh:\/\/)/);
  });

  it('groups the trigger by project and deduplicates it by trigger id', async () => {
    await runBatch(sqsRecord({ platform, deliveryId: 'd-push' }));

    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, {
      MessageGroupId: platform.projectId,
      MessageDeduplicationId: triggerId,
    });
  });

  it('stores the decisions before sending and marks the delivery processed after', async () => {
    await runBatch(sqsRecord({ platform, deliveryId: 'd-push' }));

    const [decided, processed] = updatesOf(deliveryPk);
    expect(updatesOf(deliveryPk)).toHaveLength(2);
    expect(decided).toMatchObject({
      TableName: TABLE,
      ConditionExpression: '#status = :received',
      ExpressionAttributeValues: { ':status': s('decided'), ':projectId': s(platform.projectId) },
    });
    expect(storedDecisions(decided)).toEqual([
      expect.objectContaining({
        action: 'trigger',
        reason: 'default-branch',
        triggerId,
        ref: { type: 'branch', name: platform.branch },
      }),
    ]);
    expect(processed).toMatchObject({
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':status': s('processed'), ':processedAt': s(NOW) },
    });

    const send = sqs.commandCalls(SendMessageCommand)[0];
    const decidedCall = callOf(UpdateItemCommand, deliveryPk, 'decided');
    const processedCall = callOf(UpdateItemCommand, deliveryPk, 'processed');
    expect(send && decidedCall?.calledBefore(send)).toBe(true);
    expect(send && processedCall?.calledAfter(send)).toBe(true);
  });

  it('claims the trigger id before sending and confirms it sent after', async () => {
    await runBatch(sqsRecord({ platform, deliveryId: 'd-push' }));

    const claim = ddb
      .commandCalls(PutItemCommand)
      .find((call) => call.args[0].input.Item?.pk?.S === `TRG#${triggerId}`);
    expect(claim?.args[0].input).toMatchObject({
      ConditionExpression: 'attribute_not_exists(pk)',
      Item: { status: s('pending'), projectId: s(platform.projectId), deliveryId: s('d-push') },
    });
    const confirmed = callOf(UpdateItemCommand, `TRG#${triggerId}`, 'sent');
    const send = sqs.commandCalls(SendMessageCommand)[0];
    expect(send && claim?.calledBefore(send)).toBe(true);
    expect(send && confirmed?.calledAfter(send)).toBe(true);
  });
});

describe('a push from a repository no project is connected to', () => {
  it('sends nothing and stores a single unknown-repository decision', async () => {
    stored({ deliveryId: 'd-stranger', body: readFixtureBytes(UNCONNECTED_PUSH) });

    const failures = await runBatch(sqsRecord({ deliveryId: 'd-stranger' }));

    expect(failures).toEqual([]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(ddb).not.toHaveReceivedCommand(PutItemCommand);
    expect(ddb).toHaveReceivedCommandWith(GetItemCommand, {
      Key: key('REPO#cloud-main#{898477b2-a080-4089-b385-597a783db392}'),
    });
    const [decided, processed] = updatesOf('DLV#cloud-main#d-stranger');
    expect(statusSet(decided)).toBe('decided');
    expect(decided?.ExpressionAttributeValues).not.toHaveProperty(':projectId');
    expect(storedDecisions(decided)).toEqual([
      {
        action: 'ignore',
        reason: 'unknown-repository',
        message: expect.stringContaining('martinherren1984/publictestrepo'),
      },
    ]);
    expect(statusSet(processed)).toBe('processed');
  });
});

describe('partial batch failures', () => {
  it('returns only a record whose delivery read fails, acknowledges one whose body is not JSON, and processes the rest', async () => {
    stored({ deliveryId: 'd-1' });
    stored({ deliveryId: 'd-4', platform: DC });
    ddb.on(GetItemCommand, { Key: deliveryKey('cloud-main', 'd-3') }).rejects(throttled());
    const good = sqsRecord({ deliveryId: 'd-1', group: 'g-1' });
    const notJson = sqsRecord({ body: '{"integration": "cloud-main", "deliv', group: 'g-2' });
    const dynamoFault = sqsRecord({ deliveryId: 'd-3', group: 'g-3' });
    const alsoGood = sqsRecord({ deliveryId: 'd-4', platform: DC, group: 'g-4' });

    const failures = await runBatch(good, notJson, dynamoFault, alsoGood);

    expect(failures).toEqual([dynamoFault.messageId]);
    expect(statusSet(updatesOf('DLV#cloud-main#d-1').at(-1))).toBe('processed');
    expect(statusSet(updatesOf('DLV#dc-main#d-4').at(-1))).toBe('processed');
    // Its own failure is counted on its record: the third one parks it.
    expect(updatesOf('DLV#cloud-main#d-3')).toEqual([
      expect.objectContaining({
        UpdateExpression: expect.stringContaining('#failures = if_not_exists(#failures, :zero) + :one'),
        ExpressionAttributeValues: expect.objectContaining({ ':error': s('storage unavailable') }),
      }),
    ]);
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 2);
  });

  it('acknowledges a message that is JSON but not a delivery pointer, as no retry can make it one', async () => {
    const record = sqsRecord({ body: JSON.stringify({ integration: 'cloud-main' }) });

    expect(await runBatch(record)).toEqual([]);
    expectNoWrites();
  });

  it('fails the later records of the same message group after a failure, while other groups proceed', async () => {
    ddb.on(GetItemCommand, { Key: deliveryKey('cloud-main', 'd-first') }).rejects(throttled());
    stored({ deliveryId: 'd-second' });
    stored({ deliveryId: 'd-other', platform: DC });
    const first = sqsRecord({ deliveryId: 'd-first', group: 'cloud-main#repo-a' });
    const other = sqsRecord({ deliveryId: 'd-other', platform: DC, group: 'dc-main#1' });
    const second = sqsRecord({ deliveryId: 'd-second', group: 'cloud-main#repo-a' });

    const failures = await runBatch(first, other, second);

    expect(failures).toEqual([first.messageId, second.messageId]);
    // The later record of the failed group is not even read: its order behind the first is kept.
    expect(ddb).not.toHaveReceivedCommandWith(GetItemCommand, { Key: deliveryKey('cloud-main', 'd-second') });
    expect(statusSet(updatesOf('DLV#dc-main#d-other').at(-1))).toBe('processed');
    expect(sqs).toHaveReceivedCommandTimes(SendMessageCommand, 1);
    expect(sqs).toHaveReceivedCommandWith(SendMessageCommand, { MessageGroupId: DC.projectId });
  });

  it('retries a delivery whose trigger could not be sent, without marking it processed', async () => {
    stored({ deliveryId: 'd-push' });
    sqs
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }));
    const record = sqsRecord({ deliveryId: 'd-push' });

    expect(await runBatch(record)).toEqual([record.messageId]);
    const [decided, failure] = updatesOf('DLV#cloud-main#d-push');
    expect(statusSet(decided)).toBe('decided');
    expect(failure?.UpdateExpression).toContain('#failures');
    expect(updatesOf('DLV#cloud-main#d-push')).toHaveLength(2);
  });
});

describe('a redelivered message', () => {
  it('acknowledges an already-processed delivery without writing anything', async () => {
    stored({ deliveryId: 'd-done', status: 'processed', decisions: [] });
    const record = sqsRecord({ deliveryId: 'd-done' });

    expect(await runBatch(record)).toEqual([]);
    expect(ddb).toHaveReceivedCommandTimes(GetItemCommand, 1);
    expectNoWrites();
  });

  it('acknowledges a delivery already recorded as invalid without writing anything', async () => {
    stored({ deliveryId: 'd-bad', status: 'invalid', decisions: [] });

    expect(await runBatch(sqsRecord({ deliveryId: 'd-bad' }))).toEqual([]);
    expectNoWrites();
  });

  it('reuses stored decisions and does not resend a trigger already confirmed sent', async () => {
    const triggerId = triggerIdOf(CLOUD.projectId, 'branch', CLOUD.branch, CLOUD.sha);
    const decision: Decision = {
      action: 'trigger',
      reason: 'default-branch',
      message: 'push to the default branch',
      ref: { type: 'branch', name: CLOUD.branch },
      commit: { sha: CLOUD.sha, abbreviated: false },
      triggerId,
      trust: 'trusted',
      secretsAllowed: true,
    };
    stored({ deliveryId: 'd-crash', status: 'decided', decisions: [decision] });
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    ddb.on(GetItemCommand, { Key: key(`TRG#${triggerId}`) }).resolves({
      Item: { ...key(`TRG#${triggerId}`), triggerId: s(triggerId), status: s('sent') },
    });

    expect(await runBatch(sqsRecord({ deliveryId: 'd-crash' }))).toEqual([]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(updatesOf('DLV#cloud-main#d-crash').map(statusSet)).toEqual(['processed']);
  });
});

describe('an unreadable payload', () => {
  it('is stored as invalid with the reason and acknowledged, not retried', async () => {
    const { push: _push, ...withoutPush } = readFixtureJson<Record<string, unknown>>(CLOUD.fixture);
    stored({ deliveryId: 'd-broken', body: Buffer.from(JSON.stringify(withoutPush)) });
    const record = sqsRecord({ deliveryId: 'd-broken' });

    const failures = await runBatch(record);

    expect(failures).toEqual([]);
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
    expect(ddb).not.toHaveReceivedCommand(PutItemCommand);
    const updates = updatesOf('DLV#cloud-main#d-broken');
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      ConditionExpression: '#status = :received',
      ExpressionAttributeValues: {
        ':status': s('invalid'),
        ':decisionsGzip': { B: expect.any(Uint8Array) },
        ':error': { S: expect.stringMatching(/repo:push payload is not valid at push/) },
        ':decidedAt': s(NOW),
      },
    });
  });

  it('stores a stored body that is not JSON as invalid too', async () => {
    stored({ deliveryId: 'd-garbled', body: Buffer.from('{"push": ') });

    expect(await runBatch(sqsRecord({ deliveryId: 'd-garbled' }))).toEqual([]);
    expect(statusSet(updatesOf('DLV#cloud-main#d-garbled')[0])).toBe('invalid');
    expect(sqs).not.toHaveReceivedCommand(SendMessageCommand);
  });
});
