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
}

export type DeliveryStatus = 'received' | 'decided' | 'processed' | 'invalid';

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
}

export interface DeliveryRecord extends NewDelivery {
  status: DeliveryStatus;
  projectId?: string;
  decisions?: Decision[];
  /** Why a delivery could not be read (status `invalid`). */
  error?: string;
  decidedAt?: string;
  processedAt?: string;
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

export type TriggerClaim = 'claimed' | 'pending' | 'sent';

/**
 * Everything Hookgate keeps in its one table. Single-item conditional writes only (no
 * transactions); callers order them so a crash leaves nothing half-visible.
 */
export interface Store {
  getIntegration(name: string): Promise<IntegrationRecord | undefined>;
  /** Creates or replaces an integration (admin and local set-up). */
  putIntegration(record: IntegrationRecord): Promise<void>;

  /** Records a new delivery. Throws DuplicateDeliveryError carrying the first record if the id is known. */
  createDelivery(delivery: NewDelivery, ttlDays: number): Promise<void>;
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
  markProcessed(integration: string, deliveryId: string, at: string): Promise<void>;

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
   * claim was never confirmed sent (a crash between claim and send), `sent` once it was.
   */
  claimTrigger(
    triggerId: string,
    claim: { projectId: string; deliveryId: string; at: string },
  ): Promise<TriggerClaim>;
  markTriggerSent(triggerId: string, at: string): Promise<void>;
}
