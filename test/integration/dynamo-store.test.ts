import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTable } from '../../local/dynamo';
import { AwsNetworkError, type AwsTransport } from '../../shared/aws/aws-json-client';
import type { Decision } from '../../shared/domain/decision';
import { DEFAULT_SETTINGS } from '../../shared/domain/settings';
import { DeliveryStateError, DependencyError } from '../../shared/errors';
import { dynamoJsonApi } from '../../shared/store/dynamo-api';
import { DynamoStore } from '../../shared/store/dynamo-store';
import type {
  IntegrationRecord,
  NewDelivery,
  ProjectRecord,
  PullRequestRecord,
} from '../../shared/store/store';
import { type LocalDynamo, startDynalite } from '../support/dynalite';

let local: LocalDynamo;
let tableName: string;
let store: DynamoStore;
let tables = 0;

beforeAll(async () => {
  local = await startDynalite();
});

afterAll(async () => {
  await local?.stop();
});

beforeEach(async () => {
  tables += 1;
  tableName = `hookgate-test-${tables}`;
  await ensureTable(local.client, tableName);
  store = new DynamoStore(local.api, tableName);
});

const body = JSON.stringify({ push: { changes: [] }, repository: { uuid: '{repo-1}' } });

function delivery(overrides: Partial<NewDelivery> = {}): NewDelivery {
  return {
    integration: 'cloud',
    deliveryId: 'd-1',
    provider: 'bitbucket-cloud',
    eventKey: 'repo:push',
    attempt: 1,
    headers: { 'x-event-key': 'repo:push', 'x-hook-uuid': 'hook-1' },
    bodyGzip: new Uint8Array(gzipSync(body)),
    repositoryId: '{repo-1}',
    receivedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

const decision: Decision = {
  action: 'ignore',
  reason: 'ping',
  message: 'connection test from Bitbucket; nothing to build',
};

function project(overrides: Partial<ProjectRecord> = {}): ProjectRecord {
  return {
    id: 'p-1',
    integration: 'cloud',
    provider: 'bitbucket-cloud',
    repositoryId: '{repo-1}',
    fullName: 'acme/widgets',
    cloneUrls: { ssh: 'git@bitbucket.org:acme/widgets.git', https: 'https://bitbucket.org/acme/widgets.git' },
    defaultBranch: 'main',
    settings: { ...DEFAULT_SETTINGS, alwaysBuildBranches: ['release/*'] },
    deployKeySecretId: 'hookgate/test/projects/p-1/deploy-key',
    createdAt: '2025-03-01T09:00:00.000Z',
    updatedAt: '2025-03-01T09:00:00.000Z',
    ...overrides,
  };
}

function pullRequest(overrides: Partial<PullRequestRecord> = {}): PullRequestRecord {
  return {
    id: 7,
    state: 'open',
    sourceBranch: 'feature/login',
    sourceRepository: 'acme/widgets',
    sourceCommit: 'abc123def456',
    fromFork: false,
    draft: false,
    updatedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

describe('DynamoStore deliveries', () => {
  it('records exactly one of 20 concurrent deliveries with the same id and reports the others as already there', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => store.createDelivery(delivery(), 30)));

    expect(results.filter((result) => result.created)).toHaveLength(1);
    const repeats = results.filter((result) => !result.created);
    expect(repeats).toHaveLength(19);
    for (const repeat of repeats) {
      expect(repeat).toEqual({ created: false, status: 'received', receivedAt: '2025-03-01T10:00:00.000Z' });
    }

    const stored = await store.getDelivery('cloud', 'd-1');
    expect(stored).toMatchObject({
      integration: 'cloud',
      deliveryId: 'd-1',
      status: 'received',
      attempt: 1,
      headers: { 'x-event-key': 'repo:push', 'x-hook-uuid': 'hook-1' },
      repositoryId: '{repo-1}',
    });
    expect(gunzipSync(stored?.bodyGzip ?? new Uint8Array()).toString('utf8')).toBe(body);
  });

  it('returns the record without table keys or bookkeeping attributes', async () => {
    await store.createDelivery(delivery(), 30);

    const stored = await store.getDelivery('cloud', 'd-1');
    expect(Object.keys(stored ?? {}).sort()).toEqual([...Object.keys(delivery()), 'status'].sort());
  });

  it('stores decisions once and refuses a second set with DeliveryStateError', async () => {
    await store.createDelivery(delivery(), 30);
    await store.saveDecisions('cloud', 'd-1', {
      status: 'decided',
      decisions: [decision],
      projectId: 'p-1',
      at: '2025-03-01T10:00:01.000Z',
    });

    await expect(
      store.saveDecisions('cloud', 'd-1', {
        status: 'decided',
        decisions: [],
        at: '2025-03-01T10:00:02.000Z',
      }),
    ).rejects.toBeInstanceOf(DeliveryStateError);
    expect(await store.getDelivery('cloud', 'd-1')).toMatchObject({
      status: 'decided',
      decisions: [decision],
      projectId: 'p-1',
      decidedAt: '2025-03-01T10:00:01.000Z',
    });
  });

  it('refuses decisions for a delivery that was never recorded', async () => {
    await expect(
      store.saveDecisions('cloud', 'missing', {
        status: 'decided',
        decisions: [],
        at: '2025-03-01T10:00:02.000Z',
      }),
    ).rejects.toBeInstanceOf(DeliveryStateError);
    expect(await store.getDelivery('cloud', 'missing')).toBeUndefined();
  });

  it('lists a decided delivery under its project by time and under its integration by time', async () => {
    await store.createDelivery(delivery(), 30);
    await store.createDelivery(delivery({ deliveryId: 'd-2', receivedAt: '2025-03-01T09:00:00.000Z' }), 30);
    await store.saveDecisions('cloud', 'd-1', {
      status: 'decided',
      decisions: [decision],
      projectId: 'p-1',
      at: '2025-03-01T10:00:01.000Z',
    });

    const byProject = await local.client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'DLVP#p-1' } },
      }),
    );
    expect(byProject.Items?.map((item) => item.gsi1sk?.S)).toEqual(['2025-03-01T10:00:00.000Z#d-1']);

    const byIntegration = await local.client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'DLVI#cloud' } },
      }),
    );
    expect(byIntegration.Items?.map((item) => item.deliveryId?.S)).toEqual(['d-2', 'd-1']);
  });

  it('sets the expiry to the receive time plus the TTL in days', async () => {
    await store.createDelivery(delivery(), 30);

    const query = await local.client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'DLV#cloud#d-1' } },
      }),
    );
    const receivedAt = Date.parse('2025-03-01T10:00:00.000Z') / 1000;
    expect(query.Items?.[0]?.expiresAt?.N).toBe(String(receivedAt + 30 * 86_400));
  });

  it('marks a decided delivery processed', async () => {
    await store.createDelivery(delivery(), 30);
    await store.saveDecisions('cloud', 'd-1', {
      status: 'decided',
      decisions: [],
      at: '2025-03-01T10:00:01.000Z',
    });
    await store.markProcessed('cloud', 'd-1', '2025-03-01T10:00:05.000Z');

    expect(await store.getDelivery('cloud', 'd-1')).toMatchObject({
      status: 'processed',
      processedAt: '2025-03-01T10:00:05.000Z',
    });
  });

  it('records which triggers a processed delivery found already sent', async () => {
    await store.createDelivery(delivery(), 30);
    await store.saveDecisions('cloud', 'd-1', {
      status: 'decided',
      decisions: [],
      at: '2025-03-01T10:00:01.000Z',
    });
    await store.markProcessed('cloud', 'd-1', '2025-03-01T10:00:05.000Z', [0, 2]);
    expect(await store.getDelivery('cloud', 'd-1')).toMatchObject({
      status: 'processed',
      alreadySent: [0, 2],
    });
  });

  it('marks a delivery whose item has no room left processed without the list', async () => {
    // A body of almost 400 KB of incompressible bytes leaves no room for 2,000 indexes.
    const full = { ...delivery(), bodyGzip: new Uint8Array(randomBytes(395 * 1024)) };
    await store.createDelivery(full, 30);
    const indexes = Array.from({ length: 2_000 }, (_, index) => index);
    await store.markProcessed('cloud', 'd-1', '2025-03-01T10:00:05.000Z', indexes);
    const record = await store.getDelivery('cloud', 'd-1');
    expect(record?.status).toBe('processed');
    expect(record?.alreadySent).toBeUndefined();
  });

  it('refuses to mark an unknown delivery processed rather than creating a stray item', async () => {
    await expect(store.markProcessed('cloud', 'missing', '2025-03-01T10:00:05.000Z')).rejects.toBeInstanceOf(
      DeliveryStateError,
    );
    expect(await store.getDelivery('cloud', 'missing')).toBeUndefined();
  });

  it('deletes a received delivery so the same id can be recorded afresh', async () => {
    await store.createDelivery(delivery(), 30);
    await store.deleteDelivery('cloud', 'd-1');

    expect(await store.getDelivery('cloud', 'd-1')).toBeUndefined();
    await expect(store.createDelivery(delivery(), 30)).resolves.toEqual({ created: true });
  });

  it('keeps a decided delivery when asked to delete it', async () => {
    await store.createDelivery(delivery(), 30);
    await store.saveDecisions('cloud', 'd-1', {
      status: 'decided',
      decisions: [],
      at: '2025-03-01T10:00:01.000Z',
    });

    await expect(store.deleteDelivery('cloud', 'd-1')).resolves.toBeUndefined();
    expect(await store.getDelivery('cloud', 'd-1')).toMatchObject({ status: 'decided' });
  });

  it('reports a duplicate of a decided delivery with the first status', async () => {
    await store.createDelivery(delivery(), 30);
    await store.saveDecisions('cloud', 'd-1', {
      status: 'invalid',
      decisions: [],
      error: 'bad',
      at: '2025-03-01T10:00:01.000Z',
    });

    await expect(store.createDelivery(delivery({ attempt: 2 }), 30)).resolves.toEqual({
      created: false,
      status: 'invalid',
      receivedAt: '2025-03-01T10:00:00.000Z',
    });
    expect(await store.getDelivery('cloud', 'd-1')).toMatchObject({ attempt: 1, error: 'bad' });
  });

  /** A transport to dynalite that loses the reply to the first PutItem after dynalite applied it. */
  function losingFirstPutReply(): { transport: AwsTransport; puts: () => number } {
    let puts = 0;
    const transport: AwsTransport = async (request) => {
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      const answer = { status: response.status, body: await response.text() };
      if (request.headers['x-amz-target']?.endsWith('.PutItem') && ++puts === 1) {
        throw new AwsNetworkError('connection reset after the request was applied');
      }
      return answer;
    };
    return { transport, puts: () => puts };
  }

  it('takes its own write whose reply was lost for a creation, not a duplicate', async () => {
    const { transport, puts } = losingFirstPutReply();
    const lossy = new DynamoStore(
      dynamoJsonApi({
        endpoint: local.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        transport,
        sleep: async () => undefined,
      }),
      tableName,
    );

    await expect(lossy.createDelivery(delivery(), 30)).resolves.toEqual({ created: true });
    // The retry met the first attempt's item: dynalite does not return it with the failed
    // condition, so the store read it and found its own token.
    expect(puts()).toBe(2);
    await expect(store.createDelivery(delivery({ attempt: 2 }), 30)).resolves.toMatchObject({
      created: false,
      status: 'received',
    });
  });
});

