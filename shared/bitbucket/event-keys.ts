import type { Provider } from '../domain/events';
import { isRecord } from '../is-record';

// Keys from the Cloud OpenAPI `hook_event.event` enum and the DC "Event payload" pages
// (see reference/bitbucket-protocol.md §1.1 and §2.1). None is sent by both platforms.
const CLOUD_ONLY_PREFIXES = ['pullrequest:', 'issue:', 'pipeline:'];
const CLOUD_ONLY_KEYS = new Set([
  'repo:push',
  'repo:fork',
  'repo:updated',
  'repo:transfer',
  'repo:created',
  'repo:deleted',
  'repo:imported',
  'repo:commit_comment_created',
  'repo:commit_status_created',
  'repo:commit_status_updated',
  'project:updated',
]);
const DC_ONLY_PREFIXES = ['pr:', 'repo:comment:', 'mirror:', 'diagnostics:'];
const DC_ONLY_KEYS = new Set([
  'repo:refs_changed',
  'repo:modified',
  'repo:forked',
  'repo:secret_detected',
  'project:modified',
  'proj:modified',
]);

export const DC_PING_KEY = 'diagnostics:ping';

/** The platform an event key belongs to, or undefined when the key alone does not tell. */
export function providerOfEventKey(eventKey: string): Provider | undefined {
  if (CLOUD_ONLY_KEYS.has(eventKey) || CLOUD_ONLY_PREFIXES.some((p) => eventKey.startsWith(p))) {
    return 'bitbucket-cloud';
  }
  if (DC_ONLY_KEYS.has(eventKey) || DC_ONLY_PREFIXES.some((p) => eventKey.startsWith(p))) {
    return 'bitbucket-data-center';
  }
  return undefined;
}

/**
 * The platform of a delivery: by event key first, then by body shape (DC bodies carry their own
 * `eventKey`, and the DC connection test is `{"test": true}`).
 */
export function inferProvider(eventKey: string | undefined, body: unknown): Provider | undefined {
  const byKey = eventKey ? providerOfEventKey(eventKey) : undefined;
  if (byKey) return byKey;
  if (isRecord(body) && (typeof body.eventKey === 'string' || body.test === true)) {
    return 'bitbucket-data-center';
  }
  return undefined;
}

/** DC's "Test connection" request: `diagnostics:ping`, or a `{"test": true}` body with no key. */
export function isPing(eventKey: string | undefined, body: unknown): boolean {
  if (eventKey === DC_PING_KEY) return true;
  return !eventKey && isRecord(body) && body.test === true && body.eventKey === undefined;
}
