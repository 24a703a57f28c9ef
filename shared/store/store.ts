import type { Decision } from '../domain/decision';
import type { CloneUrls, Provider } from '../domain/events';
import type { OpenPullRequest } from '../domain/rules';
import type { ProjectSettings } from '../domain/settings';

export type IntegrationScope = 'default' | { space: string };

export interface IntegrationRecord {
  name: string;
  provider: Provider;
  scope: IntegrationScope;
  labels: string[];
  description: string;
  baseUrl?: string;
  /** known_hosts lines for a Data Center SSH endpoint (Cloud's are built in). */
  sshKnownHosts?: string[];
  /** Secrets Manager id of the webhook secret document (see shared/secrets). */
  webhookSecretId: string;
  credentialsSecretId?: string;
  /** The kind of the stored credentials (`api-token`, `access-token`, …); never the credentials. */
  credentialsKind?: string;
  status: 'active' | 'deleted';
  deletedAt?: string;
  /** Optimistic concurrency: incremented by every write. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface ProjectRecord {
  id: string;
  integration: string;
  provider: Provider;
  /** Immutable identity: Cloud repository uuid, DC repository id. */
  repositoryId: string;
  /** Current `workspace/slug` or `PROJECT/slug`; follows renames. */
  fullName: string;
  cloneUrls: CloneUrls;
  defaultBranch: string;
  settings: ProjectSettings;
  deployKeySecretId: string;
  createdAt: string;
  updatedAt: string;
  /**
   * Set by the admin API: `detached` once its integration was deleted (its repository mapping is
   * gone, so deliveries no longer reach it). Absent means connected.
   */
  status?: 'connected' | 'detached';
  detachedAt?: string;
  /** The pipeline file the health check looks for on the default branch. */
  pipelineFile?: string;
  /** The public half of the deploy key kept at `deployKeySecretId`, and its id on Bitbucket. */
  deployKey?: { publicKey: string; fingerprint: string; id?: string };
  /** The id on Bitbucket of the webhook Hookgate manages for this repository. */
  webhookId?: string;
}

/**
 * `received` → `decided` → `processed` is the path of every delivery (DESIGN §2). `invalid`: it
 * cannot be processed and retrying would not change that (unreadable payload, values the store
 * refuses). `failed`: parked after failing `PARK_AFTER_FAILURES` times on its own, so it no longer
 * holds back its FIFO group; a replay or sweep that enqueues it again resumes it where it stood.
 */
export type DeliveryStatus = 'received' | 'decided' | 'processed' | 'invalid' | 'failed';

export interface NewDelivery {
  integration: string;
  deliveryId: string;
  provider: Provider;
  eventKey: string;
  /** `X-Attempt-Number` (Cloud only). */
  attempt?: number;
  /** The headers that matter (event key, request and hook ids, attempt, user agent, signature). */
  headers: Record<string, string>;
  /** The raw body, gzipped. */
  bodyGzip: Uint8Array;
  repositoryId?: string;
  receivedAt: string;
  /** Set on a replay: the id of the delivery whose stored body it re-runs. */
  replayOf?: string;
}

/** What createDelivery did: recorded the delivery, or found it recorded by an earlier request. */
export type CreateDeliveryResult =
  | { created: true }
  | { created: false; status: DeliveryStatus; receivedAt: string | undefined };

export interface DeliveryRecord extends NewDelivery {
  status: DeliveryStatus;
  projectId?: string;
  decisions?: Decision[];
  /**
   * Set when processed: the indexes in `decisions` of the triggers an earlier delivery had
   * already sent (same project, ref and commit), so this one did not send them again. Absent on
   * deliveries processed before it was recorded, and when it did not fit in the item.
   */
  alreadySent?: number[];
  /** Why a delivery could not be processed (status `invalid`), or its last failure. */
  error?: string;
  decidedAt?: string;
  processedAt?: string;
  /** Times processing this delivery failed on its own (not because a group-mate did). */
  failures?: number;
  /** When it last failed, or was parked as `failed`. */
  failedAt?: string;
}

