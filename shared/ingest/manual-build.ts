import { gunzipSync, gzipSync } from 'node:zlib';
import * as z from 'zod/mini';
import type { ManualBuildEvent, Provider } from '../domain/events';
import { MANUAL_BUILD_EVENT_KEY, type ManualBuild } from '../domain/manual-build';
import { COMMIT_FIELDS, PULL_REQUEST_FIELDS } from '../domain/trigger-message';
import { InvalidPayloadError } from '../errors';
import type { DeliveryRecord, NewDelivery } from '../store/store';
import { describeIssues, oneOf } from '../validation';

/** The stored body of a manual build: what `manualBuildDelivery` writes. */
const ManualBuildSchema = z.object({
  projectId: z.string(),
  buildId: z.string(),
  repository: z.object({
    id: z.string(),
    fullName: z.string(),
    cloneUrls: z.object({ ssh: z.optional(z.string()), https: z.optional(z.string()) }),
  }),
  ref: z.object({ type: oneOf(['branch', 'tag', 'pull-request'] as const), name: z.string() }),
  commit: z.object(COMMIT_FIELDS),
  pullRequest: z.optional(z.object(PULL_REQUEST_FIELDS)),
  fromFork: z.boolean(),
  actor: z.object({ name: z.string() }),
});

/** A manual build's delivery id: one per build request id, so a retried request finds its record. */
export function manualBuildDeliveryId(requestId: string): string {
  return `build-${requestId}`;
}

/**
 * The delivery record of a manual build (DESIGN §12): recorded like a delivery, so the processor
 * sends its trigger exactly once and `deliveries list` shows it, with the build as its body.
 */
export function manualBuildDelivery(
  build: ManualBuild,
  record: { integration: string; provider: Provider; receivedAt: string },
): NewDelivery {
  return {
    integration: record.integration,
    deliveryId: manualBuildDeliveryId(build.buildId),
    provider: record.provider,
    eventKey: MANUAL_BUILD_EVENT_KEY,
    headers: {},
    bodyGzip: gzipSync(JSON.stringify(build)),
    // Its FIFO group is the repository's, as for Bitbucket's deliveries of it.
    ...(build.repository.id ? { repositoryId: build.repository.id } : {}),
    receivedAt: record.receivedAt,
  };
}

/**
 * The manual build event a delivery record holds, on the provider of its record. Throws
 * InvalidPayloadError (or SyntaxError) when its body is not a manual build.
 */
export function manualBuildEventOf(record: Pick<DeliveryRecord, 'provider' | 'bodyGzip'>): ManualBuildEvent {
  const result = ManualBuildSchema.safeParse(JSON.parse(gunzipSync(record.bodyGzip).toString('utf8')));
  if (!result.success) {
    throw new InvalidPayloadError(
      `${MANUAL_BUILD_EVENT_KEY} record is not valid at ${describeIssues(result.error.issues, { topLevel: 'body', limit: 1 })}`,
    );
  }
  return {
    kind: 'manual-build',
    provider: record.provider,
    eventKey: MANUAL_BUILD_EVENT_KEY,
    ...result.data,
  };
}
