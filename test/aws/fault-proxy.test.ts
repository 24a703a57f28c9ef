import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy';
import {
  emulatorTierRuns,
  MOTO_CREDENTIALS,
  MOTO_REGION,
  type MotoServer,
  startMoto,
} from '../support/moto-server';

const PUT = 'DynamoDB_20120810.PutItem';
const SEND = 'AmazonSQS.SendMessage';
const GET_SECRET = 'secretsmanager.GetSecretValue';

describe.runIf(emulatorTierRuns())('fault proxy in front of moto', () => {
  let moto: MotoServer;
  let proxy: FaultProxy;
  let queueUrl: string;
  const config = (endpoint: string, requestTimeout = 2_000) => ({
    endpoint,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: { requestTimeout, throwOnRequestTimeout: true },
  });
  let viaProxy: { dynamo: DynamoDBClient; sqs: SQSClient; secrets: SecretsManagerClient };
  let direct: DynamoDBClient;

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startFaultProxy(moto.endpoint);
    viaProxy = {
      dynamo: new DynamoDBClient(config(proxy.endpoint)),
      sqs: new SQSClient(config(proxy.endpoint)),
      secrets: new SecretsManagerClient(config(proxy.endpoint)),
    };
    direct = new DynamoDBClient(config(moto.endpoint));
    await direct.send(
      new CreateTableCommand({
        TableName: 't',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      }),
    );
    const sqs = new SQSClient(config(moto.endpoint));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'q' }))).QueueUrl as string;
    await new SecretsManagerClient(config(moto.endpoint)).send(
      new CreateSecretCommand({ Name: 's', SecretString: 'v' }),
    );
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
  });
  beforeEach(() => proxy.reset());

  const put = (pk: string) =>
    viaProxy.dynamo.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: pk } } }));
  const stored = async (pk: string) =>
    (await direct.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: pk } } }))).Item !== undefined;
  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => ({
        name: error.name,
        status: error.$metadata?.httpStatusCode,
      }),
    );

  test('forwards an unfaulted call unchanged and records it', async () => {
    await put('plain');
    expect(await stored('plain')).toBe(true);
    expect(proxy.calls(PUT)).toMatchObject([{ operation: PUT, door: 'main', status: 200, forwarded: true }]);
  });

  test('throttles each service with its own error code, without forwarding', async () => {
    proxy.inject(PUT, { kind: 'throttle' });
    proxy.inject(SEND, { kind: 'throttle' });
    proxy.inject(GET_SECRET, { kind: 'throttle' });
    expect(await failureOf(put('throttled'))).toEqual({
      name: 'ProvisionedThroughputExceededException',
      status: 400,
    });
    expect(
      await failureOf(viaProxy.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }))),
    ).toEqual({ name: 'RequestThrottled', status: 400 });
    expect(await failureOf(viaProxy.secrets.send(new GetSecretValueCommand({ SecretId: 's' })))).toEqual({
      name: 'ThrottlingException',
      status: 400,
    });
    expect(await stored('throttled')).toBe(false);
    expect(proxy.calls().map((c) => [c.fault, c.forwarded])).toEqual([
      ['throttle', false],
      ['throttle', false],
      ['throttle', false],
    ]);
  });

  test('answers 500 and 503 for the next calls only, then forwards again', async () => {
    proxy.inject(PUT, { kind: 'status', status: 500 }, { times: 1 });
    proxy.inject(PUT, { kind: 'status', status: 503 }, { times: 1 });
    expect(await failureOf(put('a'))).toEqual({ name: 'InternalServerError', status: 500 });
    expect(await failureOf(put('a'))).toEqual({ name: 'ServiceUnavailable', status: 503 });
    await put('a');
    expect(proxy.calls(PUT).map((c) => c.status)).toEqual([500, 503, 200]);
  });

  test('lets the given number of calls pass before a fault applies', async () => {
    proxy.inject(PUT, { kind: 'status', status: 503 }, { after: 2, times: 1 });
    await put('first');
    await put('second');
    expect(await failureOf(put('third'))).toEqual({ name: 'ServiceUnavailable', status: 503 });
    await put('fourth');
    expect(proxy.calls(PUT).map((c) => c.status)).toEqual([200, 200, 503, 200]);
    expect(() => proxy.inject(PUT, { kind: 'hang' }, { after: -1 })).toThrow(/after must be/);
  });

  test('applies a call whose reply it drops', async () => {
    proxy.inject(PUT, { kind: 'drop-reply' }, { times: 1 });
    expect(await failureOf(put('dropped'))).toMatchObject({ status: undefined });
    expect(await stored('dropped')).toBe(true);
    expect(proxy.calls(PUT).map((c) => [c.fault, c.forwarded, c.status])).toEqual([
      ['drop-reply', true, undefined],
    ]);
  });

  test('delays a call by the given time and still applies it', async () => {
    proxy.inject(PUT, { kind: 'delay', ms: 300 });
    const started = Date.now();
    await put('late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await stored('late')).toBe(true);
  });

  test('hangs a call until the client gives up, and reset releases a hang nobody times out', async () => {
    proxy.inject(PUT, { kind: 'hang' });
    const timedOut = new DynamoDBClient(config(proxy.endpoint, 300));
    expect(
      await failureOf(timedOut.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'hung' } } }))),
    ).toMatchObject({ status: undefined });
    const patient = new DynamoDBClient(config(proxy.endpoint, 0));
    const waiting = failureOf(
      patient.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'hung' } } })),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(proxy.calls(PUT)).toHaveLength(2);
    expect(proxy.calls(PUT)[1]?.endedAt).toBeUndefined();
    proxy.reset();
    expect(await waiting).toMatchObject({ status: undefined });
    expect(await stored('hung')).toBe(false);
  });

  test('recognises a query API call by its Action and answers in XML', async () => {
    proxy.inject('SendMessage', { kind: 'throttle' });
    const answer = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=${MOTO_CREDENTIALS.accessKeyId}/20250101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: new URLSearchParams({ Action: 'SendMessage', QueueUrl: queueUrl, MessageBody: 'x' }),
    });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('<Code>RequestThrottled</Code>');
    expect(proxy.calls('SendMessage')).toHaveLength(1);
  });

  test('a frozen door holds calls until thawed, and a closed door drops them', async () => {
    const door = await proxy.door('sandbox-1');
    const client = new DynamoDBClient(config(door.endpoint, 0));
    door.freeze();
    const held = client.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'held' } } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stored('held')).toBe(false);
    door.thaw();
    await held;
    expect(await stored('held')).toBe(true);
    expect(proxy.calls(PUT)).toMatchObject([{ door: 'sandbox-1', status: 200 }]);

    door.freeze();
    const killed = failureOf(
      client.send(new PutItemCommand({ TableName: 't', Item: { pk: { S: 'killed' } } })),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await door.close();
    expect(await killed).toMatchObject({ status: undefined });
    expect(await stored('killed')).toBe(false);
  });
});