describe('DynamoStore trigger claims', () => {
  const claim = { projectId: 'p-1', deliveryId: 'd-1', at: '2025-03-01T10:00:01.000Z' };

  it('claims a trigger once, then reports it pending, then sent once marked', async () => {
    expect(await store.claimTrigger('t-1', claim)).toBe('claimed');
    expect(await store.claimTrigger('t-1', claim)).toBe('pending');

    await store.markTriggerSent('t-1', '2025-03-01T10:00:02.000Z');

    expect(await store.claimTrigger('t-1', { ...claim, deliveryId: 'd-2' })).toBe('sent');
    // The delivery that sent it, retried after a crash, is told so: it sent it, nobody else.
    expect(await store.claimTrigger('t-1', claim)).toBe('sent-by-this-delivery');
  });

  it('gives exactly one of 20 concurrent claims of one trigger id', async () => {
    const claims = await Promise.all(Array.from({ length: 20 }, () => store.claimTrigger('t-1', claim)));

    expect(claims.filter((result) => result === 'claimed')).toHaveLength(1);
    expect(claims.filter((result) => result === 'pending')).toHaveLength(19);
  });

  it('keeps claims of different trigger ids apart', async () => {
    expect(await store.claimTrigger('t-1', claim)).toBe('claimed');
    expect(await store.claimTrigger('t-2', claim)).toBe('claimed');
  });
});

