import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { type DynamoApi, dynamoJsonApi } from '../shared/store/dynamo-api';

export interface LocalDynamo {
  /** The SDK client, for creating the table. */
  client: DynamoDBClient;
  /** What the stores use: DynamoDB's JSON protocol through AwsJsonClient, as on AWS. */
  api: DynamoApi;
  endpoint: string;
  /** Closes the client, then dynalite, which waits for pending writes and closes LevelDB. */
  stop(): Promise<void>;
}

/**
 * Starts dynalite on a free loopback port, persisting to the LevelDB folder `path` (in memory
 * without one, as the tests use it).
 */
export async function startLocalDynamo(path?: string): Promise<LocalDynamo> {
  // Zero delays: a table created at first start is ACTIVE at once.
  const server = dynalite({
    ...(path ? { path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
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
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      return stopped;
    },
  };
}
