import { DeleteTableCommand, DescribeTableCommand, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERIES_MAX_RECEIVE_COUNT } from '../../shared/queue/redrive';
import { emulatorTierRuns } from '../support/moto-server';
import { type AwsStack, startAwsStack } from './support/aws-stack';
import { resourcesOf } from './support/template';

const runs = emulatorTierRuns();

describe.skipIf(!runs)('the AWS tier harness against moto', () => {
  let stack: AwsStack;

  beforeAll(async () => {
    stack = await startAwsStack();
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('loads every bundled function of the template with its resolved environment', () => {
    const { template } = stack.synthesized;
    const bundled = resourcesOf(template, 'AWS::Lambda::Function').filter(
      ([, resource]) => typeof resource.Metadata?.['aws:asset:path'] === 'string',
    );
    expect(Object.keys(stack.functions)).toHaveLength(bundled.length);
    expect(Object.keys(stack.functions)).toEqual(expect.arrayContaining(['webhook', 'processor', 'admin']));
    expect(stack.functions.webhook?.environment).toMatchObject({
      TABLE_NAME: stack.tableName,
      DELIVERIES_QUEUE_URL: stack.queues.deliveries?.url,
    });
    expect(stack.functions.processor?.environment.TRIGGERS_QUEUE_URL).toBe(stack.queues.triggers?.url);
    expect(stack.functions.admin?.environment.STAGE).toBe(stack.stage);
  });

  it('creates the table with the key schema and both indexes the template defines', async () => {
    const [, table] = resourcesOf(stack.synthesized.template, 'AWS::DynamoDB::Table')[0] ?? [];
    const { Table } = await stack.clients.dynamo.send(
      new DescribeTableCommand({ TableName: stack.tableName }),
    );
    expect(Table?.KeySchema).toEqual(table?.Properties?.KeySchema);
    const indexes = (Table?.GlobalSecondaryIndexes ?? []).map((index) => ({
      IndexName: index.IndexName,
      KeySchema: index.KeySchema,
      Projection: index.Projection,
    }));
    expect(indexes).toEqual(table?.Properties?.GlobalSecondaryIndexes);
    expect(indexes.map((index) => index.IndexName)).toEqual(['gsi1', 'gsi2']);
  });

  it('creates the FIFO queues with the redrive policies the template gives them', async () => {
    const { Attributes } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.queues.deliveries?.url, AttributeNames: ['All'] }),
    );
    expect(Attributes).toMatchObject({
      FifoQueue: 'true',
      DeduplicationScope: 'messageGroup',
      VisibilityTimeout: '360',
    });
    expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: stack.queues['deliveries-dlq']?.arn,
      maxReceiveCount: DELIVERIES_MAX_RECEIVE_COUNT,
    });
    expect(Object.keys(stack.queues).sort()).toEqual([
      'deliveries',
      'deliveries-dlq',
      'triggers',
      'triggers-dlq',
    ]);
  });

  it('answers an unsigned admin request with 403 without invoking the function, as API Gateway does', async () => {
    const response = await stack.request({ method: 'GET', path: '/admin/integrations', iamPrincipal: false });
    expect(response.status).toBe(403);
  });

  it('invokes the admin function through its IAM route and reaches moto', async () => {
    const response = await stack.admin('GET', 'integrations');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ items: [] });
  });

  // Last in the file: it deletes the table. A record the processor cannot even read its delivery
  // for (the table gone) is a dependency fault, handed back on every receive, since its own
  // failures cannot be counted either; only then does SQS's redrive take it to the DLQ. (A body
  // that is not a delivery message is acknowledged instead: no retry makes it one.)
  it('redelivers a record the processor reports failed, and SQS moves it to the DLQ after its redrive count of receives', async () => {
    const { dynamo } = stack.clients;
    await dynamo.send(
      new UpdateTableCommand({ TableName: stack.tableName, DeletionProtectionEnabled: false }),
    );
    await dynamo.send(new DeleteTableCommand({ TableName: stack.tableName }));
    const body = JSON.stringify({ integration: 'poison', deliveryId: 'poison-1' });
    await stack.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: stack.queues.deliveries?.url,
        MessageBody: body,
        MessageGroupId: 'poison#none',
        MessageDeduplicationId: 'poison-1',
      }),
    );
    const rounds = await stack.drain({
      redeliverFailedNow: true,
      maxBatches: DELIVERIES_MAX_RECEIVE_COUNT + 5,
    });
    expect(rounds.map((round) => round.records[0]?.attributes.ApproximateReceiveCount)).toEqual(
      Array.from({ length: DELIVERIES_MAX_RECEIVE_COUNT }, (_, n) => String(n + 1)),
    );
    expect(rounds.every((round) => round.failed.length === 1 && !round.error)).toBe(true);
    const dead = await stack.receiveAll('deliveries-dlq');
    expect(dead.map((message) => message.body)).toEqual([body]);
  });
});