describe('DynamoStore pull requests', () => {
  it('lists an open pull request until it is closed', async () => {
    await store.recordPullRequest('p-1', pullRequest());
    expect(await store.listOpenPullRequests('p-1')).toEqual([
      { id: 7, sourceBranch: 'feature/login', sourceCommit: 'abc123def456', fromFork: false, draft: false },
    ]);

    await store.recordPullRequest(
      'p-1',
      pullRequest({ state: 'closed', updatedAt: '2025-03-02T10:00:00.000Z' }),
    );
    expect(await store.listOpenPullRequests('p-1')).toEqual([]);
  });

  it('lists two open pull requests from different branches', async () => {
    await store.recordPullRequest('p-1', pullRequest());
    await store.recordPullRequest(
      'p-1',
      pullRequest({
        id: 8,
        sourceBranch: 'fix/crash',
        sourceCommit: 'fedcba987654',
        fromFork: true,
        draft: true,
      }),
    );

    const open = await store.listOpenPullRequests('p-1');
    expect(open).toHaveLength(2);
    expect(open).toEqual(
      expect.arrayContaining([
        { id: 7, sourceBranch: 'feature/login', sourceCommit: 'abc123def456', fromFork: false, draft: false },
        { id: 8, sourceBranch: 'fix/crash', sourceCommit: 'fedcba987654', fromFork: true, draft: true },
      ]),
    );
  });

  it('updates the source commit of an open pull request in place', async () => {
    await store.recordPullRequest('p-1', pullRequest());
    await store.recordPullRequest('p-1', pullRequest({ sourceCommit: '999999999999' }));

    expect(await store.listOpenPullRequests('p-1')).toEqual([
      expect.objectContaining({ sourceCommit: '999999999999' }),
    ]);
  });

  it('leaves pull requests of other projects and the project item itself out of the list', async () => {
    await store.putProject(project());
    await store.recordPullRequest('p-1', pullRequest({ state: 'closed' }));
    await store.recordPullRequest('p-2', pullRequest());

    expect(await store.listOpenPullRequests('p-1')).toEqual([]);
    expect(await store.listOpenPullRequests('p-2')).toHaveLength(1);
  });

  it('lists every open pull request even when the query spans several pages', async () => {
    // 300 items of 4 KB exceed DynamoDB's 1 MB page, so the listing has to follow LastEvaluatedKey.
    const padding = 'x'.repeat(4000);
    const ids = Array.from({ length: 300 }, (_, index) => index + 1);
    for (let start = 0; start < ids.length; start += 100) {
      await Promise.all(
        ids
          .slice(start, start + 100)
          .map((id) =>
            store.recordPullRequest(
              'p-1',
              pullRequest({ id, sourceBranch: `b${id}`, sourceCommit: padding }),
            ),
          ),
      );
    }

    const open = await store.listOpenPullRequests('p-1');
    expect(open.map((pr) => pr.id).sort((a, b) => a - b)).toEqual(ids);
  });
});

