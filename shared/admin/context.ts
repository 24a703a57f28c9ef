import { randomBytes, randomUUID } from 'node:crypto';
import type { NetworkPolicy } from '../bitbucket/rest/address-policy';
import type { BitbucketClient, RepoRef } from '../bitbucket/rest/client';
import { parseRepoRef } from '../bitbucket/rest/client';
import { type Credentials, loadCredentials } from '../bitbucket/rest/credentials';
import { DependencyError, GoneError, NotFoundError, ValidationError } from '../errors';
import type { Log } from '../observability';
import type { Queue } from '../queue/queue';
import type { SecretStore } from '../secrets/secrets';
import type { WebhookSecretDocument } from '../secrets/webhook-secrets';
import { attributeSizes, itemSizeBytes, MAX_ITEM_BYTES } from '../store/item-size';
import { integrationKey } from '../store/keys';
import type { IntegrationRecord, ProjectRecord, Store } from '../store/store';
import { ConflictError } from './errors';
import { INTEGRATION_NAME } from './schemas';

/** How admin callers prove who they are: IAM on AWS (API Gateway checked SigV4), a bearer token locally. */
export type AdminAuth = { kind: 'iam' } | { kind: 'token'; token: string };

/** Builds the REST client for an integration and its credentials. */
export type BitbucketClientFactory = (
  integration: IntegrationRecord,
  credentials: Credentials,
) => BitbucketClient;

export interface AdminDeps {
  store: Store;
  secrets: SecretStore;
  /** `deliveries.fifo`: replays are enqueued here, for the processor. */
  deliveries: Queue;
  bitbucket: BitbucketClientFactory;
  log: Log;
  auth: AdminAuth;
  /** The stage in secret ids and Bitbucket labels. */
  stage: string;
  /** Webhook URLs are `{base}/webhooks/{name}`; without it, the base is the request's own domain. */
  webhookBaseUrl?: string;
  /** How long the previous webhook secret keeps working after a rotation. */
  rotationGraceHours: number;
  /** Which Bitbucket hosts an integration may name (`aws` refuses loopback; both refuse metadata hosts). */
  network: NetworkPolicy;
  /**
   * Local mode only: the integration that takes deliveries of both platforms (`local`). A
   * repository connected through it is of the platform its repository id's shape names.
   */
  bothPlatformsIntegration?: string;
  now: () => Date;
}

/** Who is asking, and where Bitbucket reaches this API. */
export interface AdminContext {
  principal: string;
  /** Without a trailing slash. */
  webhookBase: string;
}

/** The URL Bitbucket delivers an integration's webhooks to. */
export function webhookUrlOf(context: AdminContext, integration: string): string {
  return `${context.webhookBase}/webhooks/${integration}`;
}

/** One audit line per change: who, what, which resource. Callers pass no secret. */
export function audit(
  deps: AdminDeps,
  context: AdminContext,
  action: string,
  resource: string,
  details: Record<string, unknown> = {},
): void {
  deps.log.info('audit', { audit: { principal: context.principal, action, resource, ...details } });
}

/** 32 random bytes, base64url: a webhook secret. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Project and delivery ids are far shorter (`prj-` and 16 hex digits, Bitbucket's request UUIDs);
 * DynamoDB refuses keys over 2,048 bytes, which would answer 503 instead of 404.
 */
export const MAX_ID_BYTES = 512;

