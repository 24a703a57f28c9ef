import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type Build, consumeOnce } from './consumer';

// An example pipeline runner: `TRIGGERS_QUEUE_URL=<TriggersQueueUrl output> npx tsx examples/consumer/main.ts`.
// Credentials and region come from the usual AWS chain (a role with the pipeline-runner policy).
const queueUrl = process.env.TRIGGERS_QUEUE_URL;
if (!queueUrl) {
  console.error('set TRIGGERS_QUEUE_URL to the stack output TriggersQueueUrl');
  process.exit(1);
}

const build: Build = async ({ dir, trigger }) => {
  // Start the pipeline here; the checkout (and the key beside it) is deleted when this returns.
  console.log(`checked out ${trigger.project.repository} at ${trigger.commit.sha} in ${dir}`);
};

const deps = { sqs: new SQSClient({}), secrets: new SecretsManagerClient({}), queueUrl, build };
for (;;) await consumeOnce(deps);
