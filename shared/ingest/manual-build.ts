import { gunzipSync, gzipSync } from 'node:zlib';
import type { ManualBuildEvent, Provider } from '../domain/events';
import { MANUAL_BUILD_EVENT_KEY, type ManualBuild, ManualBuildSchema } from '../domain/manual-build';
import { InvalidPayloadError } from '../errors';
import type { DeliveryRecord, NewDelivery } from '../store/store';
import { describeIssues } from '../validation';

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
