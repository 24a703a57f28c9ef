import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { Decision } from '../domain/decision';
import type { Provider } from '../domain/events';
import type { OpenPullRequest } from '../domain/rules';
import { DeliveryStateError, DependencyError, DuplicateDeliveryError, ValidationError } from '../errors';
import type {
  DefaultMarker,
  DeliveryPage,
  DeliveryQuery,
  DeliveryRecord,
  DeliverySummary,
  IntegrationRecord,
  NewDelivery,
  ProjectRecord,
  PullRequestRecord,
  Store,
  TriggerClaim,
} from './store';

type Item = Record<string, AttributeValue>;

const META = 'META';
const DAY_SECONDS = 86_400;
const TRIGGER_TTL_DAYS = 7;
/** Table attributes that are keys or bookkeeping, never part of a record. */
const INTERNAL = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'expiresAt']);
// Sparse entries in gsi1 besides deliveries-by-project: every integration under one partition,
// and the projects of each integration under theirs, so the admin API lists them without a Scan.
const INTEGRATIONS_PARTITION = 'INTS';
const projectsPartition = (integration: string) => `PRJS#${integration}`;
const SUMMARY_ATTRIBUTES = [
  ...['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'integration', 'deliveryId', 'provider'],
  ...['eventKey', 'receivedAt', 'status', 'repositoryId', 'projectId', 'decisions', 'replayOf'],
];
const SUMMARY_PROJECTION = SUMMARY_ATTRIBUTES.map((name) => `#${name}`).join(', ');
const SUMMARY_NAMES = Object.fromEntries(SUMMARY_ATTRIBUTES.map((name) => [`#${name}`, name]));

/**
 * The Store on one DynamoDB table (DESIGN §7), with hand-written marshalling to keep the Lambda
 * bundles small. Every SDK fault becomes a DependencyError; conditional failures become the
 * domain errors the Store interface names.
 */
export class DynamoStore implements Store {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async getIntegration(name: string): Promise<IntegrationRecord | undefined> {
    return recordOf<IntegrationRecord>(await this.get(`INT#${name}`));
  }

  async putIntegration(record: IntegrationRecord): Promise<void> {
    await this.put(integrationItem(record));
  }

  async createDelivery(delivery: NewDelivery, ttlDays: number): Promise<void> {
    const { integration, deliveryId, receivedAt } = delivery;
    const item: Item = {
      ...toItem({ ...delivery, status: 'received' }),
      ...key(deliveryKey(integration, deliveryId)),
      expiresAt: toAttr(epochSeconds(receivedAt) + ttlDays * DAY_SECONDS),
      gsi2pk: toAttr(`DLVI#${integration}`),
      gsi2sk: toAttr(`${receivedAt}#${deliveryId}`),
    };
    // A second attempt only when the first record vanished between our put and our read (an
    // undo by deleteDelivery); then this delivery is new after all.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.put(item, 'attribute_not_exists(pk)')) return;
      const existing = await this.getDelivery(integration, deliveryId);
      if (existing) throw new DuplicateDeliveryError(deliveryId, existing.status, existing.receivedAt);
    }
    throw new DependencyError('storage unavailable: delivery record kept changing');
  }

  async getDelivery(integration: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const item = await this.get(deliveryKey(integration, deliveryId));
    return item ? deliveryOf(item) : undefined;
  }

  async deleteDelivery(integration: string, deliveryId: string): Promise<void> {
    // Only an undecided delivery may be undone; a failed condition means there is nothing to undo.
    await conditional(
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: key(deliveryKey(integration, deliveryId)),
          ConditionExpression: '#status = :received',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':received': toAttr('received') },
        }),
      ),
    );
  }

  async saveDecisions(
    integration: string,
    deliveryId: string,
    outcome: {
      status: 'decided' | 'invalid';
      decisions: Decision[];
      projectId?: string;
      error?: string;
      at: string;
    },
  ): Promise<void> {
    const set: Record<string, unknown> = {
      status: outcome.status,
      decisions: JSON.stringify(outcome.decisions),
      decidedAt: outcome.at,
      projectId: outcome.projectId,
      error: outcome.error,
    };
    // The project index (gsi1) wants `{receivedAt}#{deliveryId}` as its sort key, exactly what
    // gsi2sk already holds; DynamoDB copies it server-side, so no read and no receivedAt argument.
    const extra = outcome.projectId ? ['#gsi1sk = #gsi2sk'] : [];
    if (outcome.projectId) set.gsi1pk = `DLVP#${outcome.projectId}`;
    const done = await this.update(deliveryKey(integration, deliveryId), set, '#status = :received', extra, {
      ':received': 'received',
    });
    if (!done) throw new DeliveryStateError(`delivery ${deliveryId} is not awaiting decisions`);
  }

  async markProcessed(integration: string, deliveryId: string, at: string): Promise<void> {
    // The condition stops UpdateItem from creating a stray item for a delivery that is gone.
    const done = await this.update(
      deliveryKey(integration, deliveryId),
      { status: 'processed', processedAt: at },
      'attribute_exists(pk)',
    );
    if (!done) throw new DeliveryStateError(`delivery ${deliveryId} is not recorded`);
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    return recordOf<ProjectRecord>(await this.get(`PRJ#${id}`));
  }

  async putProject(project: ProjectRecord): Promise<void> {
    // Project first: a mapping never points at a project that is not there.
    await this.put(projectItem(project));
    await this.put({
      ...key(`REPO#${project.integration}#${project.repositoryId}`),
      projectId: toAttr(project.id),
    });
  }

  async findProjectByRepository(
    integration: string,
    repositoryId: string,
  ): Promise<ProjectRecord | undefined> {
    const mapping = recordOf<{ projectId: string }>(await this.get(`REPO#${integration}#${repositoryId}`));
    return mapping ? this.getProject(mapping.projectId) : undefined;
  }

  /** A project disconnected meanwhile is left alone: there is nothing left to rename. */
  async updateProjectRepository(
    id: string,
    repository: { fullName: string; cloneUrls: ProjectRecord['cloneUrls']; at: string },
  ): Promise<void> {
    await this.update(
      `PRJ#${id}`,
      { fullName: repository.fullName, cloneUrls: repository.cloneUrls, updatedAt: repository.at },
      'attribute_exists(pk)',
    );
  }

  async listOpenPullRequests(projectId: string): Promise<OpenPullRequest[]> {
    const open: OpenPullRequest[] = [];
    let startKey: Item | undefined;
    do {
      const page = await storage(
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :open)',
            ExpressionAttributeValues: { ':pk': toAttr(`PRJ#${projectId}`), ':open': toAttr('OPEN#') },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const { id, sourceBranch, sourceCommit, fromFork, draft } = recordOf<OpenPullRequest>(
          item,
        ) as OpenPullRequest;
        open.push({ id, sourceBranch, sourceCommit, fromFork, draft });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return open;
  }

  async recordPullRequest(projectId: string, pr: PullRequestRecord): Promise<void> {
    const pk = `PRJ#${projectId}`;
    const openSk = `OPEN#${pr.sourceBranch}#${pr.id}`;
    // The PR item first either way: a crash before the second write leaves a state a retry fixes.
    await this.put({ ...toItem(pr), ...key(pk, `PR#${pr.id}`) });
    if (pr.state === 'open') {
      const { id, sourceBranch, sourceCommit, fromFork, draft } = pr;
      await this.put({ ...toItem({ id, sourceBranch, sourceCommit, fromFork, draft }), ...key(pk, openSk) });
    } else {
      await storage(
        this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(pk, openSk) })),
      );
    }
  }

  async claimTrigger(
    triggerId: string,
    claim: { projectId: string; deliveryId: string; at: string },
  ): Promise<TriggerClaim> {
    const item: Item = {
      ...toItem({ triggerId, status: 'pending', projectId: claim.projectId, deliveryId: claim.deliveryId }),
      claimedAt: toAttr(claim.at),
      ...key(`TRG#${triggerId}`),
      expiresAt: toAttr(epochSeconds(claim.at) + TRIGGER_TTL_DAYS * DAY_SECONDS),
    };
    // As in createDelivery: retry only if the earlier claim disappeared before we could read it.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.put(item, 'attribute_not_exists(pk)')) return 'claimed';
      const existing = recordOf<{ status: string }>(await this.get(`TRG#${triggerId}`));
      if (existing) return existing.status === 'sent' ? 'sent' : 'pending';
    }
    throw new DependencyError('storage unavailable: trigger claim kept changing');
  }

  async markTriggerSent(triggerId: string, at: string): Promise<void> {
    // No condition: "sent" is true whatever happened to the claim, and if_not_exists keeps even a
    // recreated item expiring.
    await this.update(
      `TRG#${triggerId}`,
      { status: 'sent', sentAt: at },
      undefined,
      ['#expiresAt = if_not_exists(#expiresAt, :expiresAt)'],
      { ':expiresAt': epochSeconds(at) + TRIGGER_TTL_DAYS * DAY_SECONDS },
    );
  }

  async createIntegration(record: IntegrationRecord): Promise<boolean> {
    return this.put(integrationItem(record), 'attribute_not_exists(pk) OR #status = :deleted', {
      ':deleted': 'deleted',
    });
  }

  async replaceIntegration(record: IntegrationRecord, expectedVersion: number): Promise<boolean> {
    return this.put(integrationItem(record), '#version = :expected', { ':expected': expectedVersion });
  }

  async listIntegrations(): Promise<IntegrationRecord[]> {
    const items = await this.queryAll('gsi1', 'gsi1pk', INTEGRATIONS_PARTITION);
    return items.map((item) => recordOf<IntegrationRecord>(item) as IntegrationRecord);
  }

  async getDefaultMarker(provider: Provider): Promise<DefaultMarker | undefined> {
    return recordOf<DefaultMarker>(await this.get(`DEFAULT#${provider}`));
  }

  async claimDefault(
    provider: Provider,
    integration: string,
    at: string,
    takeOverFrom?: string,
  ): Promise<boolean> {
    const item = { ...toItem({ provider, integration, claimedAt: at }), ...key(`DEFAULT#${provider}`) };
    return takeOverFrom
      ? this.put(item, '#integration = :stale', { ':stale': takeOverFrom })
      : this.put(item, 'attribute_not_exists(pk) OR #integration = :me', { ':me': integration });
  }

  async releaseDefault(provider: Provider, integration: string): Promise<void> {
    await this.deleteIf(key(`DEFAULT#${provider}`), '#integration = :me', { ':me': integration });
  }

  async acquireLease(name: string, owner: string, at: Date, ttlSeconds: number): Promise<boolean> {
    const now = Math.floor(at.getTime() / 1000);
    const item: Item = {
      ...toItem({ owner, leaseUntil: now + ttlSeconds }),
      ...key(`LEASE#${name}`),
      // Leases are short; TTL only tidies up those a crash left behind.
      expiresAt: toAttr(now + DAY_SECONDS),
    };
    return this.put(item, 'attribute_not_exists(pk) OR #leaseUntil < :now', { ':now': now });
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.deleteIf(key(`LEASE#${name}`), '#owner = :owner', { ':owner': owner });
  }

  async listProjects(integration: string): Promise<ProjectRecord[]> {
    const items = await this.queryAll('gsi1', 'gsi1pk', projectsPartition(integration));
    return items.map((item) => recordOf<ProjectRecord>(item) as ProjectRecord);
  }

  async replaceProject(project: ProjectRecord, expectedUpdatedAt: string): Promise<boolean> {
    return this.put(projectItem(project), '#updatedAt = :expected', { ':expected': expectedUpdatedAt });
  }

  async removeRepositoryMapping(integration: string, repositoryId: string, projectId: string): Promise<void> {
    await this.deleteIf(key(`REPO#${integration}#${repositoryId}`), '#projectId = :id', { ':id': projectId });
  }

  async deleteProject(project: ProjectRecord): Promise<void> {
    // Mapping first, so deliveries stop matching before anything else goes; the project item
    // last, so a crash leaves a project that a second delete finishes.
    await this.removeRepositoryMapping(project.integration, project.repositoryId, project.id);
    const items = await this.queryAll(undefined, 'pk', `PRJ#${project.id}`);
    for (const item of items) {
      if (item.sk?.S === META) continue;
      await storage(
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue },
          }),
        ),
      );
    }
    await storage(
      this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: key(`PRJ#${project.id}`) })),
    );
  }

  async listDeliveries(query: DeliveryQuery): Promise<DeliveryPage> {
    const [index, partition] = query.projectId
      ? (['gsi1', `DLVP#${query.projectId}`] as const)
      : (['gsi2', `DLVI#${query.integration ?? ''}`] as const);
    const names = [`${index}pk`, `${index}sk`] as const;
    const page = await storage(
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: `${names[0]} = :pk`,
          ExpressionAttributeValues: { ':pk': toAttr(partition) },
          // Bodies and headers stay behind: a page of large payloads would hit the 1 MB limit.
          ProjectionExpression: SUMMARY_PROJECTION,
          ExpressionAttributeNames: SUMMARY_NAMES,
          ScanIndexForward: false,
          // One more than asked: tells whether a next page exists, so the last page has no `next`.
          Limit: query.limit + 1,
          ExclusiveStartKey: query.cursor ? decodeCursor(query.cursor, names, partition) : undefined,
        }),
      ),
    );
    const items = (page.Items ?? []).slice(0, query.limit);
    const last = items[items.length - 1];
    // DynamoDB also stops at 1 MB: then there may be more even with fewer items than asked.
    const more = (page.Items?.length ?? 0) > query.limit || page.LastEvaluatedKey !== undefined;
    return {
      items: items.map((item) => deliveryOf(item) as DeliverySummary),
      ...(more && last ? { next: encodeCursor(last, names) } : {}),
    };
  }

  /** Every item of one partition of the table or an index, following pages. */
  private async queryAll(index: string | undefined, partitionKey: string, value: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await storage(
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: `${partitionKey} = :pk`,
            ExpressionAttributeValues: { ':pk': toAttr(value) },
            ...(index ? {} : { ConsistentRead: true }),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Deletes an item if `condition` holds; nothing happens otherwise. */
  private async deleteIf(itemKey: Item, condition: string, values: Record<string, unknown>): Promise<void> {
    await conditional(
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: itemKey,
          ConditionExpression: condition,
          ExpressionAttributeNames: namesOf(condition),
          ExpressionAttributeValues: valuesOf(values),
        }),
      ),
    );
  }

  private async get(pk: string, sk = META): Promise<Item | undefined> {
    const result = await storage(
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(pk, sk), ConsistentRead: true }),
      ),
    );
    return result.Item;
  }

  /** Puts an item; false when `condition` (whose `#names` are attribute names) failed. */
  private put(item: Item, condition?: string, values?: Record<string, unknown>): Promise<boolean> {
    const names = condition ? namesOf(condition) : undefined;
    return conditional(
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: condition,
          ...(names ? { ExpressionAttributeNames: names } : {}),
          ...(values ? { ExpressionAttributeValues: valuesOf(values) } : {}),
        }),
      ),
    );
  }

  /**
   * Sets the defined attributes of `set` (undefined ones are left alone) plus `extra` clauses;
   * false when `condition` failed. Every attribute goes through a `#name` so reserved words
   * such as `status` need no care.
   */
  private update(
    pk: string,
    set: Record<string, unknown>,
    condition?: string,
    extra: string[] = [],
    values: Record<string, unknown> = {},
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const attrs: Item = {};
    const clauses: string[] = [];
    for (const [name, value] of Object.entries(set)) {
      if (value === undefined) continue;
      names[`#${name}`] = name;
      attrs[`:${name}`] = toAttr(value);
      clauses.push(`#${name} = :${name}`);
    }
    for (const text of [...extra, condition ?? '']) {
      for (const match of text.matchAll(/#(\w+)/g)) names[match[0]] = match[1] as string;
    }
    for (const [name, value] of Object.entries(values)) attrs[name] = toAttr(value);
    return conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(pk),
          UpdateExpression: `SET ${[...clauses, ...extra].join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: attrs,
        }),
      ),
    );
  }
}

function integrationItem(record: IntegrationRecord): Item {
  return {
    ...toItem(record),
    ...key(`INT#${record.name}`),
    gsi1pk: toAttr(INTEGRATIONS_PARTITION),
    gsi1sk: toAttr(record.name),
  };
}

function projectItem(project: ProjectRecord): Item {
  return {
    ...toItem(project),
    ...key(`PRJ#${project.id}`),
    gsi1pk: toAttr(projectsPartition(project.integration)),
    gsi1sk: toAttr(project.id),
  };
}

function deliveryOf(item: Item): DeliveryRecord {
  const record = recordOf<DeliveryRecord & { decisions?: unknown }>(item) as DeliveryRecord;
  if (typeof record.decisions === 'string') record.decisions = JSON.parse(record.decisions) as Decision[];
  return record;
}

/** `#name` placeholders of an expression, mapped to the attribute names; undefined when none. */
function namesOf(expression: string): Record<string, string> | undefined {
  const names: Record<string, string> = {};
  for (const match of expression.matchAll(/#(\w+)/g)) names[match[0]] = match[1] as string;
  return Object.keys(names).length ? names : undefined;
}

function valuesOf(values: Record<string, unknown>): Item {
  const attrs: Item = {};
  for (const [name, value] of Object.entries(values)) attrs[name] = toAttr(value);
  return attrs;
}

/** A page cursor: the index key of the last item returned, base64url JSON. */
function encodeCursor(item: Item, names: readonly [string, string]): string {
  const cursor = { pk: item.pk?.S, sk: item.sk?.S, p: item[names[0]]?.S, s: item[names[1]]?.S };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(cursor: string, names: readonly [string, string], partition: string): Item {
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const { pk, sk, p, s } = parsed ?? {};
  // Only a cursor of this very listing: another index or partition would list something else.
  if (typeof pk !== 'string' || typeof sk !== 'string' || p !== partition || typeof s !== 'string') {
    throw new ValidationError('invalid cursor: pass the `next` value of the previous page unchanged');
  }
  return { pk: toAttr(pk), sk: toAttr(sk), [names[0]]: toAttr(p), [names[1]]: toAttr(s) };
}

function key(pk: string, sk = META): Item {
  return { pk: { S: pk }, sk: { S: sk } };
}

function deliveryKey(integration: string, deliveryId: string): string {
  return `DLV#${integration}#${deliveryId}`;
}

function epochSeconds(iso: string): number {
  const ms = Date.parse(iso);
  // An unparseable time must not make an item that never expires; count from now instead.
  return Math.floor((Number.isNaN(ms) ? Date.now() : ms) / 1000);
}

/** Waits for a call, turning any failure into a DependencyError. */
async function storage<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (cause) {
    throw new DependencyError('storage unavailable', { cause });
  }
}

/** Waits for a conditional write: true when written, false when its condition failed. */
async function conditional(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return true;
  } catch (cause) {
    if (cause instanceof ConditionalCheckFailedException) return false;
    throw new DependencyError('storage unavailable', { cause });
  }
}

function toItem(record: object): Item {
  const item: Item = {};
  for (const [name, value] of Object.entries(record)) {
    if (value !== undefined) item[name] = toAttr(value);
  }
  return item;
}

function toAttr(value: unknown): AttributeValue {
  if (value === null) return { NULL: true };
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (value instanceof Uint8Array) return { B: value };
  if (Array.isArray(value)) return { L: value.map((entry) => toAttr(entry ?? null)) };
  if (typeof value === 'object') return { M: toItem(value) };
  throw new TypeError(`cannot store a value of type ${typeof value}`);
}

function fromAttr(attr: AttributeValue): unknown {
  if (attr.S !== undefined) return attr.S;
  if (attr.N !== undefined) return Number(attr.N);
  if (attr.BOOL !== undefined) return attr.BOOL;
  if (attr.B !== undefined) return attr.B;
  if (attr.L !== undefined) return attr.L.map(fromAttr);
  if (attr.M !== undefined) return fromItem(attr.M);
  return null;
}

function fromItem(item: Item): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(item)) record[name] = fromAttr(attr);
  return record;
}

/** The record an item holds, without its keys and bookkeeping attributes. */
function recordOf<T>(item: Item | undefined): T | undefined {
  if (!item) return undefined;
  const record = fromItem(item);
  for (const name of INTERNAL) delete record[name];
  return record as T;
}
