import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * The table's key schema (DESIGN §7). Every key attribute is a string; the values items are
 * stored under are built in keys.ts. The infrastructure and the local stack both build the table
 * from this, so the adapter and the table cannot drift apart.
 */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    /**
     * Deliveries by project and time (`deliveriesByProjectKey` / `receivedSortKey`); also every
     * integration, and the projects of each (`ALL_INTEGRATIONS_KEY`, `projectsByIntegrationKey`).
     */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /** Deliveries by integration and time (`deliveriesByIntegrationKey` / `receivedSortKey`). */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  ],
  /** Epoch seconds. Set by the infrastructure on AWS; the local engine has no TTL. */
  timeToLiveAttribute: 'expiresAt',
} as const;

/**
 * What both indexes copy of an item besides its keys: a delivery's summary, what the sweeper
 * and the admin listings read of it. Never the gzipped body, the headers or the decisions (an
 * index entry is rewritten on every status change); listings fetch those, and the records of
 * integrations and projects, from the table (BatchGetItem).
 */
export const INDEX_PROJECTED_ATTRIBUTES = [
  'integration',
  'deliveryId',
  'provider',
  'eventKey',
  'receivedAt',
  'status',
  'repositoryId',
  'projectId',
  'replayOf',
] as const;

/**
 * Creates the table (on-demand, both indexes projecting `INDEX_PROJECTED_ATTRIBUTES`) unless it exists, then waits
 * until it is ACTIVE. For tests and the local stack; on AWS the infrastructure owns the table.
 * Throws the SDK's error when DynamoDB refuses or the table is not ACTIVE within a minute.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, indexes } = TABLE_KEYS;
  const keyNames = [
    partitionKey,
    sortKey,
    ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  const keys = (hash: string, range: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    { AttributeName: range, KeyType: 'RANGE' as const },
  ];
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keyNames.map((name) => ({
            AttributeName: name,
            AttributeType: 'S' as const,
          })),
          KeySchema: keys(partitionKey, sortKey),
          GlobalSecondaryIndexes: indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keys(index.partitionKey, index.sortKey),
            Projection: {
              ProjectionType: 'INCLUDE' as const,
              NonKeyAttributes: [...INDEX_PROJECTED_ATTRIBUTES],
            },
          })),
        }),
      );
    } catch (createError) {
      // Another process created it between our describe and create: waiting below is enough.
      if (!(createError instanceof ResourceInUseException)) throw createError;
    }
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
}
