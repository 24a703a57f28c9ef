import { describe, expect, it } from 'vitest';
import { evaluateCondition, FakeAws, fakeTransport } from '../../bench/lib/fake-aws';
import { DeliveryStateError, DependencyError } from '../../shared/errors';
import { sqsJsonApi } from '../../shared/queue/sqs-api';
import { SqsQueue } from '../../shared/queue/sqs-queue';
import { getSecretValueJson, SecretsManagerReader } from '../../shared/secrets/secrets-manager-reader';
import { dynamoJsonApi } from '../../shared/store/dynamo-api';
import { DynamoStore } from '../../shared/store/dynamo-store';
import type { NewDelivery } from '../../shared/store/store';

function adapters() {
  const fake = new FakeAws();
  const config = {
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'not-a-real-key' },
    transport: fakeTransport(fake),
  };
  return {
    fake,
    store: new DynamoStore(dynamoJsonApi(config), 'table'),
    queue: new SqsQueue(
      sqsJsonApi(config),
      'https://sqs.us-east-1.amazonaws.com/000000000000/hookgate-deliveries.fifo',
    ),
    secrets: new SecretsManagerReader(getSecretValueJson(config)),
  };
}

const delivery: NewDelivery = {
  integration: 'acme',
  deliveryId: 'd-1',
  provider: 'bitbucket-cloud',
  eventKey: 'repo:push',
  headers: { 'x-event-key': 'repo:push' },
  bodyGzip: new Uint8Array([31, 139, 8]),
  receivedAt: '2025-03-01T10:00:00.000Z',
};

describe('fake AWS for the benchmarks', () => {
  it('keeps the conditional writes the webhook and processor rely on', async () => {
    const { store } = adapters();
    await expect(store.createDelivery(delivery, 30)).resolves.toEqual({ created: true });
    await expect(store.createDelivery(delivery, 30)).resolves.toMatchObject({
      created: false,
      status: 'received',
    });
    await store.saveDecisions('acme', 'd-1', { status: 'decided', decisions: [], projectId: 'p', at: 'now' });
    await expect(
      store.saveDecisions('acme', 'd-1', { status: 'decided', decisions: [], at: 'now' }),
    ).rejects.toBeInstanceOf(DeliveryStateError);
    await store.markProcessed('acme', 'd-1', 'later');
    expect(await store.getDelivery('acme', 'd-1')).toMatchObject({
      status: 'processed',
      projectId: 'p',
      bodyGzip: delivery.bodyGzip,
    });
  });

  it('claims a trigger once, and reports it sent once confirmed', async () => {
    const { store } = adapters();
    const claim = { projectId: 'p', deliveryId: 'd-1', at: '2025-03-01T10:00:00.000Z' };
    expect(await store.claimTrigger('t-1', claim)).toBe('claimed');
    expect(await store.claimTrigger('t-1', claim)).toBe('pending');
    await store.markTriggerSent('t-1', '2025-03-01T10:00:01.000Z');
    expect(await store.claimTrigger('t-1', { ...claim, deliveryId: 'd-2' })).toBe('sent');
  });

  it('answers SendMessage with the MD5 the SQS client checks, and secrets by id', async () => {
    const { fake, queue, secrets } = adapters();
    await queue.send({ body: '{"deliveryId":"d-1"}', groupId: 'g', deduplicationId: 'x' });
    expect(fake.messages).toEqual([
      expect.objectContaining({ body: '{"deliveryId":"d-1"}', groupId: 'g', deduplicationId: 'x' }),
    ]);
    fake.secrets.set('hookgate/bench/s', '{"current":"abc"}');
    expect(await secrets.get('hookgate/bench/s')).toBe('{"current":"abc"}');
    expect(await secrets.get('missing')).toBeUndefined();
  });

  it('answers what it cannot evaluate with an error instead of guessing', () => {
    const { fake } = adapters();
    expect(() => evaluateCondition('size(#a) > :n', {}, { '#a': 'a' }, { ':n': { N: '1' } })).toThrow(
      /cannot evaluate/,
    );
    const scan = fake.answer('DynamoDB_20120810.Scan', '{"TableName":"table"}');
    expect(scan.status).toBe(400);
    expect(JSON.parse(scan.body).__type).toMatch(/UnknownOperationException$/);
  });

  it('evaluates the admin API conditions: OR, AND and comparisons of names and values', () => {
    const item = { pk: { S: 'INT#a' }, status: { S: 'deleted' }, version: { N: '3' } };
    const names = { '#status': 'status', '#version': 'version' };
    const deleted = { ':deleted': { S: 'deleted' } };
    expect(evaluateCondition('attribute_not_exists(pk) OR #status = :deleted', item, names, deleted)).toBe(
      true,
    );
    expect(
      evaluateCondition('attribute_not_exists(pk) OR #status = :deleted', item, names, {
        ':deleted': { S: 'active' },
      }),
    ).toBe(false);
    expect(
      evaluateCondition('#version = :v AND attribute_exists(pk)', item, names, { ':v': { N: '3' } }),
    ).toBe(true);
    expect(evaluateCondition('#version < :v', item, names, { ':v': { N: '10' } })).toBe(true);
    expect(evaluateCondition('attribute_exists(pk)', undefined, names, {})).toBe(false);
  });

  it('lists integrations as the admin API does: an index query, then BatchGetItem of the records', async () => {
    const { store } = adapters();
    const at = '2025-03-01T10:00:00.000Z';
    for (const name of ['acme', 'beta']) {
      await store.putIntegration({
        name,
        provider: 'bitbucket-cloud',
        scope: 'default',
        labels: [],
        description: '',
        webhookSecretId: `hookgate/test/integrations/${name}/webhook-secret`,
        status: 'active',
        version: 1,
        createdAt: at,
        updatedAt: at,
      });
    }
    expect((await store.listIntegrations()).map((integration) => integration.name).sort()).toEqual([
      'acme',
      'beta',
    ]);
  });

  it('makes an unsupported call fail in the adapter, as a store fault would', async () => {
    const { store } = adapters();
    await expect(store.listIntegrations()).resolves.toEqual([]);
    await expect(
      store.listDeliveries({ integration: 'acme', limit: 5, cursor: 'not-a-cursor' }),
    ).rejects.toThrow();
    expect(new DependencyError('x')).toBeInstanceOf(Error);
  });
});
