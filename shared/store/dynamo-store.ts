import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Provider } from '../domain/events';
import { DependencyError, ValidationError } from '../errors';
import { DynamoIngestStore } from './dynamo-ingest-store';
import {
  conditional,
  DAY_SECONDS,
  deliveryOf,
  type Item,
  integrationItem,
  key,
  namesOf,
  projectItem,
  recordOf,
  storage,
  toAttr,
  toItem,
  valuesOf,
} from './dynamo-items';
import {
  ALL_INTEGRATIONS_KEY,
  defaultMarkerKey,
  deliveriesByIntegrationKey,
  deliveriesByProjectKey,
  leaseKey,
  META,
  projectKey,
  projectsByIntegrationKey,
  repositoryMappingKey,
} from './keys';
import type {
  DefaultMarker,
  DeliveryPage,
  DeliveryQuery,
  DeliverySummary,
  IntegrationRecord,
  ProjectRecord,
  Store,
} from './store';

/** BatchGetItem takes at most 100 keys; unprocessed ones are asked again a few times. */
const BATCH_GET_LIMIT = 100;
const BATCH_GET_ROUNDS = 5;

/**
 * The whole Store on one DynamoDB table: the ingest operations plus the admin API's. Only the
 * admin function and local mode bundle this part.
 */
export class DynamoStore extends DynamoIngestStore implements Store {
  async createIntegration(record: IntegrationRecord): Promise<boolean> {
    return this.put(integrationItem(record), 'attribute_not_exists(pk) OR #status = :deleted', {
      ':deleted': 'deleted',
    });
  }

  async replaceIntegration(record: IntegrationRecord, expectedVersion: number): Promise<boolean> {
    return this.put(integrationItem(record), '#version = :expected', { ':expected': expectedVersion });
  }

  async listIntegrations(): Promise<IntegrationRecord[]> {
    const items = await this.fetchAll(await this.queryAll('gsi1', 'gsi1pk', ALL_INTEGRATIONS_KEY));
    return items.map((item) => recordOf<IntegrationRecord>(item) as IntegrationRecord);
  }

  async getDefaultMarker(provider: Provider): Promise<DefaultMarker | undefined> {
    return recordOf<DefaultMarker>(await this.get(defaultMarkerKey(provider)));
  }

  async claimDefault(
    provider: Provider,
    integration: string,
    at: string,
    takeOverFrom?: string,
  ): Promise<boolean> {
    const item = { ...toItem({ provider, integration, claimedAt: at }), ...key(defaultMarkerKey(provider)) };
    return takeOverFrom
      ? this.put(item, '#integration = :stale', { ':stale': takeOverFrom })
      : this.put(item, 'attribute_not_exists(pk) OR #integration = :me', { ':me': integration });
  }

  async releaseDefault(provider: Provider, integration: string): Promise<void> {
    await this.deleteIf(key(defaultMarkerKey(provider)), '#integration = :me', { ':me': integration });
  }

  async acquireLease(name: string, owner: string, at: Date, ttlSeconds: number): Promise<boolean> {
    const now = Math.floor(at.getTime() / 1000);
    const item: Item = {
      ...toItem({ owner, leaseUntil: now + ttlSeconds }),
      ...key(leaseKey(name)),
      // Leases are short; TTL only tidies up those a crash left behind.
      expiresAt: toAttr(now + DAY_SECONDS),
    };
    return this.put(item, 'attribute_not_exists(pk) OR #leaseUntil < :now', { ':now': now });
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.deleteIf(key(leaseKey(name)), '#owner = :owner', { ':owner': owner });
  }

  async listProjects(integration: string): Promise<ProjectRecord[]> {
    const items = await this.fetchAll(
      await this.queryAll('gsi1', 'gsi1pk', projectsByIntegrationKey(integration)),
    );
    return items.map((item) => recordOf<ProjectRecord>(item) as ProjectRecord);
  }

  async replaceProject(project: ProjectRecord, expectedUpdatedAt: string): Promise<boolean> {
    return this.put(projectItem(project), '#updatedAt = :expected', { ':expected': expectedUpdatedAt });
  }

  async removeRepositoryMapping(integration: string, repositoryId: string, projectId: string): Promise<void> {
    await this.deleteIf(key(repositoryMappingKey(integration, repositoryId)), '#projectId = :id', {
      ':id': projectId,
    });
  }

