import type { Decision } from '../domain/decision';
import type { DeliveryRecord, DeliverySummary, IntegrationRecord, ProjectRecord } from '../store/store';
import type { SetupAction } from './bitbucket-setup';
import { type AdminContext, webhookUrlOf } from './context';
import type { Health } from './health';

// What the admin API shows of stored records: never a secret, a secret's value, or a private key.
// Fields a record lacks are undefined here, so the JSON answer leaves them out.

/** An integration as the admin API answers it: whether it has credentials, never them. */
export function integrationView(context: AdminContext, integration: IntegrationRecord) {
  return {
    name: integration.name,
    provider: integration.provider,
    scope: integration.scope,
    labels: integration.labels,
    description: integration.description,
    baseUrl: integration.baseUrl,
    sshKnownHosts: integration.sshKnownHosts,
    status: integration.status,
    version: integration.version,
    webhookUrl: webhookUrlOf(context, integration.name),
    hasCredentials: Boolean(integration.credentialsSecretId),
    credentialKind: integration.credentialsKind,
    createdAt: integration.createdAt,
    updatedAt: integration.updatedAt,
    deletedAt: integration.deletedAt,
  };
}

/** A project as the admin API answers it: the deploy key's public half and secret id, never the private key. */
export function projectView(context: AdminContext, project: ProjectRecord) {
  return {
    id: project.id,
    integration: project.integration,
    provider: project.provider,
    repository: project.fullName,
    repositoryId: project.repositoryId,
    defaultBranch: project.defaultBranch,
    cloneUrls: project.cloneUrls,
    settings: project.settings,
    pipelineFile: project.pipelineFile,
    status: project.status ?? 'connected',
    detachedAt: project.detachedAt,
    webhookUrl: webhookUrlOf(context, project.integration),
    webhookId: project.webhookId,
    deployKey: {
      secretId: project.deployKeySecretId,
      ...(project.deployKey ?? {}),
    },
    createdAt: project.createdAt,
    updatedAt: project.updatedAt,
  };
}

/** A delivery in a listing. */
export function deliverySummary(delivery: DeliverySummary) {
  return {
    deliveryId: delivery.deliveryId,
    integration: delivery.integration,
    eventKey: delivery.eventKey,
    receivedAt: delivery.receivedAt,
    status: delivery.status,
    projectId: delivery.projectId ?? null,
    decisions: decisionsOf(delivery),
    replayOf: delivery.replayOf,
  };
}

/** A decision as a delivery's answer shows it: a trigger of a processed delivery says whether it was sent. */
export type DecisionView = Decision & { sent?: boolean };

/**
 * The decisions, each trigger of a processed delivery with `sent`: true when this delivery sent
 * it, false when an earlier delivery had (it was not sent again). Left out where not recorded.
 */
function decisionsOf(delivery: DeliverySummary): DecisionView[] {
  const decisions = delivery.decisions ?? [];
  if (delivery.status !== 'processed' || !delivery.alreadySent) return decisions;
  const alreadySent = new Set(delivery.alreadySent);
  return decisions.map((decision, index) =>
    decision.action === 'trigger' ? { ...decision, sent: !alreadySent.has(index) } : decision,
  );
}

/** One delivery with its stored headers; the signature is dropped should one ever be stored. */
export function deliveryDetail(delivery: DeliveryRecord) {
  const { 'x-hub-signature': _signature, ...headers } = delivery.headers;
  return {
    ...deliverySummary(delivery),
    provider: delivery.provider,
    attempt: delivery.attempt,
    repositoryId: delivery.repositoryId,
    headers,
    error: delivery.error,
    decidedAt: delivery.decidedAt,
    processedAt: delivery.processedAt,
  };
}

// The answers of the admin API (docs/admin.md), by route: what the handlers build and what
// `hookgate admin` reads. A field that is undefined here is left out of the JSON.

export type IntegrationView = ReturnType<typeof integrationView>;
export type ProjectView = ReturnType<typeof projectView>;
export type DeliverySummaryView = ReturnType<typeof deliverySummary>;
export type DeliveryDetailView = ReturnType<typeof deliveryDetail>;

/** `GET /admin/integrations` and `GET /admin/projects`. */
export interface ItemsAnswer<T> {
  items: T[];
}

/** `POST /admin/integrations`: the webhook secret is in this answer only. */
export interface IntegrationCreatedAnswer {
  integration: IntegrationView;
  webhookUrl: string;
  webhookSecret: string;
}

/** What `rotate-secret` did to the webhook of one connected project. */
export interface HookRotation {
  projectId: string;
  repository: string;
  status: 'updated' | 'not-found' | 'skipped' | 'failed';
  hookIds?: string[];
  reason?: string;
}

/** `POST /admin/integrations/{name}/rotate-secret`. */
export interface SecretRotatedAnswer {
  webhookSecret: string;
  /** When the previous secret stops working; null when there was none. */
  previousValidUntil: string | null;
  projects: HookRotation[];
}

/** `POST /admin/projects/{id}/repair`. */
export interface RepairAnswer {
  actions: SetupAction[];
  health: Health;
}

/** `GET /admin/deliveries`. */
export interface DeliveryPageAnswer {
  items: DeliverySummaryView[];
  next: string | null;
}

/** `POST /admin/deliveries/{id}/replay`. */
export interface ReplayAnswer {
  deliveryId: string;
  integration: string;
  replayOf: string;
  status: 'received';
}

/** `POST /admin/evaluate`. */
export interface EvaluateAnswer {
  decisions: Decision[];
}
