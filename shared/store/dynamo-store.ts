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
import type { OpenPullRequest } from '../domain/rules';
import { DeliveryStateError, DependencyError, DuplicateDeliveryError } from '../errors';
import type {
  DeliveryRecord,
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
    await this.put({ ...toItem(record), ...key(`INT#${record.name}`) });
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
    const record = recordOf<DeliveryRecord & { decisions?: unknown }>(
      await this.get(deliveryKey(integration, deliveryId)),
    );
    if (record && typeof record.decisions === 'string') {
      record.decisions = JSON.parse(record.decisions) as Decision[];
    }
    return record;
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
    await this.put({ ...toItem(project), ...key(`PRJ#${project.id}`) });
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

  private async get(pk: string, sk = META): Promise<Item | undefined> {
    const result = await storage(
      this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(pk, sk), ConsistentRead: true }),
      ),
    );
    return result.Item;
  }

  /** Puts an item; false when `condition` failed. */
  private put(item: Item, condition?: string): Promise<boolean> {
    return conditional(
      this.client.send(
        new PutItemCommand({ TableName: this.tableName, Item: item, ConditionExpression: condition }),
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
