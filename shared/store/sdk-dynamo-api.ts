import {
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { sdkCallOptions } from '../aws/sdk-options';
import type { DynamoApi } from './dynamo-api';

/**
 * DynamoApi on an AWS SDK v3 client: the processor and admin functions, and tests that mock the SDK.
 * Each call is aborted when the current budget runs out (see sdkCallOptions).
 */
export function sdkDynamoApi(client: DynamoDBClient): DynamoApi {
  return {
    getItem: (input) => client.send(new GetItemCommand(input), sdkCallOptions()),
    putItem: (input) => client.send(new PutItemCommand(input), sdkCallOptions()),
    updateItem: (input) => client.send(new UpdateItemCommand(input), sdkCallOptions()),
    deleteItem: (input) => client.send(new DeleteItemCommand(input), sdkCallOptions()),
    query: (input) => client.send(new QueryCommand(input), sdkCallOptions()),
    batchGetItem: (input) => client.send(new BatchGetItemCommand(input), sdkCallOptions()),
  };
}
