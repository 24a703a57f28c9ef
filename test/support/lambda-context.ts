import type { Context } from 'aws-lambda';

/** A Lambda context as the runtime hands it to a function named `functionName`. */
export function lambdaContext(functionName: string, remainingMs: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/03/01/[$LATEST]fedcba9876543210',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
