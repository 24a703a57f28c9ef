import { randomUUID } from 'node:crypto';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  SQSEvent,
} from 'aws-lambda';
import { createProcessorHandler } from '../../functions/processor/app';
import { createWebhookHandler, webhookDeps } from '../../functions/webhook/app';
import { ensureTable } from '../../local/dynamo';
import { signBody } from '../../shared/bitbucket/signature';
import { type ProjectSettingsInput, ProjectSettingsSchema } from '../../shared/domain/settings';
import { type TriggerMessage, TriggerMessageSchema } from '../../shared/domain/trigger-message';
import type { RepositoryLookup } from '../../shared/ingest/repository-lookup';
import { noTelemetry, silentLog } from '../../shared/observability';
import { secretIds } from '../../shared/secrets/secrets';
import { DynamoStore } from '../../shared/store/dynamo-store';
import type { IntegrationRecord } from '../../shared/store/store';
import type { LocalDynamo } from './dynalite';
import { readFixtureJson } from './fixtures';
import { lambdaContext } from './lambda-context';
import { MemorySecretStore } from './memory-secret-store';
import { RecordingQueue } from './recording-queue';
import { integrationRecord } from './records';

// The webhook and processor functions wired to dynalite, SQS doubles and an in-memory secret
// store, with integration "acme" (Bitbucket Cloud) and project PROJECT for cloudbeers/temp.

export const SECRET = 'integration-test-secret';
export const REPO = '{708c9715-0ecc-4a5d-87ed-63c4ba48ea06}'; // cloudbeers/temp in the jenkins-bbsource captures
export const PROJECT = 'prj-cloudbeers-temp';
export const SHA_MAIN = 'e42fac24456e4a56f1b7f9358afc3070e3b7ddec'; // head of main in updatePayload.json
const context = { functionName: 'test', awsRequestId: 'req' } as Context;

export interface IngestStackOptions {
  settings?: ProjectSettingsInput;
  /** Fields of the integration record to set (credentials, base URL). */
  integration?: Partial<IntegrationRecord>;
  /** Secrets to store besides the webhook secret, by id. */
  secrets?: Record<string, string>;
  /** The processor's RepositoryLookup, given the stack's secret store. */
  lookup?: (secrets: MemorySecretStore) => RepositoryLookup;
}

export type IngestStack = Awaited<ReturnType<typeof createIngestStack>>;

export async function createIngestStack(dynamo: LocalDynamo, options: IngestStackOptions = {}) {
  const tableName = `ingest-${randomUUID()}`;
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoStore(dynamo.api, tableName);
  const deliveries = new RecordingQueue();
  const triggers = new RecordingQueue();
  const secretStore = new MemorySecretStore();
  const now = () => new Date();
  const at = now().toISOString();
  const webhookSecretId = secretIds.webhookSecret('test', 'acme');
  await secretStore.put(webhookSecretId, JSON.stringify({ current: SECRET }));
  for (const [id, value] of Object.entries(options.secrets ?? {})) await secretStore.put(id, value);
  await store.putIntegration(
    integrationRecord({ webhookSecretId, createdAt: at, updatedAt: at, ...options.integration }),
  );
  await store.putProject({
    id: PROJECT,
    integration: 'acme',
    provider: 'bitbucket-cloud',
    repositoryId: REPO,
    fullName: 'cloudbeers/temp',
    cloneUrls: {
      ssh: 'git@bitbucket.org:cloudbeers/temp.git',
      https: 'https://bitbucket.org/cloudbeers/temp.git',
    },
    defaultBranch: 'main',
    settings: ProjectSettingsSchema.parse(options.settings ?? {}),
    deployKeySecretId: secretIds.deployKey('test', PROJECT),
    createdAt: at,
    updatedAt: at,
  });
  const webhook = createWebhookHandler(
    webhookDeps({ store, deliveries, secretStore, log: silentLog, telemetry: noTelemetry, now }),
  );
  const processorDeps = {
    store,
    triggers,
    now,
    log: silentLog,
    telemetry: noTelemetry,
    ...(options.lookup ? { lookup: options.lookup(secretStore) } : {}),
  };
  const processor = createProcessorHandler(processorDeps);

  async function deliver(payload: unknown, eventKey: string, deliveryId = randomUUID()) {
    const body = JSON.stringify(payload);
    const event = {
      version: '2.0',
      routeKey: 'POST /webhooks/{integration}',
      rawPath: '/webhooks/acme',
      rawQueryString: '',
      headers: {
        'content-type': 'application/json',
        'x-event-key': eventKey,
        'x-request-uuid': deliveryId,
        'x-hub-signature': signBody(body, SECRET),
      },
      pathParameters: { integration: 'acme' },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const response = (await webhook(event, context)) as APIGatewayProxyStructuredResultV2;
    return { status: response.statusCode, body: JSON.parse(response.body ?? '{}'), deliveryId };
  }

  /** Feeds everything on the deliveries queue to the processor, as SQS would. */
  async function drain() {
    const messages = deliveries.take();
    const event: SQSEvent = {
      Records: messages.map((message, index) => ({
        messageId: `m${index}`,
        receiptHandle: `r${index}`,
        body: message.body,
        attributes: { MessageGroupId: message.groupId } as SQSEvent['Records'][number]['attributes'],
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:deliveries.fifo',
        awsRegion: 'us-east-1',
      })),
    };
    const result = await processor(event, lambdaContext('hookgate-processor', 60_000));
    return { failures: result.batchItemFailures.map((f) => messages[Number(f.itemIdentifier.slice(1))]) };
  }

  const sentTriggers = (): TriggerMessage[] =>
    triggers.messages.map((m) => TriggerMessageSchema.parse(JSON.parse(m.body)));

  return { store, deliveries, triggers, deliver, drain, sentTriggers, processorDeps };
}

export const push = (branch = 'main', edit?: (payload: any) => void) => {
  const payload = readFixtureJson<any>('cloud/jenkins-bbsource__updatePayload.json');
  payload.push.changes[0].new.name = branch;
  edit?.(payload);
  return payload;
};
