import type { SweepCheckpoint, SweepPage, SweepStore } from '../ingest/sweep-deliveries';
import type { DynamoApi } from './dynamo-api';
import { type Item, key, recordOf, storage, toAttr, toItem } from './dynamo-items';
import { ALL_INTEGRATIONS_KEY, deliveriesByIntegrationKey, sweepCheckpointKey } from './keys';

/** Index attributes the sweep reads of a delivery; every index projects them (shared/store/table.ts). */
const DELIVERY_ATTRIBUTES = ['gsi2sk', 'integration', 'deliveryId', 'repositoryId', 'status', 'receivedAt'];

/**
 * The SweepStore on the one table: integration names from gsi1's integrations partition (its
 * sort key is the name), deliveries from gsi2 by receive time, and a checkpoint item per
 * integration. It never reads a delivery item itself: the index holds all the sweep needs.
 */
export class DynamoSweepStore implements SweepStore {
  constructor(
    private readonly dynamo: DynamoApi,
    private readonly tableName: string,
  ) {}

  async listIntegrationNames(): Promise<string[]> {
    const names: string[] = [];
    let startKey: Item | undefined;
    do {
      const page = await storage(
        this.dynamo.query({
          TableName: this.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': toAttr(ALL_INTEGRATIONS_KEY) },
          ProjectionExpression: 'gsi1sk',
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) if (item.gsi1sk?.S) names.push(item.gsi1sk.S);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return names;
  }

  async getCheckpoint(integration: string): Promise<SweepCheckpoint | undefined> {
    const result = await storage(
      this.dynamo.getItem({
        TableName: this.tableName,
        Key: key(sweepCheckpointKey(integration)),
        ConsistentRead: true,
      }),
    );
    return recordOf<SweepCheckpoint>(result.Item);
  }

  async putCheckpoint(checkpoint: SweepCheckpoint): Promise<void> {
    await storage(
      this.dynamo.putItem({
        TableName: this.tableName,
        Item: { ...toItem(checkpoint), ...key(sweepCheckpointKey(checkpoint.integration)) },
      }),
    );
  }

  async readDeliveries(
    integration: string,
    from: string,
    to: string,
    limit: number,
    next?: unknown,
  ): Promise<SweepPage> {
    const page = await storage(
      this.dynamo.query({
        TableName: this.tableName,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': toAttr(deliveriesByIntegrationKey(integration)),
          ':from': toAttr(from),
          ':to': toAttr(to),
        },
        ProjectionExpression: DELIVERY_ATTRIBUTES.map((name) => `#${name}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(DELIVERY_ATTRIBUTES.map((name) => [`#${name}`, name])),
        Limit: limit,
        ExclusiveStartKey: next as Item | undefined,
      }),
    );
    return {
      items: (page.Items ?? []).map((item) => ({
        integration: item.integration?.S ?? integration,
        deliveryId: item.deliveryId?.S ?? '',
        repositoryId: item.repositoryId?.S,
        status: item.status?.S ?? '',
        receivedAt: item.receivedAt?.S ?? '',
        sortKey: item.gsi2sk?.S ?? '',
      })),
      ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
    };
  }
}
