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
  // Start the pipeline here and return once it has started: the message is deleted then. Return
  // { finished } while it still works in `dir`; the checkout is removed when that settles (the
  // deploy key is gone already). A build that fails after it started is not retried: build it
  // again with `hookgate admin projects build`.
  console.log(`checked out ${trigger.project.repository} at ${trigger.commit.sha} in ${dir}`);
};

const running = new Set<Promise<void>>();
const deps = { sqs: new SQSClient({}), secrets: new SecretsManagerClient({}), queueUrl, build, running };
let stopping = false;
process.once('SIGTERM', () => {
  stopping = true;
});
while (!stopping) await consumeOnce(deps);
// Builds still running in their checkouts finish before the process exits.
await Promise.all(running);
