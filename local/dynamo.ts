import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { type DynamoApi, dynamoJsonApi } from '../shared/store/dynamo-api';
import { INDEX_PROJECTED_ATTRIBUTES, TABLE_KEYS } from '../shared/store/table';

export interface LocalDynamo {
  /** The SDK client, for creating the table. */
  client: DynamoDBClient;
  /** What the stores use: DynamoDB's JSON protocol through AwsJsonClient, as on AWS. */
  api: DynamoApi;
  endpoint: string;
  /** Closes the clients, then dynalite, which waits for pending writes and closes LevelDB. */
  stop(): Promise<void>;
}

/** What the database thread tells the thread that started it. */
type FromDatabase = { kind: 'listening'; port: number } | { kind: 'stopped' };

/**
 * The database thread: dynalite on a free loopback port. Plain CommonJS evaluated as is, so it
 * runs the same from the TypeScript sources (tests, tsx) and from the bundled CLI.
 */
const DATABASE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const dynalite = require(workerData.dynalite);
// Zero delays: a table created at first start is ACTIVE at once.
const server = dynalite({
  ...(workerData.path ? { path: workerData.path } : {}),
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
});
server.once('error', (error) => { throw error; });
server.listen(0, '127.0.0.1', () => {
  parentPort.postMessage({ kind: 'listening', port: server.address().port });
});
parentPort.once('message', () => {
  server.close((error) => {
    if (error) throw error;
    parentPort.postMessage({ kind: 'stopped' });
    parentPort.close();
  });
  server.closeIdleConnections();
});
`;

/**
 * Starts dynalite on a free loopback port in a thread of its own, persisting to the LevelDB
 * folder `path` (in memory without one, as the tests use it). On its own thread its request
 * parsing, validation and LevelDB work do not queue behind the handlers: the stores reach it over
 * HTTP as they reach DynamoDB on AWS. A failure of the thread after the start is thrown in this
 * one, as it would be were dynalite running here.
 */
export async function startLocalDynamo(path?: string): Promise<LocalDynamo> {
  const worker = new Worker(DATABASE_THREAD, {
    eval: true,
    workerData: { dynalite: createRequire(import.meta.url).resolve('dynalite'), path },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    const exited = (code: number) => reject(new Error(`the database thread exited with code ${code}`));
    worker.once('error', failed);
    worker.once('exit', exited);
    worker.once('message', (message: FromDatabase) => {
      worker.off('error', failed);
      worker.off('exit', exited);
      if (message.kind === 'listening') resolve(message.port);
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const settings = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const client = new DynamoDBClient(settings);
  const api = dynamoJsonApi(settings);
  let stopped: Promise<void> | undefined;
  return {
    client,
    api,
    endpoint,
    stop() {
      stopped ??= new Promise<void>((resolve, reject) => {
        // The clients' keep-alive sockets would hold the server open: close them first.
        client.destroy();
        api.destroy();
        worker.once('error', reject);
        worker.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`the database thread exited with code ${code}`)),
        );
        worker.postMessage('stop');
      });
      return stopped;
    },
  };
}

/**
 * Creates the table (on-demand, both indexes projecting `INDEX_PROJECTED_ATTRIBUTES`) unless it exists, then waits
 * until it is ACTIVE. For the local stack and the tests; on AWS the infrastructure owns the table
 * (infra/storage.ts), built from the same TABLE_KEYS.
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
