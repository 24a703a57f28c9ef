import { randomUUID } from 'node:crypto';
import type { Decision } from '../domain/decision';
import type { OpenPullRequest } from '../domain/rules';
import { DeliveryStateError, DependencyError, UnstorableValueError } from '../errors';
import type { DynamoApi } from './dynamo-api';
import {
  conditional,
  DAY_SECONDS,
  DECISIONS_PART_BYTES,
  decisionPartsOf,
  decodeDecisions,
  deliveryOf,
  encodeDecisions,
  epochSeconds,
  INLINE_DECISIONS_MAX_BYTES,
  type Item,
  integrationItem,
  key,
  namesOf,
  projectItem,
  recordOf,
  storage,
  storageError,
  toAttr,
  toItem,
  valuesOf,
} from './dynamo-items';
import {
  DECISIONS_PART_PREFIX,
  decisionsPartIndexOf,
  decisionsPartSortKey,
  deliveriesByIntegrationKey,
  deliveriesByProjectKey,
  deliveryKey,
  integrationKey,
  META,
  OPEN_PULL_REQUEST_PREFIX,
  openPullRequestSortKey,
  projectKey,
  pullRequestSortKey,
  receivedSortKey,
  repositoryMappingKey,
  triggerKey,
} from './keys';
import type {
  CreateDeliveryResult,
  DeliveryRecord,
  IngestStore,
  IntegrationRecord,
  NewDelivery,
  ProjectRecord,
  PullRequestRecord,
  TriggerClaim,
} from './store';

const TRIGGER_TTL_DAYS = 7;
/** The attribute holding the token of the createDelivery call that wrote a delivery item. */
const ACCEPT_TOKEN = 'acceptToken';
const MISSING_ITEM = Symbol('missing item');
/** The longest error text kept on a delivery: enough to say why, never a payload. */
const MAX_ERROR_CHARS = 1_000;

/**
 * The IngestStore on one DynamoDB table (DESIGN §7): what the webhook and processor functions
 * use, and all they bundle. Every SDK fault becomes a DependencyError; conditional failures
 * become the domain errors the interface names.
 */
export class DynamoIngestStore implements IngestStore {
  constructor(
    protected readonly dynamo: DynamoApi,
    protected readonly tableName: string,
  ) {}

  async getIntegration(name: string): Promise<IntegrationRecord | undefined> {
    return recordOf<IntegrationRecord>(await this.get(integrationKey(name)));
  }

  async putIntegration(record: IntegrationRecord): Promise<void> {
    await this.put(integrationItem(record));
  }

  async createDelivery(delivery: NewDelivery, ttlDays: number): Promise<CreateDeliveryResult> {
    const { integration, deliveryId, receivedAt } = delivery;
    // A token of this call, written into the item: when a retried PutItem finds the item there,
    // the token says whether our own first attempt wrote it (its reply was lost) or another request.
    const token = randomUUID();
    const item: Item = {
      ...toItem({ ...delivery, status: 'received' }),
      ...key(deliveryKey(integration, deliveryId)),
      [ACCEPT_TOKEN]: toAttr(token),
      expiresAt: toAttr(epochSeconds(receivedAt) + ttlDays * DAY_SECONDS),
      gsi2pk: toAttr(deliveriesByIntegrationKey(integration)),
      gsi2sk: toAttr(receivedSortKey(receivedAt, deliveryId)),
    };
    // A second attempt only when the first record vanished between our put and our read (an
    // undo by deleteDelivery, as replay does); then this delivery is new after all.
    for (let attempt = 0; attempt < 2; attempt++) {
      const found = await this.putNew(item);
      if (!found) return { created: true };
      const existing = found === MISSING_ITEM ? await this.get(deliveryKey(integration, deliveryId)) : found;
      if (!existing) continue;
      if (existing[ACCEPT_TOKEN]?.S === token) return { created: true };
      const record = deliveryOf(existing);
      return { created: false, status: record.status, receivedAt: record.receivedAt };
    }
    throw new DependencyError('storage unavailable: delivery record kept changing');
  }