/** An id or name for a message: long ones cut, so a 10 KB path is not echoed back. */
export function shown(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}… (${text.length} characters)` : text;
}

/**
 * `name` when it can name an integration (the slug rule of its creation), before any call
 * with it. Throws NotFoundError: no integration has such a name.
 */
export function integrationNameOf(name: string): string {
  if (!INTEGRATION_NAME.test(name)) throw new NotFoundError(`no integration named "${shown(name)}"`);
  return name;
}

/** `id` when it is short enough to be a project or delivery id. Throws NotFoundError otherwise. */
export function idOf(id: string, what: 'project' | 'delivery'): string {
  if (!id || Buffer.byteLength(id) > MAX_ID_BYTES)
    throw new NotFoundError(`no ${what} with id "${shown(id)}"`);
  return id;
}

/**
 * Room left in every admin-written item for the attributes written after it (status, dates,
 * the repository's new name and clone URLs).
 */
const ITEM_HEADROOM_BYTES = 8 * 1024;

/**
 * Checks, before any write, that `item` fits in a DynamoDB item with headroom to spare. Throws
 * ValidationError naming the largest fields.
 */
export function checkItemFits(what: string, item: Parameters<typeof itemSizeBytes>[0]): void {
  const size = itemSizeBytes(item);
  const limit = MAX_ITEM_BYTES - ITEM_HEADROOM_BYTES;
  if (size <= limit) return;
  const largest = attributeSizes(item)
    .slice(0, 3)
    .map(([name, bytes]) => `${name} ${bytes.toLocaleString('en')} bytes`)
    .join(', ');
  throw new ValidationError(
    `the ${what} would take ${size.toLocaleString('en')} bytes stored, over the ${limit.toLocaleString('en')} allowed (DynamoDB items hold 400 KB); the largest fields: ${largest}`,
  );
}

/** Secrets Manager holds at most 65,536 bytes per secret. */
const MAX_SECRET_BYTES = 65_536;

/** `text` when the secret store can hold it. Throws ValidationError naming `what`. */
export function checkSecretFits(what: string, text: string): string {
  const size = Buffer.byteLength(text);
  if (size > MAX_SECRET_BYTES) {
    throw new ValidationError(
      `${what} take ${size.toLocaleString('en')} bytes; a secret holds at most ${MAX_SECRET_BYTES.toLocaleString('en')}`,
    );
  }
  return text;
}

/** The integration by name. Throws NotFoundError, or GoneError when it was deleted. */
export async function activeIntegration(deps: AdminDeps, name: string): Promise<IntegrationRecord> {
  integrationNameOf(name);
  const integration = await deps.store.getIntegration(name);
  if (!integration) throw new NotFoundError(`no integration named "${name}"`);
  if (integration.status === 'deleted') throw goneIntegration(integration);
  return integration;
}

/** The 410 for a deleted integration, saying when and how to revive it. */
export function goneIntegration(integration: IntegrationRecord): GoneError {
  const when = integration.deletedAt ? ` on ${integration.deletedAt}` : '';
  return new GoneError(
    `integration "${integration.name}" was deleted${when}; create it again under the same name to revive its URL`,
  );
}

/** The project by id. Throws NotFoundError. */
export async function findProject(deps: AdminDeps, id: string): Promise<ProjectRecord> {
  idOf(id, 'project');
  const project = await deps.store.getProject(id);
  if (!project) throw new NotFoundError(`no project with id "${id}"`);
  return project;
}

/**
 * Writes `change(current)` over the current project with a later `updatedAt`, on condition that
 * nobody changed it meanwhile, reading it again and retrying when somebody did. Throws
 * NotFoundError, or ConflictError when it kept changing.
 */
export async function updateProject(
  deps: AdminDeps,
  id: string,
  change: (current: ProjectRecord) => Partial<ProjectRecord>,
): Promise<ProjectRecord> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await findProject(deps, id);
    const next = { ...current, ...change(current), updatedAt: laterThan(deps.now(), current.updatedAt) };
    if (await deps.store.replaceProject(next, current.updatedAt)) return next;
  }
  throw new ConflictError(`project ${id} kept changing meanwhile; retry`);
}

/** A new `updatedAt` that differs from the old one even within the same millisecond. */
export function laterThan(now: Date, previous: string): string {
  return now.toISOString() > previous ? now.toISOString() : new Date(Date.parse(previous) + 1).toISOString();
}

/**
 * The REST client for an integration, or undefined when it has no credentials. Throws
 * DependencyError when its credentials cannot be read or are unusable, and the factory's
 * ValidationError when they do not fit its platform or base URL.
 */
export async function clientFor(
  deps: AdminDeps,
  integration: IntegrationRecord,
): Promise<BitbucketClient | undefined> {
  let credentials: Credentials | undefined;
  try {
    credentials = await loadCredentials(deps.secrets, integration);
  } catch (error) {
    // This API wrote them and checked them then: unusable stored credentials are our fault,
    // answered like a secret store that failed (docs/admin.md), not as the caller's bad input.
    if (!(error instanceof ValidationError)) throw error;
    throw new DependencyError(error.message, { cause: error });
  }
  return credentials && deps.bitbucket(integration, credentials);
}

/** The current webhook secret of an integration. Throws DependencyError when it is missing. */
export async function currentWebhookSecret(deps: AdminDeps, integration: IntegrationRecord): Promise<string> {
  const text = await deps.secrets.get(integration.webhookSecretId);
  if (text === undefined) {
    throw new DependencyError(`the webhook secret of integration "${integration.name}" is missing`);
  }
  return currentSecretIn(text);
}

/**
 * The current secret in a webhook secret document. The admin API writes these documents, so it
 * checks only what it reads (the webhook function validates them whole, expiry date included).
 * Throws DependencyError when the document is not JSON or has no current secret.
 */
export function currentSecretIn(text: string): string {
  let document: Partial<WebhookSecretDocument> | null;
  try {
    document = JSON.parse(text);
  } catch {
    throw new DependencyError('webhook secret document is not JSON');
  }
  const current = document?.current;
  if (typeof current !== 'string' || !current)
    throw new DependencyError('webhook secret document is malformed');
  return current;
}

/** The project's repository as the REST client names it (its current full name). */
export function repoRefOf(project: ProjectRecord): RepoRef {
  return parseRepoRef(project.fullName);
}

const LEASE_SECONDS = 60;

/**
 * Runs `work` holding a short lease on an integration name, so two requests never interleave
 * their secret and item writes for it. Throws ConflictError when another request holds it.
 */
export async function withLease<T>(deps: AdminDeps, name: string, work: () => Promise<T>): Promise<T> {
  integrationNameOf(name);
  const owner = randomUUID();
  const lease = integrationKey(name);
  if (!(await deps.store.acquireLease(lease, owner, deps.now(), LEASE_SECONDS))) {
    throw new ConflictError(
      `integration "${name}" is being changed by another request; retry in a moment`,
      'busy',
    );
  }
  try {
    return await work();
  } finally {
    await deps.store.releaseLease(lease, owner).catch((error: unknown) => {
      deps.log.warn('could not release a lease; it expires by itself', error as Error);
    });
  }
}

/** A default marker older than this whose holder is not active was left by a crash. */
export const STALE_DEFAULT_MS = 2 * LEASE_SECONDS * 1000;

/** An admin request, as the operations read it. */
export interface AdminRequest {
  method: string;
  /** Without a trailing slash. */
  path: string;
  /** The decoded id in the path (`/admin/projects/{id}`); empty for paths without one. */
  id: string;
  query: Record<string, string | undefined>;
  /** Names in lower case. */
  headers: Record<string, string | undefined>;
  /** The parsed JSON body; throws ValidationError when it is not JSON. */
  body: () => unknown;
}

/** An admin API operation. */
export type AdminOperation = (
  deps: AdminDeps,
  context: AdminContext,
  request: AdminRequest,
) => Promise<AdminResult>;

/** What an admin operation answers; the handler turns it into the HTTP response. */
export interface AdminResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The `ETag` of a version. */
export function etagOf(version: number): string {
  return `"${version}"`;
}
