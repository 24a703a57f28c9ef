import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { httpApiEvent } from '../../local/lambda-events';
import { normaliseDelivery } from '../../shared/bitbucket/normalise';
import type { Provider } from '../../shared/domain/events';
import { DEFAULT_SETTINGS } from '../../shared/domain/settings';
import { secretIds } from '../../shared/secrets/secrets';
import type { Store } from '../../shared/store/store';
import { type CorpusEntry, deliveryHeaders } from './corpus';
import type { FakeAws } from './fake-aws';

export const STAGE = 'bench';
/** One integration per platform, as on AWS (the local stack's one `local` integration takes both). */
export const INTEGRATIONS: Record<Provider, { name: string; secret: string }> = {
  'bitbucket-cloud': { name: 'bench-cloud', secret: 'bench-cloud-webhook-secret' },
  'bitbucket-data-center': { name: 'bench-dc', secret: 'bench-dc-webhook-secret' },
};

/**
 * Stores what the handlers read before any delivery: both integrations with their webhook secret
 * documents, and a connected project for every repository in the corpus, so pushes reach the
 * trigger path (claim, send, confirm) instead of stopping at `unknown-repository`.
 */
export async function seedStore(
  store: Store,
  fake: FakeAws,
  corpus: readonly CorpusEntry[],
): Promise<number> {
  const at = new Date().toISOString();
  for (const [provider, { name, secret }] of Object.entries(INTEGRATIONS) as [
    Provider,
    { name: string; secret: string },
  ][]) {
    const webhookSecretId = secretIds.webhookSecret(STAGE, name);
    fake.secrets.set(webhookSecretId, JSON.stringify({ current: secret }));
    await store.putIntegration({
      name,
      provider,
      scope: 'default',
      labels: ['bench'],
      description: 'benchmark integration',
      webhookSecretId,
      status: 'active',
      version: 1,
      createdAt: at,
      updatedAt: at,
    });
  }
  const seen = new Set<string>();
  for (const entry of corpus) {
    let repository:
      | { id: string | null; fullName: string; cloneUrls: { ssh?: string; https?: string } }
      | undefined;
    try {
      const event = normaliseDelivery({
        eventKey: entry.eventKey,
        body: JSON.parse(entry.bytes.toString('utf8')),
        provider: entry.provider,
      });
      repository = 'repository' in event ? event.repository : undefined;
    } catch {
      repository = undefined;
    }
    const integration = INTEGRATIONS[entry.provider].name;
    if (!repository?.id || seen.has(`${integration}\n${repository.id}`)) continue;
    seen.add(`${integration}\n${repository.id}`);
    const id = `prj-bench-${createHash('sha256').update(`${integration}\n${repository.id}`).digest('hex').slice(0, 12)}`;
    const fullName = repository.fullName || repository.id;
    const hasUrl = Boolean(repository.cloneUrls.ssh || repository.cloneUrls.https);
    await store.putProject({
      id,
      integration,
      provider: entry.provider,
      repositoryId: repository.id,
      fullName,
      cloneUrls: hasUrl ? repository.cloneUrls : { ssh: `ssh://git@bitbucket.bench.invalid/${fullName}.git` },
      defaultBranch: 'main',
      settings: DEFAULT_SETTINGS,
      deployKeySecretId: secretIds.deployKey(STAGE, id),
      createdAt: at,
      updatedAt: at,
    });
  }
  return seen.size;
}

/** The API Gateway event of a signed delivery of `body` to the integration of its platform. */
export function webhookEvent(entry: CorpusEntry, body: Buffer, deliveryId: string): APIGatewayProxyEventV2 {
  const { name, secret } = INTEGRATIONS[entry.provider];
  return httpApiEvent(
    {
      method: 'POST',
      url: `/webhooks/${name}`,
      headers: { host: 'hooks.bench.invalid', ...deliveryHeaders(entry, body, deliveryId, secret) },
      body,
      sourceIp: '104.192.136.1',
    },
    { routeKey: 'POST /webhooks/{integration}', pathParameters: { integration: name } },
  );
}

/** The SQS event Lambda hands the processor for one message of `deliveries.fifo`. */
export function deliveriesEvent(
  messages: readonly { body: string; groupId?: string; deduplicationId?: string }[],
): SQSEvent {
  return {
    Records: messages.map((message, index) => ({
      messageId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      receiptHandle: `bench-${index}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'bench',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
        MessageGroupId: message.groupId ?? 'bench',
        MessageDeduplicationId: message.deduplicationId ?? String(index),
        SequenceNumber: String(index),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(message.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:hookgate-deliveries.fifo',
      awsRegion: 'us-east-1',
    })),
  };
}

/** `GET /admin/integrations`, signed with IAM as API Gateway passes it on. */
export function adminEvent(): APIGatewayProxyEventV2 {
  const event = httpApiEvent(
    {
      method: 'GET',
      url: '/admin/integrations',
      headers: { host: 'admin.bench.invalid' },
      body: Buffer.alloc(0),
      sourceIp: '10.0.0.1',
    },
    { routeKey: 'GET /admin/{proxy+}', pathParameters: { proxy: 'integrations' } },
  );
  const requestContext = event.requestContext as unknown as Record<string, unknown>;
  requestContext.authorizer = {
    iam: {
      accessKey: 'AKIDBENCHFAKE',
      accountId: '000000000000',
      callerId: 'AIDABENCH',
      principalOrgId: null,
      userArn: 'arn:aws:iam::000000000000:user/bench',
      userId: 'AIDABENCH',
      cognitoIdentity: null,
    },
  };
  return event;
}

/** A Lambda context for one invocation. */
export function benchContext(functionName: string) {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 32),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 10_000,
    done() {},
    fail() {},
    succeed() {},
  };
}