  async deleteProject(project: ProjectRecord): Promise<void> {
    // Mapping first, so deliveries stop matching before anything else goes; the project item
    // last, so a crash leaves a project that a second delete finishes.
    await this.removeRepositoryMapping(project.integration, project.repositoryId, project.id);
    const items = await this.queryAll(undefined, 'pk', projectKey(project.id));
    for (const item of items) {
      if (item.sk?.S === META) continue;
      await storage(
        this.dynamo.deleteItem({
          TableName: this.tableName,
          Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue },
        }),
      );
    }
    await storage(this.dynamo.deleteItem({ TableName: this.tableName, Key: key(projectKey(project.id)) }));
  }

  async listDeliveries(query: DeliveryQuery): Promise<DeliveryPage> {
    const [index, partition] = query.projectId
      ? (['gsi1', deliveriesByProjectKey(query.projectId)] as const)
      : (['gsi2', deliveriesByIntegrationKey(query.integration ?? '')] as const);
    const names = [`${index}pk`, `${index}sk`] as const;
    const page = await storage(
      this.dynamo.query({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: `${names[0]} = :pk`,
        ExpressionAttributeValues: { ':pk': toAttr(partition) },
        ScanIndexForward: false,
        // One more than asked: tells whether a next page exists, so the last page has no `next`.
        Limit: query.limit + 1,
        ExclusiveStartKey: query.cursor ? decodeCursor(query.cursor, names, partition) : undefined,
      }),
    );
    const items = (page.Items ?? []).slice(0, query.limit);
    // The indexes hold the summary but not the decisions (shared/store/table.ts): those come
    // from the table, one BatchGetItem per page, without bodies or headers.
    const stored = new Map(
      (await this.fetchAll(items, 'pk, sk, decisions, decisionsGzip, alreadySent')).map((item) => [
        item.pk?.S,
        item,
      ]),
    );
    for (const item of items) {
      const full = stored.get(item.pk?.S);
      if (full?.decisions) item.decisions = full.decisions;
      if (full?.decisionsGzip) item.decisionsGzip = full.decisionsGzip;
      if (full?.alreadySent) item.alreadySent = full.alreadySent;
    }
    const last = items[items.length - 1];
    // DynamoDB also stops at 1 MB: then there may be more even with fewer items than asked.
    const more = (page.Items?.length ?? 0) > query.limit || page.LastEvaluatedKey !== undefined;
    return {
      items: items.map((item) => deliveryOf(item) as DeliverySummary),
      ...(more && last ? { next: encodeCursor(last, names) } : {}),
    };
  }

  /**
   * The table's items for index entries (by their `pk`/`sk`), in the entries' order; an item
   * deleted meanwhile is left out. `projection` names the attributes to fetch (all without; it must name `pk` and `sk`).
   */
  private async fetchAll(entries: Item[], projection?: string): Promise<Item[]> {
    const found = new Map<string, Item>();
    const id = (item: Item) => `${item.pk?.S}\n${item.sk?.S}`;
    // BatchGetItem refuses a request that names one key twice (ValidationException), and a page of
    // the index has been seen naming one item twice: on dynalite, after a kill -9 and a restart
    // under load (test/local/crash.test.ts).
    const distinct = [...new Map(entries.map((entry) => [id(entry), entry])).values()];
    for (let start = 0; start < distinct.length; start += BATCH_GET_LIMIT) {
      let keys: Item[] = distinct
        .slice(start, start + BATCH_GET_LIMIT)
        .map((entry) => ({ pk: entry.pk as AttributeValue, sk: entry.sk as AttributeValue }));
      for (let round = 0; keys.length > 0; round++) {
        if (round === BATCH_GET_ROUNDS)
          throw new DependencyError('storage unavailable: reads kept being throttled');
        const result = await storage(
          this.dynamo.batchGetItem({
            RequestItems: {
              [this.tableName]: { Keys: keys, ...(projection ? { ProjectionExpression: projection } : {}) },
            },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) found.set(id(item), item);
        keys = result.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return entries.flatMap((entry) => {
      const item = found.get(id(entry));
      return item ? [item] : [];
    });
  }

  /** Every item of one partition of the table or an index, following pages. */
  private async queryAll(index: string | undefined, partitionKey: string, value: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await storage(
        this.dynamo.query({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: `${partitionKey} = :pk`,
          ExpressionAttributeValues: { ':pk': toAttr(value) },
          ...(index ? {} : { ConsistentRead: true }),
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** Deletes an item if `condition` holds; nothing happens otherwise. */
  private async deleteIf(itemKey: Item, condition: string, values: Record<string, unknown>): Promise<void> {
    await conditional(
      this.dynamo.deleteItem({
        TableName: this.tableName,
        Key: itemKey,
        ConditionExpression: condition,
        ExpressionAttributeNames: namesOf(condition),
        ExpressionAttributeValues: valuesOf(values),
      }),
    );
  }
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