export interface PullRequestRecord {
  id: number;
  state: 'open' | 'closed';
  sourceBranch: string;
  sourceRepository: string;
  sourceCommit: string;
  fromFork: boolean;
  draft: boolean;
  updatedAt: string;
}

/**
 * `claimed`: first claim; `pending`: claimed before but never confirmed sent; `sent`: sent by
 * another delivery; `sent-by-this-delivery`: sent by an earlier attempt of the same delivery.
 */
export type TriggerClaim = 'claimed' | 'pending' | 'sent' | 'sent-by-this-delivery';

/** Who holds a provider's default scope (DESIGN §3: at most one default per provider). */
export interface DefaultMarker {
  provider: Provider;
  integration: string;
  claimedAt: string;
}

export interface DeliveryQuery {
  /** Exactly one of `integration` and `projectId`. */
  integration?: string;
  projectId?: string;
  limit: number;
  /** The `next` of the previous page. */
  cursor?: string;
}

/** What a listing holds of a delivery: no body, no headers. */
export type DeliverySummary = Pick<
  DeliveryRecord,
  | 'integration'
  | 'deliveryId'
  | 'provider'
  | 'eventKey'
  | 'receivedAt'
  | 'status'
  | 'repositoryId'
  | 'projectId'
  | 'decisions'
  | 'alreadySent'
  | 'replayOf'
>;

export interface DeliveryPage {
  /** Newest first. */
  items: DeliverySummary[];
  /** Opaque; absent on the last page. */
  next?: string;
}

/**
 * What the webhook and processor functions keep in the one table. Single-item conditional
 * writes only (no transactions); callers order them so a crash leaves nothing half-visible.
 */
export interface IngestStore {
  getIntegration(name: string): Promise<IntegrationRecord | undefined>;
  /** Creates or replaces an integration (admin and local set-up). */
  putIntegration(record: IntegrationRecord): Promise<void>;

  /**
   * Records a new delivery, or tells what is already recorded under its id. A write of ours whose
   * reply was lost counts as created, never as a duplicate of itself.
   */
  createDelivery(delivery: NewDelivery, ttlDays: number): Promise<CreateDeliveryResult>;
  getDelivery(integration: string, deliveryId: string): Promise<DeliveryRecord | undefined>;
  /** Undoes createDelivery when the enqueue after it failed, so Bitbucket's retry starts afresh. */
  deleteDelivery(integration: string, deliveryId: string): Promise<void>;
  /**
   * Stores the decisions of a `received` delivery and marks it `decided` (or `invalid`). Throws
   * DeliveryStateError when the delivery is not in `received`, so decisions are made once.
   */
  saveDecisions(
    integration: string,
    deliveryId: string,
    outcome: {
      status: 'decided' | 'invalid';
      decisions: Decision[];
      projectId?: string;
      error?: string;
      at: string;
    },
  ): Promise<void>;
  /**
   * Marks a delivery `processed`, with the indexes of the triggers it found already sent by an
   * earlier delivery (see `alreadySent`). Throws DeliveryStateError when it is not recorded.
   */
  markProcessed(
    integration: string,
    deliveryId: string,
    at: string,
    alreadySent?: readonly number[],
  ): Promise<void>;
  /**
   * Records a delivery that retrying cannot help as `invalid`, with the reason, keeping any stored
   * decisions. Nothing happens to a delivery already `processed`, `invalid` or gone.
   */
  markInvalid(integration: string, deliveryId: string, outcome: { error: string; at: string }): Promise<void>;
  /**
   * Counts one failure of the delivery's own and keeps its error; at `parkAfter` failures marks it
   * `failed`. Answers the count and whether it is now parked; `gone` when the delivery is not
   * awaiting processing (processed, invalid, or not stored).
   */
  recordFailure(
    integration: string,
    deliveryId: string,
    failure: { error: string; at: string; parkAfter: number },
  ): Promise<{ failures: number; parked: boolean } | 'gone'>;
  /**
   * Takes a `failed` delivery back to `decided` (when it has decisions) or `received`, its failure
   * count reset. Throws DeliveryStateError when it is no longer `failed`.
   */
  resumeDelivery(integration: string, deliveryId: string, status: 'received' | 'decided'): Promise<void>;