describe('DynamoStore projects and integrations', () => {
  it('finds a project by repository and still finds it under its new name after a rename', async () => {
    await store.putProject(project());
    expect(await store.findProjectByRepository('cloud', '{repo-1}')).toEqual(project());

    const cloneUrls = {
      ssh: 'git@bitbucket.org:acme/gadgets.git',
      https: 'https://bitbucket.org/acme/gadgets.git',
    };
    await store.updateProjectRepository('p-1', {
      fullName: 'acme/gadgets',
      cloneUrls,
      at: '2025-03-02T09:00:00.000Z',
    });

    expect(await store.findProjectByRepository('cloud', '{repo-1}')).toEqual(
      project({ fullName: 'acme/gadgets', cloneUrls, updatedAt: '2025-03-02T09:00:00.000Z' }),
    );
    expect(await store.getProject('p-1')).toMatchObject({ fullName: 'acme/gadgets' });
  });

  it('leaves an unknown project alone when following a rename', async () => {
    await store.updateProjectRepository('missing', { fullName: 'a/b', cloneUrls: {}, at: 'now' });

    expect(await store.getProject('missing')).toBeUndefined();
  });

  it('does not find a project by the repository id of another integration', async () => {
    await store.putProject(project());

    expect(await store.findProjectByRepository('datacenter', '{repo-1}')).toBeUndefined();
  });

  it('round-trips integrations with a default scope and with a space scope', async () => {
    const base: IntegrationRecord = {
      name: 'cloud',
      provider: 'bitbucket-cloud',
      scope: 'default',
      labels: ['prod', 'eu'],
      description: '',
      webhookSecretId: 'hookgate/test/integrations/cloud/webhook-secret',
      status: 'active',
      version: 3,
      createdAt: '2025-03-01T09:00:00.000Z',
      updatedAt: '2025-03-01T09:00:00.000Z',
    };
    const spaced: IntegrationRecord = {
      ...base,
      name: 'dc',
      provider: 'bitbucket-data-center',
      scope: { space: 'ACME' },
      labels: [],
      baseUrl: 'https://bitbucket.example.com',
      sshKnownHosts: ['bitbucket.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample'],
      credentialsSecretId: 'hookgate/test/integrations/dc/credentials',
    };
    await store.putIntegration(base);
    await store.putIntegration(spaced);

    expect(await store.getIntegration('cloud')).toEqual(base);
    expect(await store.getIntegration('dc')).toEqual(spaced);
  });

  it('replaces an integration on a second put', async () => {
    const record: IntegrationRecord = {
      name: 'cloud',
      provider: 'bitbucket-cloud',
      scope: 'default',
      labels: [],
      description: 'first',
      webhookSecretId: 'secret-id',
      credentialsSecretId: 'credentials-id',
      status: 'active',
      version: 1,
      createdAt: 'then',
      updatedAt: 'then',
    };
    await store.putIntegration(record);
    const { credentialsSecretId: _dropped, ...replacement } = {
      ...record,
      description: 'second',
      version: 2,
    };
    await store.putIntegration(replacement);

    expect(await store.getIntegration('cloud')).toEqual(replacement);
  });

  it('returns undefined for an unknown integration, project, delivery and repository', async () => {
    expect(await store.getIntegration('nope')).toBeUndefined();
    expect(await store.getProject('nope')).toBeUndefined();
    expect(await store.getDelivery('cloud', 'nope')).toBeUndefined();
    expect(await store.findProjectByRepository('cloud', 'nope')).toBeUndefined();
  });
});