  /**
   * Puts an item that must not exist yet: undefined when written, else the item in the way, as
   * DynamoDB returns it with the failed condition (MISSING_ITEM when it did not: dynalite).
   */
  private async putNew(item: Item): Promise<Item | typeof MISSING_ITEM | undefined> {
    try {
      await this.dynamo.putItem({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return undefined;
    } catch (cause) {
      const error = cause as { name?: string; Item?: Item; details?: { Item?: Item } } | undefined;
      if (error?.name !== 'ConditionalCheckFailedException') {
        throw new DependencyError('storage unavailable', { cause });
      }
      // The SDK puts the item on the exception; AwsJsonClient keeps the whole error document.
      return error.Item ?? error.details?.Item ?? MISSING_ITEM;
    }
  }

  async getDelivery(integration: string, deliveryId: string): Promise<DeliveryRecord | undefined> {
    const pk = deliveryKey(integration, deliveryId);
    const item = await this.get(pk);
    if (!item) return undefined;
    const record = deliveryOf(item);
    const parts = decisionPartsOf(item);
    if (parts > 0) record.decisions = await this.readDecisionParts(pk, parts);
    return record;
  }

  async deleteDelivery(integration: string, deliveryId: string): Promise<void> {
    // Only an undecided delivery may be undone; a failed condition means there is nothing to undo.
    await conditional(
      this.dynamo.deleteItem({
        TableName: this.tableName,
        Key: key(deliveryKey(integration, deliveryId)),
        ConditionExpression: '#status = :received',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':received': toAttr('received') },
      }),
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
    const pk = deliveryKey(integration, deliveryId);
    const gzip = encodeDecisions(outcome.decisions);
    if (gzip.length <= INLINE_DECISIONS_MAX_BYTES) {
      try {
        return await this.updateDecided(pk, deliveryId, outcome, { decisionsGzip: gzip });
      } catch (error) {
        // The gzipped body leaves no room beside them: the decisions go to parts after all.
        if (!(error instanceof UnstorableValueError)) throw error;
      }
    }
    const parts = await this.writeDecisionParts(pk, deliveryId, gzip);
    await this.updateDecided(pk, deliveryId, outcome, { decisionsParts: parts });
  }

  private async updateDecided(
    pk: string,
    deliveryId: string,
    outcome: { status: 'decided' | 'invalid'; projectId?: string; error?: string; at: string },
    decisions: { decisionsGzip: Uint8Array } | { decisionsParts: number },
  ): Promise<void> {
    const set: Record<string, unknown> = {
      status: outcome.status,
      ...decisions,
      decidedAt: outcome.at,
      projectId: outcome.projectId,
      error: outcome.error?.slice(0, MAX_ERROR_CHARS),
    };
    // The project index (gsi1) wants `receivedSortKey` as its sort key, exactly what
    // gsi2sk already holds; DynamoDB copies it server-side, so no read and no receivedAt argument.
    const extra = outcome.projectId ? ['#gsi1sk = #gsi2sk'] : [];
    if (outcome.projectId) set.gsi1pk = deliveriesByProjectKey(outcome.projectId);
    const done = await this.update(pk, set, '#status = :received', extra, { ':received': 'received' });
    if (!done) throw new DeliveryStateError(`delivery ${deliveryId} is not awaiting decisions`);
  }

  /**
   * Writes gzipped decisions too large for the delivery item as part items of its partition, with
   * the delivery's expiry, before the delivery item points at them: a crash in between leaves
   * parts nobody reads, which the retry overwrites. Answers the number of parts.
   */
  private async writeDecisionParts(pk: string, deliveryId: string, gzip: Uint8Array): Promise<number> {
    const head = await this.get(pk);
    if (head?.status?.S !== 'received')
      throw new DeliveryStateError(`delivery ${deliveryId} is not awaiting decisions`);
    const parts = Math.ceil(gzip.length / DECISIONS_PART_BYTES);
    for (let index = 0; index < parts; index++) {
      const bytes = gzip.subarray(index * DECISIONS_PART_BYTES, (index + 1) * DECISIONS_PART_BYTES);
      await this.put({
        ...key(pk, decisionsPartSortKey(index)),
        part: toAttr(bytes),
        ...(head.expiresAt ? { expiresAt: head.expiresAt } : {}),
      });
    }
    return parts;
  }

  private async readDecisionParts(pk: string, parts: number): Promise<Decision[]> {
    const chunks: (Uint8Array | undefined)[] = new Array(parts);
    let startKey: Item | undefined;
    do {
      const page = await storage(
        this.dynamo.query({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
          ExpressionAttributeValues: { ':pk': toAttr(pk), ':part': toAttr(DECISIONS_PART_PREFIX) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const index = decisionsPartIndexOf(item.sk?.S ?? '');
        if (index < parts && item.part?.B) chunks[index] = item.part.B;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    if (chunks.some((chunk) => !chunk))
      throw new DependencyError(`storage unavailable: a part of the decisions of ${pk} is missing`);
    return decodeDecisions(Buffer.concat(chunks as Uint8Array[]));
  }

  async markProcessed(
    integration: string,
    deliveryId: string,
    at: string,
    alreadySent: readonly number[] = [],
  ): Promise<void> {
    const pk = deliveryKey(integration, deliveryId);
    const processed = { status: 'processed', processedAt: at };
    // The condition stops UpdateItem from creating a stray item for a delivery that is gone.
    let done: boolean;
    try {
      done = await this.update(pk, { ...processed, alreadySent: [...alreadySent] }, 'attribute_exists(pk)');
    } catch (error) {
      // A delivery item filled to the brim (its gzipped body and decisions) has no room for the
      // list: what is shown of a delivery must never fail its processing.
      if (!(error instanceof UnstorableValueError)) throw error;
      done = await this.update(pk, processed, 'attribute_exists(pk)');
    }
    if (!done) throw new DeliveryStateError(`delivery ${deliveryId} is not recorded`);
  }

  async markInvalid(
    integration: string,
    deliveryId: string,
    outcome: { error: string; at: string },
  ): Promise<void> {
    await this.update(
      deliveryKey(integration, deliveryId),
      { status: 'invalid', error: outcome.error.slice(0, MAX_ERROR_CHARS) },
      '#status IN (:received, :decided, :failed)',
      ['#decidedAt = if_not_exists(#decidedAt, :at)'],
      { ':received': 'received', ':decided': 'decided', ':failed': 'failed', ':at': outcome.at },
    );
  }

  async recordFailure(
    integration: string,
    deliveryId: string,
    failure: { error: string; at: string; parkAfter: number },
  ): Promise<{ failures: number; parked: boolean } | 'gone'> {
    const pk = deliveryKey(integration, deliveryId);
    const awaiting = '#status IN (:received, :decided)';
    const states = { ':received': 'received', ':decided': 'decided' };
    let output: Awaited<ReturnType<DynamoApi['updateItem']>>;
    try {
      output = await this.dynamo.updateItem({
        TableName: this.tableName,
        Key: key(pk),
        UpdateExpression:
          'SET #failures = if_not_exists(#failures, :zero) + :one, #error = :error, #failedAt = :at',
        ConditionExpression: awaiting,
        ExpressionAttributeNames: {
          '#failures': 'failures',
          '#error': 'error',
          '#failedAt': 'failedAt',
          '#status': 'status',
        },
        ExpressionAttributeValues: valuesOf({
          ':zero': 0,
          ':one': 1,
          ':error': failure.error.slice(0, MAX_ERROR_CHARS),
          ':at': failure.at,
          ...states,
        }),
        ReturnValues: 'UPDATED_NEW',
      });
    } catch (cause) {
      if ((cause as Error | undefined)?.name === 'ConditionalCheckFailedException') return 'gone';
      throw storageError(cause);
    }
    const failures = Number(output.Attributes?.failures?.N ?? 1);
    if (failures < failure.parkAfter) return { failures, parked: false };
    const parked = await this.update(pk, { status: 'failed' }, awaiting, [], states);
    return parked ? { failures, parked: true } : 'gone';
  }

  async resumeDelivery(
    integration: string,
    deliveryId: string,
    status: 'received' | 'decided',
  ): Promise<void> {
    const done = await this.update(
      deliveryKey(integration, deliveryId),
      { status, failures: 0 },
      '#status = :failed',
      [],
      {
        ':failed': 'failed',
      },
    );
    if (!done) throw new DeliveryStateError(`delivery ${deliveryId} is no longer failed`);
  }

  async getProject(id: string): Promise<ProjectRecord | undefined> {
    return recordOf<ProjectRecord>(await this.get(projectKey(id)));
  }

  async putProject(project: ProjectRecord): Promise<void> {
    // Project first: a mapping never points at a project that is not there.
    await this.put(projectItem(project));
    await this.put({
      ...key(repositoryMappingKey(project.integration, project.repositoryId)),
      projectId: toAttr(project.id),
    });
  }

  async findProjectByRepository(
    integration: string,
    repositoryId: string,
  ): Promise<ProjectRecord | undefined> {
    const mapping = recordOf<{ projectId: string }>(
      await this.get(repositoryMappingKey(integration, repositoryId)),
    );
    return mapping ? this.getProject(mapping.projectId) : undefined;
  }

  /** A project disconnected meanwhile is left alone: there is nothing left to rename. */
  async updateProjectRepository(
    id: string,
    repository: { fullName: string; cloneUrls: ProjectRecord['cloneUrls']; at: string },
  ): Promise<void> {
    await this.update(
      projectKey(id),
      { fullName: repository.fullName, cloneUrls: repository.cloneUrls, updatedAt: repository.at },
      'attribute_exists(pk)',
    );
  }

  async listOpenPullRequests(projectId: string): Promise<OpenPullRequest[]> {
    const open: OpenPullRequest[] = [];
    let startKey: Item | undefined;
    do {
      const page = await storage(
        this.dynamo.query({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :open)',
          ExpressionAttributeValues: {
            ':pk': toAttr(projectKey(projectId)),
            ':open': toAttr(OPEN_PULL_REQUEST_PREFIX),
          },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
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
    // A pull request id is part of two sort keys; `1e308` would be stored as `PR#1e+308`.
    if (!Number.isSafeInteger(pr.id) || pr.id < 1)
      throw new UnstorableValueError(`pull request id ${pr.id} is not a positive integer`);
    const pk = projectKey(projectId);
    const openSk = openPullRequestSortKey(pr.sourceBranch, pr.id);
    // The PR item first either way: a crash before the second write leaves a state a retry fixes.
    await this.put({ ...toItem(pr), ...key(pk, pullRequestSortKey(pr.id)) });
    if (pr.state === 'open') {
      const { id, sourceBranch, sourceCommit, fromFork, draft } = pr;
      await this.put({ ...toItem({ id, sourceBranch, sourceCommit, fromFork, draft }), ...key(pk, openSk) });
    } else {
      await storage(this.dynamo.deleteItem({ TableName: this.tableName, Key: key(pk, openSk) }));
    }
  }

  async claimTrigger(
    triggerId: string,
    claim: { projectId: string; deliveryId: string; at: string },
  ): Promise<TriggerClaim> {
    const item: Item = {
      ...toItem({ triggerId, status: 'pending', projectId: claim.projectId, deliveryId: claim.deliveryId }),
      claimedAt: toAttr(claim.at),
      ...key(triggerKey(triggerId)),
      expiresAt: toAttr(epochSeconds(claim.at) + TRIGGER_TTL_DAYS * DAY_SECONDS),
    };
    // As in createDelivery: retry only if the earlier claim disappeared before we could read it.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.put(item, 'attribute_not_exists(pk)')) return 'claimed';
      const existing = recordOf<{ status: string; deliveryId?: string }>(
        await this.get(triggerKey(triggerId)),
      );
      if (existing?.status === 'sent')
        return existing.deliveryId === claim.deliveryId ? 'sent-by-this-delivery' : 'sent';
      if (existing) return 'pending';
    }
    throw new DependencyError('storage unavailable: trigger claim kept changing');
  }

  async markTriggerSent(triggerId: string, at: string): Promise<void> {
    // No condition: "sent" is true whatever happened to the claim, and if_not_exists keeps even a
    // recreated item expiring.
    await this.update(
      triggerKey(triggerId),
      { status: 'sent', sentAt: at },
      undefined,
      ['#expiresAt = if_not_exists(#expiresAt, :expiresAt)'],
      { ':expiresAt': epochSeconds(at) + TRIGGER_TTL_DAYS * DAY_SECONDS },
    );
  }

  protected async get(pk: string, sk = META): Promise<Item | undefined> {
    const result = await storage(
      this.dynamo.getItem({ TableName: this.tableName, Key: key(pk, sk), ConsistentRead: true }),
    );
    return result.Item;
  }

  /** Puts an item; false when `condition` (whose `#names` are attribute names) failed. */
  protected put(item: Item, condition?: string, values?: Record<string, unknown>): Promise<boolean> {
    const names = condition ? namesOf(condition) : undefined;
    return conditional(
      this.dynamo.putItem({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: condition,
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ...(values ? { ExpressionAttributeValues: valuesOf(values) } : {}),
      }),
    );
  }

  /**
   * Sets the defined attributes of `set` (undefined ones are left alone) plus `extra` clauses;
   * false when `condition` failed. Every attribute goes through a `#name` so reserved words
   * such as `status` need no care.
   */
  protected update(
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
      this.dynamo.updateItem({
        TableName: this.tableName,
        Key: key(pk),
        UpdateExpression: `SET ${[...clauses, ...extra].join(', ')}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: attrs,
      }),
    );
  }
}
