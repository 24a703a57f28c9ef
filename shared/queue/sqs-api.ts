import type { SendMessageRequest, SendMessageResult } from '@aws-sdk/client-sqs';
import { AwsJsonClient, type AwsJsonClientOptions } from '../aws/aws-json-client';

/** The SQS operation the queues use. */
export interface SqsApi {
  sendMessage(input: SendMessageRequest): Promise<SendMessageResult>;
}

/** SqsApi over SQS's JSON protocol through AwsJsonClient: what the webhook function uses. */
export function sqsJsonApi(
  options: Omit<AwsJsonClientOptions, 'service' | 'targetPrefix' | 'jsonVersion'>,
): SqsApi {
  const client = new AwsJsonClient({
    ...options,
    service: 'sqs',
    targetPrefix: 'AmazonSQS',
    jsonVersion: '1.0',
  });
  return { sendMessage: (input) => client.call('SendMessage', input) };
}
