import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SqsApi } from './sqs-api';

/** SqsApi on an AWS SDK v3 client: the processor and admin functions, and tests that mock the SDK. */
export function sdkSqsApi(client: SQSClient): SqsApi {
  return { sendMessage: (input) => client.send(new SendMessageCommand(input)) };
}
