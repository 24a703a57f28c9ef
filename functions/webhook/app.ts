import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { TtlCache } from '../../shared/cache';
import { httpErrors, jsonResponse } from '../../shared/http/http-errors';
import { type AcceptDeliveryDeps, acceptDelivery } from '../../shared/ingest/accept-delivery';
import type { Log, Telemetry } from '../../shared/observability';
import type { Queue } from '../../shared/queue/queue';
import type { SecretReader } from '../../shared/secrets/secrets';
import { WebhookSecrets } from '../../shared/secrets/webhook-secrets';
import type { IngestStore, IntegrationRecord } from '../../shared/store/store';

export interface WebhookAdapters {
  store: IngestStore;
  deliveries: Queue;
  secretStore: SecretReader;
  log: Log;
  telemetry: Telemetry;
  now?: () => Date;
  integrationCacheMs?: number;
  secretCacheMs?: number;
}

/** Wires the webhook path's dependencies from its adapters (AWS, or local mode's). */
export function webhookDeps(adapters: WebhookAdapters): AcceptDeliveryDeps {
  const now = adapters.now ?? (() => new Date());
  return {
    store: adapters.store,
    deliveries: adapters.deliveries,
    integrations: new TtlCache<IntegrationRecord | undefined>(adapters.integrationCacheMs ?? 30_000, () =>
      now().getTime(),
    ),
    secrets: new WebhookSecrets({
      store: adapters.secretStore,
      ttlMs: adapters.secretCacheMs ?? 300_000,
      refreshAfterMs: 5_000,
      now,
    }),
    now,
    log: adapters.log,
    telemetry: adapters.telemetry,
  };
}

/** `POST /webhooks/{integration}`: extract the request, accept it, map the result. */
export function makeHandler(deps: AcceptDeliveryDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyResultV2> => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    const result = await acceptDelivery(deps, {
      integration: event.pathParameters?.integration ?? '',
      headers,
      body,
    });
    return jsonResponse(result.status, result.body);
  };
}

/** The middy-wrapped handler: per-invocation log keys are cleared, errors mapped once. */
export function createWebhookHandler(deps: AcceptDeliveryDeps) {
  return middy(makeHandler(deps))
    .before(() => deps.log.removeKeys(['deliveryId', 'integration']))
    .use(httpErrors(deps.log));
}
