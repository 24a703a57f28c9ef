import type {
  BatchGetItemInput,
  BatchGetItemOutput,
  DeleteItemInput,
  DeleteItemOutput,
  GetItemInput,
  GetItemOutput,
  PutItemInput,
  PutItemOutput,
  QueryInput,
  QueryOutput,
  UpdateItemInput,
  UpdateItemOutput,
} from '@aws-sdk/client-dynamodb';
import { AwsJsonClient, type AwsJsonClientOptions } from '../aws/aws-json-client';

/**
 * The DynamoDB operations the stores use. A failed condition rejects with an error named
 * `ConditionalCheckFailedException`, whichever implementation answers.
 */
export interface DynamoApi {
  getItem(input: GetItemInput): Promise<GetItemOutput>;
  putItem(input: PutItemInput): Promise<PutItemOutput>;
  updateItem(input: UpdateItemInput): Promise<UpdateItemOutput>;
  deleteItem(input: DeleteItemInput): Promise<DeleteItemOutput>;
  query(input: QueryInput): Promise<QueryOutput>;
  /** What the admin listings fetch from the table after reading an index's keys and summary. */
  batchGetItem(input: BatchGetItemInput): Promise<BatchGetItemOutput>;
}

export type DynamoJsonOptions = Omit<
  AwsJsonClientOptions,
  'service' | 'targetPrefix' | 'jsonVersion' | 'replacer' | 'reviver'
>;

/**
 * DynamoApi over DynamoDB's JSON protocol through AwsJsonClient: what the webhook function and
 * local mode use. Binary attributes go out as base64 and come back as Uint8Arrays,
 * as the SDK gives them.
 */
export function dynamoJsonApi(options: DynamoJsonOptions): DynamoApi & { destroy(): void } {
  const client = new AwsJsonClient({
    ...options,
    service: 'dynamodb',
    targetPrefix: 'DynamoDB_20120810',
    jsonVersion: '1.0',
    replacer: binaryToBase64,
    reviver: base64ToBinary,
  });
  return {
    getItem: (input) => client.call('GetItem', input),
    putItem: (input) => client.call('PutItem', input),
    updateItem: (input) => client.call('UpdateItem', input),
    deleteItem: (input) => client.call('DeleteItem', input),
    query: (input) => client.call('Query', input),
    batchGetItem: (input) => client.call('BatchGetItem', input),
    destroy: () => client.destroy(),
  };
}

// JSON.stringify hands a replacer the result of Buffer#toJSON; the holder still has the bytes.
function binaryToBase64(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Uint8Array
    ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64')
    : value;
}

// In DynamoDB JSON a `B` key holding a string is always a binary attribute value: an attribute
// named "B" holds an object ({"S": …}), never a string.
function base64ToBinary(key: string, value: unknown): unknown {
  if (key !== 'B' || typeof value !== 'string') return value;
  const bytes = Buffer.from(value, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
