import { gunzipSync } from 'node:zlib';
import { inferProvider, providerOfEventKey } from '../shared/bitbucket/event-keys';
import type { Provider } from '../shared/domain/events';
import type { DynamoApi } from '../shared/store/dynamo-api';
import { DynamoStore } from '../shared/store/dynamo-store';
import type { CreateDeliveryResult, NewDelivery, TriggerClaim } from '../shared/store/store';

export interface LocalStoreHooks {
  /** The integration that takes deliveries of both platforms (`local`). */
  bothPlatforms?: string;
  /** Called when a trigger id was already sent by an earlier delivery, so it is not sent again. */
  onAlreadySent?: (triggerId: string) => void;
}

/**
 * The DynamoStore as local mode uses it, with two differences:
 * - One integration takes both platforms. On AWS a delivery is read as its integration's
 *   provider; here each delivery to `bothPlatforms` is recorded with the platform its event key
 *   (or body) names, so Cloud and Data Center payloads sent to `/webhooks/local` are both
 *   understood. Every other integration is as on AWS: a delivery of the other platform is
 *   recorded `invalid`, and its delivery line says to point the webhook at the right integration.
 * - A trigger not sent again because an earlier delivery already sent it is reported, so the
 *   console says why (decisions are reported by the processor's `onDecided`).
 */
export class LocalStore extends DynamoStore {
  constructor(
    dynamo: DynamoApi,
    tableName: string,
    private readonly hooks: LocalStoreHooks = {},
  ) {
    super(dynamo, tableName);
  }

  override createDelivery(delivery: NewDelivery, ttlDays: number): Promise<CreateDeliveryResult> {
    if (delivery.integration !== this.hooks.bothPlatforms) return super.createDelivery(delivery, ttlDays);
    return super.createDelivery({ ...delivery, provider: platformOf(delivery) }, ttlDays);
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
