import { afterAll, beforeAll, describe } from 'vitest';
import { emulatorTierRuns } from '../support/moto-server';
import { type AwsStack, startAwsStack } from './support/aws-stack';
import { ingestScenarios } from './support/scenarios';

// The functions as `cdk synth` bundles them, with the template's environment, against moto's
// DynamoDB, SQS and Secrets Manager. One moto for the file; each test has integrations of its own.
// deploy.test.ts runs the same scenarios (support/scenarios.ts) on the stack `cdk deploy` creates.

const runs = emulatorTierRuns();

describe.skipIf(!runs)('the deployed functions against moto', () => {
  let stack: AwsStack;

  beforeAll(async () => {
    stack = await startAwsStack();
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  ingestScenarios(() => stack);
});