describe('DynamoStore faults', () => {
  it('lists deliveries when a page of the index names one item twice (BatchGetItem takes each key once)', async () => {
    await store.createDelivery(delivery({ deliveryId: 'd-1' }), 30);
    await store.createDelivery(delivery({ deliveryId: 'd-2', receivedAt: '2025-03-01T10:00:01.000Z' }), 30);
    await store.saveDecisions('cloud', 'd-1', { status: 'decided', decisions: [decision], at: 'now' });
    const doubling = new DynamoStore(
      {
        ...local.api,
        query: async (input) => {
          const page = await local.api.query(input);
          const first = page.Items?.[0];
          return first ? { ...page, Items: [first, ...(page.Items ?? [])] } : page;
        },
      },
      tableName,
    );

    const page = await doubling.listDeliveries({ integration: 'cloud', limit: 10 });
    expect(page.items.map((item) => item.deliveryId)).toEqual(['d-2', 'd-2', 'd-1']);
    expect(page.items.find((item) => item.deliveryId === 'd-1')?.decisions).toEqual([decision]);
  });

  it('turns a missing table into a DependencyError that keeps the DynamoDB error as its cause', async () => {
    const missing = new DynamoStore(local.api, 'no-such-table');

    const error = await missing.getIntegration('cloud').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({
      message: 'storage unavailable',
      cause: { name: 'ResourceNotFoundException' },
    });
    await expect(missing.createDelivery(delivery(), 30)).rejects.toBeInstanceOf(DependencyError);
    await expect(
      missing.claimTrigger('t-1', { projectId: 'p', deliveryId: 'd', at: 'now' }),
    ).rejects.toBeInstanceOf(DependencyError);
  });

  it('turns an unreachable endpoint into a DependencyError', async () => {
    const port = await closedPort();
    const client = dynamoJsonApi({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    const unreachable = new DynamoStore(client, tableName);

    try {
      await expect(unreachable.listOpenPullRequests('p-1')).rejects.toBeInstanceOf(DependencyError);
      await expect(
        unreachable.saveDecisions('cloud', 'd-1', { status: 'decided', decisions: [], at: 'now' }),
      ).rejects.toBeInstanceOf(DependencyError);
      await expect(unreachable.deleteDelivery('cloud', 'd-1')).rejects.toBeInstanceOf(DependencyError);
    } finally {
      client.destroy();
    }
  });
});

/** A loopback port that was free a moment ago and has nothing listening on it now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}
