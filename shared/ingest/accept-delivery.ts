import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { isPing, isRecord } from '../bitbucket/event-keys';
import { verifySignature } from '../bitbucket/signature';
import type { TtlCache } from '../cache';
import {
  DuplicateDeliveryError,
  GoneError,
  InvalidPayloadError,
  NotFoundError,
  PayloadTooLargeError,
  SignatureError,
} from '../errors';
import type { Log, Telemetry } from '../observability';
import type { Queue } from '../queue/queue';
import type { WebhookSecrets } from '../secrets/webhook-secrets';
import type { IngestStore, IntegrationRecord } from '../store/store';
import { enqueueDelivery } from './delivery-message';

/** Bitbucket caps payloads at 256 KB; anything over 1 MB is not a Bitbucket delivery. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const DELIVERY_TTL_DAYS = 30;
/**
 * A repeat that finds its delivery still `received` this long after the first attempt assumes
 * that attempt died before enqueueing, and enqueues it (SQS deduplication covers a race).
 */
export const ENQUEUE_GRACE_MS = 15_000;

const KEPT_HEADERS = [
  'x-event-key',
  'x-request-uuid',
  'x-request-id',
  'x-hook-uuid',
  'x-attempt-number',
  'x-event-time',
  'user-agent',
  'content-type',
];

export interface WebhookRequest {
  /** The `{integration}` path parameter. */
  integration: string;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The exact bytes Bitbucket signed. */
  body: Buffer;
}

export interface WebhookResponse {
  status: 200 | 202;
  body: Record<string, unknown>;
}

export interface AcceptDeliveryDeps {
  store: IngestStore;
  deliveries: Queue;
  integrations: TtlCache<IntegrationRecord | undefined>;
  secrets: WebhookSecrets;
  now: () => Date;
  log: Log;
  telemetry: Telemetry;
}

/**
 * The webhook path (DESIGN §5): checks, integration, signature on the raw bytes, then one
 * conditional write and one enqueue. Throws typed errors that map to 400/401/404/410/413/503.
 */
export async function acceptDelivery(
  deps: AcceptDeliveryDeps,
  request: WebhookRequest,
): Promise<WebhookResponse> {
  const { headers, body } = request;
  if (body.length > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`body is ${body.length} bytes; the limit is ${MAX_BODY_BYTES}`);
  }
  const contentType = headers['content-type'];
  if (!contentType || !/^application\/json\b/i.test(contentType.trim())) {
    throw new InvalidPayloadError(
      contentType
        ? `Content-Type must be application/json, not "${contentType}"`
        : 'Content-Type header is missing',
    );
  }
  const eventKey = headers['x-event-key'];
  // DC's "Test connection" may come without a key; its body is a tiny {"test": true}.
  const keylessPing = !eventKey && body.length < 64 && isPing(undefined, tryParse(body));
  if (!eventKey && !keylessPing) throw new InvalidPayloadError('X-Event-Key header is missing');

  const integration = await deps.integrations.getOrLoad(request.integration, () =>
    deps.store.getIntegration(request.integration),
  );
  if (!integration) throw new NotFoundError(`no integration named "${request.integration}"`);
  if (integration.status === 'deleted') {
    throw new GoneError(
      `integration "${integration.name}" was deleted${integration.deletedAt ? ` on ${integration.deletedAt}` : ''}`,
    );
  }
  deps.log.appendKeys({ integration: integration.name });

  await verify(deps, integration, body, headers['x-hub-signature']);

  if (keylessPing || isPing(eventKey, undefined)) {
    deps.telemetry.count('Pings');
    return { status: 200, body: { ok: true } };
  }

  const payload = tryParse(body);
  if (payload === undefined) throw new InvalidPayloadError('body is not valid JSON');

  const deliveryId = deliveryIdOf(headers, body);
  deps.log.appendKeys({ deliveryId });
  const repositoryId = repositoryIdOf(payload);
  const receivedAt = deps.now().toISOString();
  const attempt = Number(headers['x-attempt-number']);
  const enqueue = () =>
    enqueueDelivery(deps.deliveries, { integration: integration.name, deliveryId, repositoryId });

  try {
    await deps.store.createDelivery(
      {
        integration: integration.name,
        deliveryId,
        provider: integration.provider,
        eventKey: eventKey as string,
        ...(Number.isInteger(attempt) && attempt > 0 ? { attempt } : {}),
        headers: keptHeaders(headers),
        // Level 1: most of the size win for a fraction of the CPU on the hot path.
        bodyGzip: gzipSync(body, { level: 1 }),
        ...(repositoryId ? { repositoryId } : {}),
        receivedAt,
      },
      DELIVERY_TTL_DAYS,
    );
  } catch (error) {
    if (!(error instanceof DuplicateDeliveryError)) throw error;
    return repeat(deps, error, enqueue);
  }

  try {
    await enqueue();
  } catch (error) {
    // Undo the record so Bitbucket's retry (it retries 5xx) is accepted afresh.
    await deps.store.deleteDelivery(integration.name, deliveryId).catch((undo: unknown) => {
      deps.log.error('could not undo the delivery record after a failed enqueue', undo as Error);
    });
    throw error;
  }
  deps.telemetry.count('Deliveries', 1, { outcome: 'accepted' });
  deps.log.info('delivery accepted', { eventKey, repositoryId });
  return { status: 202, body: { deliveryId, status: 'received' } };
}

