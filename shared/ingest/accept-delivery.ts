import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { isPing } from '../bitbucket/event-keys';
import { payloadRepositoryId } from '../bitbucket/repository-id';
import { verifySignature } from '../bitbucket/signature';
import type { TtlCache } from '../cache';
import { INTEGRATION_NAME } from '../domain/names';
import {
  GoneError,
  InvalidPayloadError,
  NotFoundError,
  PayloadTooLargeError,
  SignatureError,
} from '../errors';
import type { Log, Telemetry } from '../observability';
import type { Queue } from '../queue/queue';
import type { WebhookSecrets } from '../secrets/webhook-secrets';
import type { CreateDeliveryResult, IngestStore, IntegrationRecord, NewDelivery } from '../store/store';
import { enqueueDelivery } from './delivery-message';

/** Bitbucket caps payloads at 256 KB; anything over 1 MB is not a Bitbucket delivery. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * The most gzipped body a delivery item holds: DynamoDB's item limit is 400 KB, and the rest of
 * the item (headers, keys, decisions added later) needs room. Only a body that barely compresses
 * comes near it, and no retry can store it, so it is refused with 413.
 */
export const MAX_STORED_BODY_BYTES = 300 * 1024;
export const DELIVERY_TTL_DAYS = 30;
/** Repository ids are Cloud uuids (38 characters) and Data Center numbers; longer is not a repository. */
const REPOSITORY_ID = /^[\x21-\x7e]{1,64}$/;

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
  const eventKey = checkRequest(request);
  const integration = await lookUpIntegration(deps, request.integration);
  deps.log.appendKeys({ integration: integration.name });
  if (!eventKey || isPing(eventKey, undefined)) return answerPing(deps, integration, request);

  await verify(deps, integration, request.body, request.headers['x-hub-signature']);
  const payload = tryParse(request.body);
  if (payload === undefined) throw new InvalidPayloadError('body is not valid JSON');
  const deliveryId = deliveryIdOf(request.headers, request.body);
  deps.log.appendKeys({ deliveryId });
  const delivery = newDelivery(deps, integration, request, { eventKey, deliveryId, payload });
  return recordAndEnqueue(deps, delivery);
}

/**
 * What needs no lookup: the body's size, its content type, the event key, and a name an
 * integration can have. Returns the event key; none means a keyless ping.
 */
function checkRequest({ headers, body, integration }: WebhookRequest): string | undefined {
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
  // Before any lookup: a name no integration can have is not worth a GetItem (nor a cache entry),
  // and a 10 KB one would make a key DynamoDB refuses.
  if (!INTEGRATION_NAME.test(integration)) throw new NotFoundError('no integration by that name');
  return eventKey || undefined;
}

/** The integration by its name, through the cache; 404 when there is none, 410 when deleted. */
async function lookUpIntegration(deps: AcceptDeliveryDeps, name: string): Promise<IntegrationRecord> {
  const integration = await deps.integrations.getOrLoad(name, () => deps.store.getIntegration(name));
  if (!integration) throw new NotFoundError(`no integration named "${name}"`);
  if (integration.status === 'deleted') {
    throw new GoneError(
      `integration "${integration.name}" was deleted${integration.deletedAt ? ` on ${integration.deletedAt}` : ''}`,
    );
  }
  return integration;
}

/** A connection test: its signature checked when it has one, answered 200, nothing stored or sent. */
async function answerPing(
  deps: AcceptDeliveryDeps,
  integration: IntegrationRecord,
  { headers, body }: WebhookRequest,
): Promise<WebhookResponse> {
  const signature = headers['x-hub-signature'];
  // Data Center's "Test connection" is sent unsigned even when the hook has a secret. Nothing is
  // stored or sent for a ping, so answering it unsigned reveals only that the integration exists.
  if (signature) await verify(deps, integration, body, signature);
  deps.telemetry.count('Pings');
  return { status: 200, body: { ok: true } };
}

