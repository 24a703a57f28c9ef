import {
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoApi } from './dynamo-api';

/** DynamoApi on an AWS SDK v3 client: the processor and admin functions, and tests that mock the SDK. */
export function sdkDynamoApi(client: DynamoDBClient): DynamoApi {
  return {
    getItem: (input) => client.send(new GetItemCommand(input)),
    putItem: (input) => client.send(new PutItemCommand(input)),
    updateItem: (input) => client.send(new UpdateItemCommand(input)),
    deleteItem: (input) => client.send(new DeleteItemCommand(input)),
    query: (input) => client.send(new QueryCommand(input)),
    batchGetItem: (input) => client.send(new BatchGetItemCommand(input)),
  };
}
