import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { type DynamoApi, dynamoJsonApi } from '../../shared/store/dynamo-api';

export interface LocalDynamo {
  /** The SDK client (table set-up, and stores the admin function's way). */
  client: DynamoDBClient;
  /** DynamoDB's JSON protocol through AwsJsonClient, as the webhook function and local mode call it. */
  api: DynamoApi;
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts an in-memory dynalite on a free loopback port and clients pointed at it. */
export async function startDynalite(): Promise<LocalDynamo> {
  // Zero delays: tables are ACTIVE at once, so tests never wait on CREATING.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const api = dynamoJsonApi({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return {
    client,
    api,
    endpoint,
    async stop() {
      client.destroy();
      api.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
