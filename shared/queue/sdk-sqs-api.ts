import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sdkCallOptions } from '../aws/sdk-options';
import type { SqsApi } from './sqs-api';

/**
 * SqsApi on an AWS SDK v3 client: the processor and admin functions, and tests that mock the SDK.
 * Each call is aborted when the current budget runs out (see sdkCallOptions).
 */
export function sdkSqsApi(client: SQSClient): SqsApi {
  return { sendMessage: (input) => client.send(new SendMessageCommand(input), sdkCallOptions()) };
}
