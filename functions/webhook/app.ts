import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { TtlCache } from '../../shared/cache';
import { Deadline, withDeadline } from '../../shared/deadline';
import { DependencyError } from '../../shared/errors';
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
  /** Waits between secret refetches (tests pass one that moves their clock). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * What each invocation keeps back from its AWS calls (DESIGN §11). The function times out after
 * 10 s and Bitbucket Cloud gives up after 10 s counted from its side, which includes API Gateway
 * and a cold start (up to about a second): calls get what remains less 3 s, so a 503 leaves at
 * 7 s of function time at the latest and reaches Bitbucket well before either limit.
 */
export const WEBHOOK_RESERVE_MS = 3_000;

/**
 * middy's own deadline, a backstop should something not heed ours: it fires this long before the
 * function's timeout, 500 ms after our budget ends, and answers 503 (its default would be a 500).
 */
const MIDDY_TIMEOUT_EARLY_MS = WEBHOOK_RESERVE_MS - 500;

/** Integrations cached at most; a flood of made-up names evicts only the least recently used. */
export const INTEGRATION_CACHE_ENTRIES = 2_000;

/** Wires the webhook path's dependencies from its adapters (AWS, or local mode's). */
export function webhookDeps(adapters: WebhookAdapters): AcceptDeliveryDeps {
  const now = adapters.now ?? (() => new Date());
  return {
    store: adapters.store,
    deliveries: adapters.deliveries,
    integrations: new TtlCache<IntegrationRecord | undefined>(
      adapters.integrationCacheMs ?? 30_000,
      () => now().getTime(),
      INTEGRATION_CACHE_ENTRIES,
    ),
    secrets: new WebhookSecrets({
      store: adapters.secretStore,
      ttlMs: adapters.secretCacheMs ?? 300_000,
      now,
      ...(adapters.sleep ? { sleep: adapters.sleep } : {}),
    }),
    now,
    log: adapters.log,
    telemetry: adapters.telemetry,
  };
}

/**
 * `POST /webhooks/{integration}`: extract the request, accept it inside the invocation's budget,
 * map the result.
 */
export function makeHandler(deps: AcceptDeliveryDeps) {
  return async (
    event: APIGatewayProxyEventV2,
    context: Partial<Pick<Context, 'getRemainingTimeInMillis'>>,
  ): Promise<APIGatewayProxyResultV2> => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    const result = await withDeadline(Deadline.fromLambdaContext(context, WEBHOOK_RESERVE_MS), () =>
      acceptDelivery(deps, { integration: event.pathParameters?.integration ?? '', headers, body }),
    );
    return jsonResponse(result.status, result.body);
  };
}

/** The middy-wrapped handler: per-invocation log keys are cleared, errors mapped once. */
export function createWebhookHandler(deps: AcceptDeliveryDeps) {
  return middy(makeHandler(deps), {
    timeoutEarlyInMillis: MIDDY_TIMEOUT_EARLY_MS,
    timeoutEarlyResponse: () => {
      throw new DependencyError('the invocation ran out of time');
    },
  })
    .before(() => deps.log.removeKeys(['deliveryId', 'integration']))
    .use(httpErrors(deps.log));
}