/** The delivery record of a verified request; 413 when its body would not fit in the item. */
function newDelivery(
  deps: AcceptDeliveryDeps,
  integration: IntegrationRecord,
  { headers, body }: WebhookRequest,
  { eventKey, deliveryId, payload }: { eventKey: string; deliveryId: string; payload: unknown },
): NewDelivery {
  const repositoryId = repositoryIdOf(payload);
  const attempt = Number(headers['x-attempt-number']);
  // Level 1: most of the size win for a fraction of the CPU on the hot path.
  const bodyGzip = gzipSync(body, { level: 1 });
  if (bodyGzip.length > MAX_STORED_BODY_BYTES) {
    throw new PayloadTooLargeError(
      `body compresses to ${bodyGzip.length} bytes; at most ${MAX_STORED_BODY_BYTES} can be stored`,
    );
  }
  return {
    integration: integration.name,
    deliveryId,
    provider: integration.provider,
    eventKey,
    ...(Number.isInteger(attempt) && attempt > 0 && attempt <= 1_000 ? { attempt } : {}),
    headers: keptHeaders(headers),
    bodyGzip,
    ...(repositoryId ? { repositoryId } : {}),
    receivedAt: deps.now().toISOString(),
  };
}

/** Records the delivery (once) and enqueues it while it is `received`; answers 202. */
async function recordAndEnqueue(deps: AcceptDeliveryDeps, delivery: NewDelivery): Promise<WebhookResponse> {
  const created = await deps.store.createDelivery(delivery, DELIVERY_TTL_DAYS);
  // Enqueued whenever the record is still `received`, on a first attempt or a repeat of any age:
  // a repeat may be Bitbucket's retry after an attempt that died or timed out before its enqueue.
  // The FIFO deduplication id makes a resend within 5 minutes free, and the processor's stored
  // decisions and trigger claims make a later one harmless.
  //
  // A failed enqueue does not undo the record. The undo could delete a record whose message was
  // sent after all (the SendMessage reply lost) or sent by a concurrent repeat, and that message
  // would then find nothing; a repeat within 5 minutes would be deduplicated away too. A record
  // left `received` is safe: Bitbucket retries the 503, and the sweeper enqueues it later.
  if (created.created || created.status === 'received') await enqueueDelivery(deps.deliveries, delivery);
  const { deliveryId, eventKey, repositoryId } = delivery;
  if (!created.created) return repeat(deps, deliveryId, created);

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
  // A mismatch may be a rotation made after our copy was fetched: check against a fresh read.
  const refreshed = await deps.secrets.refreshed(integration.webhookSecretId);
  if (verifySignature(body, signature, refreshed)) return;
  if (refreshed.length === 0) deps.log.error('integration has no webhook secret stored');
  deps.telemetry.count('Deliveries', 1, { outcome: 'bad-signature' });
  throw new SignatureError('signature does not match');
}

function repeat(
  deps: AcceptDeliveryDeps,
  deliveryId: string,
  first: Extract<CreateDeliveryResult, { created: false }>,
): WebhookResponse {
  deps.telemetry.count('Deliveries', 1, { outcome: 'duplicate' });
  deps.log.info('repeat of a known delivery', {
    firstStatus: first.status,
    firstReceivedAt: first.receivedAt,
    enqueued: first.status === 'received',
  });
  return { status: 202, body: { deliveryId, status: first.status, duplicate: true } };
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

/**
 * The repository id a payload is about (Cloud uuid, DC numeric id); undefined for none, or for one
 * that is not printable ASCII of at most 64 characters (it goes into the 128-character FIFO message
 * group id with the integration name). Never throws.
 */
export function repositoryIdOf(payload: unknown): string | undefined {
  const id = payloadRepositoryId(payload);
  return id !== undefined && REPOSITORY_ID.test(id) ? id : undefined;
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
