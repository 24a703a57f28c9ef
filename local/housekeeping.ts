import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_KEYS } from '../shared/store/table';

/** Items examined per expiry tick: a tick stays short, and a big table is covered over several. */
export const EXPIRE_SCAN_LIMIT = 500;

/** How often the local stack sweeps deliveries and deletes expired items. */
export const HOUSEKEEPING_INTERVAL_MS = 60_000;

export interface ExpiryPass {
  examined: number;
  deleted: number;
  /** Where the next tick continues the scan; undefined when the table was covered to its end. */
  next?: Record<string, AttributeValue> | undefined;
}

/**
 * Deletes items whose `expiresAt` (epoch seconds) has passed, as DynamoDB's TTL does on AWS: the
 * local engine has none, so deliveries (30 days), trigger claims (7 days) and leases (1 day)
 * would pile up in the data folder. One bounded Scan page per call, from `start`; each delete is
 * conditional, so an item written again meanwhile stays.
 */
export async function deleteExpiredItems(
  client: DynamoDBClient,
  tableName: string,
  now: Date,
  start?: Record<string, AttributeValue>,
): Promise<ExpiryPass> {
  const ttl = TABLE_KEYS.timeToLiveAttribute;
  const nowSeconds = { N: String(Math.floor(now.getTime() / 1000)) };
  const page = await client.send(
    new ScanCommand({
      TableName: tableName,
      Limit: EXPIRE_SCAN_LIMIT,
      ProjectionExpression: 'pk, sk',
      FilterExpression: '#ttl < :now',
      ExpressionAttributeNames: { '#ttl': ttl },
      ExpressionAttributeValues: { ':now': nowSeconds },
      ExclusiveStartKey: start,
    }),
  );
  let deleted = 0;
  for (const item of page.Items ?? []) {
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: { pk: item.pk as AttributeValue, sk: item.sk as AttributeValue },
          ConditionExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': ttl },
          ExpressionAttributeValues: { ':now': nowSeconds },
        }),
      );
      deleted++;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
  return { examined: page.ScannedCount ?? 0, deleted, next: page.LastEvaluatedKey };
}

export interface Housekeeping {
  /** Runs one tick now (what the timer does); resolves when it is done. */
  tick(): Promise<void>;
  /** Stops the timer and waits for a tick in flight. */
  stop(): Promise<void>;
}

/**
 * Runs `sweep` and one expiry page every `intervalMs`, never two ticks at once. A failing tick
 * is reported and the next one tries again.
 */
export function startHousekeeping(options: {
  client: DynamoDBClient;
  tableName: string;
  sweep: () => Promise<unknown>;
  now: () => Date;
  onError: (error: Error) => void;
  intervalMs?: number;
}): Housekeeping {
  let cursor: Record<string, AttributeValue> | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    running ??= (async () => {
      try {
        await options.sweep();
        cursor = (await deleteExpiredItems(options.client, options.tableName, options.now(), cursor)).next;
      } catch (error) {
        options.onError(error as Error);
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? HOUSEKEEPING_INTERVAL_MS);
  timer.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
