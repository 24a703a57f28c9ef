// Lambda's first invocation in a fresh process: load one function bundle (BENCH_BUNDLE, a file
// URL), serve one event (BENCH_EVENT, JSON), print the answer and exit at once. The parent times
// the process from spawn to exit, so keep-alive sockets must not hold it open. The printed
// timings (ms since the process's time origin) split that time into start, load and first event.
const started = performance.now();
const { handler } = await import(process.env.BENCH_BUNDLE);
const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bench';
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
  memoryLimitInMB: '1024',
  awsRequestId: '8f2b7a1c-3d4e-4f5a-9b6c-7d8e9fa0b1c2',
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 10_000,
  done() {},
  fail() {},
  succeed() {},
};
const loaded = performance.now();
const result = await handler(JSON.parse(process.env.BENCH_EVENT ?? '{}'), context);
const timings = { started, loaded, answered: performance.now() };
process.stdout.write(`BENCH_RESULT ${JSON.stringify({ result, timings })}\n`, () => process.exit(0));
