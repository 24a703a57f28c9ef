import { gunzipSync } from 'node:zlib';
import { inferProvider, providerOfEventKey } from '../shared/bitbucket/event-keys';
import type { Decision } from '../shared/domain/decision';
import type { Provider } from '../shared/domain/events';
import type { DynamoApi } from '../shared/store/dynamo-api';
import { DynamoStore } from '../shared/store/dynamo-store';
import type { NewDelivery, TriggerClaim } from '../shared/store/store';

/** What the processor decided for one delivery, for the console. */
export interface DecisionReport {
  deliveryId: string;
  eventKey: string;
  provider: Provider;
  repository?: string;
  status: 'decided' | 'invalid';
  decisions: Decision[];
  error?: string;
}

export interface LocalStoreHooks {
  /** Called once per delivery, right after its decisions are stored and before any trigger is sent. */
  onDecided?: (report: DecisionReport) => void;
  /** Called when a trigger id was already sent by an earlier delivery, so it is not sent again. */
  onAlreadySent?: (triggerId: string) => void;
}

/**
 * The DynamoStore as local mode uses it, with two differences:
 * - One integration takes both platforms. On AWS a delivery is read as its integration's
 *   provider; here each delivery is recorded with the platform its event key (or body) names,
 *   so Cloud and Data Center payloads sent to `/webhooks/local` are both understood.
 * - Decisions are reported as they are stored, so the console shows why a build did or did not
 *   start (a redelivery that reuses stored decisions is not reported twice), and so is a trigger
 *   not sent again because an earlier delivery already sent it.
 */
export class LocalStore extends DynamoStore {
  constructor(
    dynamo: DynamoApi,
    tableName: string,
    private readonly hooks: LocalStoreHooks = {},
  ) {
    super(dynamo, tableName);
  }

  override createDelivery(delivery: NewDelivery, ttlDays: number): Promise<void> {
    return super.createDelivery({ ...delivery, provider: platformOf(delivery) }, ttlDays);
  }

  override async saveDecisions(
    integration: string,
    deliveryId: string,
    outcome: Parameters<DynamoStore['saveDecisions']>[2],
  ): Promise<void> {
    await super.saveDecisions(integration, deliveryId, outcome);
    if (!this.hooks.onDecided) return;
    // Only for the console: a failed read here must not fail the processing.
    const record = await this.getDelivery(integration, deliveryId).catch(() => undefined);
    const project = outcome.projectId
      ? await this.getProject(outcome.projectId).catch(() => undefined)
      : undefined;
    const repository = project?.fullName ?? record?.repositoryId;
    this.hooks.onDecided({
      deliveryId,
      eventKey: record?.eventKey ?? '?',
      provider: record?.provider ?? 'bitbucket-cloud',
      ...(repository ? { repository } : {}),
      status: outcome.status,
      decisions: outcome.decisions,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
  }

  override async claimTrigger(
    triggerId: string,
    claim: Parameters<DynamoStore['claimTrigger']>[1],
  ): Promise<TriggerClaim> {
    const outcome = await super.claimTrigger(triggerId, claim);
    if (outcome === 'sent') this.hooks.onAlreadySent?.(triggerId);
    return outcome;
  }
}

/** The platform that sent a delivery: by event key, then by body shape, else the integration's. */
export function platformOf(delivery: NewDelivery): Provider {
  const byKey = providerOfEventKey(delivery.eventKey);
  if (byKey) return byKey;
  let body: unknown;
  try {
    body = JSON.parse(gunzipSync(delivery.bodyGzip).toString('utf8'));
  } catch {
    body = undefined;
  }
  return inferProvider(delivery.eventKey, body) ?? delivery.provider;
}