  getProject(id: string): Promise<ProjectRecord | undefined>;
  /** Writes the project, then its repository → project mapping. */
  putProject(project: ProjectRecord): Promise<void>;
  findProjectByRepository(integration: string, repositoryId: string): Promise<ProjectRecord | undefined>;
  /** Follows a rename or move: the stored full name and clone URLs. */
  updateProjectRepository(
    id: string,
    repository: { fullName: string; cloneUrls: CloneUrls; at: string },
  ): Promise<void>;

  listOpenPullRequests(projectId: string): Promise<OpenPullRequest[]>;
  /** Stores a PR's state; an open PR is findable by source branch, a closed one no longer is. */
  recordPullRequest(projectId: string, pr: PullRequestRecord): Promise<void>;

  /**
   * Claims a trigger id before sending it: `claimed` the first time, `pending` if an earlier
   * claim was never confirmed sent (a crash between claim and send), `sent` once another delivery
   * sent it, `sent-by-this-delivery` once an earlier attempt of this delivery did.
   */
  claimTrigger(
    triggerId: string,
    claim: { projectId: string; deliveryId: string; at: string },
  ): Promise<TriggerClaim>;
  markTriggerSent(triggerId: string, at: string): Promise<void>;
}

/** Everything Hookgate keeps in its one table: the ingest operations and the admin API's. */
export interface Store extends IngestStore {
  /**
   * Writes a new integration, or revives a deleted one under the same name. Returns false, writing
   * nothing, when an active integration holds the name.
   */
  createIntegration(record: IntegrationRecord): Promise<boolean>;
  /** Replaces an integration only if its stored version is `expectedVersion`; false otherwise. */
  replaceIntegration(record: IntegrationRecord, expectedVersion: number): Promise<boolean>;
  /** Every integration, deleted ones included, by name. Eventually consistent (an index). */
  listIntegrations(): Promise<IntegrationRecord[]>;

  getDefaultMarker(provider: Provider): Promise<DefaultMarker | undefined>;
  /**
   * Takes a provider's default marker for `integration`: succeeds when it is free or already
   * held by `integration`, or (with `takeOverFrom`) still held by that stale holder. False otherwise.
   */
  claimDefault(provider: Provider, integration: string, at: string, takeOverFrom?: string): Promise<boolean>;
  /** Gives up the marker if `integration` holds it; otherwise nothing happens. */
  releaseDefault(provider: Provider, integration: string): Promise<void>;

  /**
   * A short lease on a name, for admin operations that read, write a secret and write an item
   * (create, rotate, delete). False when another owner holds an unexpired lease.
   */
  acquireLease(name: string, owner: string, at: Date, ttlSeconds: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;

  /** The projects of an integration (an index: eventually consistent). */
  listProjects(integration: string): Promise<ProjectRecord[]>;
  /** Replaces the project item (not its mapping) if its `updatedAt` is still `expectedUpdatedAt`. */
  replaceProject(project: ProjectRecord, expectedUpdatedAt: string): Promise<boolean>;
  /** Removes a repository → project mapping if it still points at `projectId`. */
  removeRepositoryMapping(integration: string, repositoryId: string, projectId: string): Promise<void>;
  /** Removes the project's mapping, its pull-request items and the project item, in that order. */
  deleteProject(project: ProjectRecord): Promise<void>;

  /**
   * Deliveries of an integration or a project, newest first, a page at a time. A project lists
   * only decided deliveries. Throws ValidationError for a cursor it did not hand out.
   */
  listDeliveries(query: DeliveryQuery): Promise<DeliveryPage>;
}