async function verify(
  deps: AcceptDeliveryDeps,
  integration: IntegrationRecord,
  body: Buffer,
  signature: string | undefined,
): Promise<void> {
  if (!signature) throw new SignatureError('X-Hub-Signature is missing; set a secret on the webhook');
  const secrets = await deps.secrets.secrets(integration.webhookSecretId);
  if (verifySignature(body, signature, secrets)) return;
  const refreshed = await deps.secrets.refreshed(integration.webhookSecretId);
  if (refreshed && verifySignature(body, signature, refreshed)) return;
  if (secrets.length === 0) deps.log.error('integration has no webhook secret stored');
  deps.telemetry.count('Deliveries', 1, { outcome: 'bad-signature' });
  throw new SignatureError('signature does not match');
}

async function repeat(
  deps: AcceptDeliveryDeps,
  duplicate: DuplicateDeliveryError,
  enqueue: () => Promise<void>,
): Promise<WebhookResponse> {
  const age = duplicate.firstReceivedAt ? deps.now().getTime() - Date.parse(duplicate.firstReceivedAt) : 0;
  if (duplicate.firstStatus === 'received' && age > ENQUEUE_GRACE_MS) {
    deps.log.warn('repeat of a delivery never confirmed enqueued; enqueueing it', { ageMs: age });
    await enqueue();
  }
  deps.telemetry.count('Deliveries', 1, { outcome: 'duplicate' });
  deps.log.info('repeat of a known delivery', { firstStatus: duplicate.firstStatus });
  return {
    status: 202,
    body: { deliveryId: duplicate.deliveryId, status: duplicate.firstStatus, duplicate: true },
  };
}

/** Cloud `X-Request-UUID`, DC `X-Request-Id`, else a hash of the hook id and the body. */
export function deliveryIdOf(headers: WebhookRequest['headers'], body: Buffer): string {
  const given = headers['x-request-uuid'] ?? headers['x-request-id'];
  if (given && /^[\w{}.:-]{1,100}$/.test(given)) return given;
  const h = createHash('sha256');
  h.update(headers['x-hook-uuid'] ?? '');
  h.update('\n');
  h.update(given ?? '');
  h.update('\n');
  h.update(body);
  return `sha256-${h.digest('hex')}`;
}

/** The repository id a payload is about (Cloud uuid, DC numeric id), without full parsing. */
export function repositoryIdOf(payload: unknown): string | undefined {
  if (!isRecord(payload)) return undefined;
  const candidates = [
    payload.repository,
    isRecord(payload.pullRequest) && isRecord(payload.pullRequest.toRef)
      ? payload.pullRequest.toRef.repository
      : undefined,
    payload.new,
  ];
  for (const repo of candidates) {
    if (!isRecord(repo)) continue;
    if (typeof repo.uuid === 'string' && repo.uuid) return repo.uuid;
    if (typeof repo.id === 'number') return String(repo.id);
  }
  return undefined;
}

function keptHeaders(headers: WebhookRequest['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

function tryParse(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
