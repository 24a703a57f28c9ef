import type { Provider, PullRequestAction, PullRequestState } from '../domain/events';
import { isRecord } from '../is-record';

/** What Hookgate makes of one Bitbucket event key. */
export type BitbucketEvent = {
  provider: Provider;
  /** Whether the webhooks Hookgate creates subscribe to it. */
  subscribed?: true;
} & (
  | { kind: 'push' | 'repository-updated' | 'ping' | 'unused' }
  | {
      kind: 'pull-request';
      action: PullRequestAction;
      /** The state a closing key tells by itself, whatever state its payload still shows. */
      closedAs?: Exclude<PullRequestState, 'open'>;
    }
);

export const DC_PING_KEY = 'diagnostics:ping';

const CLOUD = 'bitbucket-cloud';
const DC = 'bitbucket-data-center';

// Keys from the Cloud OpenAPI `hook_event.event` enum and the DC "Event payload" pages
// (see reference/bitbucket-protocol.md §1.1 and §2.1). None is sent by both platforms.
// Subscribed keys are listed in the order a webhook is created with.
const EVENTS: Record<string, BitbucketEvent> = {
  'repo:push': { provider: CLOUD, kind: 'push', subscribed: true },
  'pullrequest:created': { provider: CLOUD, kind: 'pull-request', action: 'opened', subscribed: true },
  'pullrequest:updated': { provider: CLOUD, kind: 'pull-request', action: 'updated', subscribed: true },
  'pullrequest:fulfilled': {
    provider: CLOUD,
    kind: 'pull-request',
    action: 'closed',
    closedAs: 'merged',
    subscribed: true,
  },
  'pullrequest:rejected': {
    provider: CLOUD,
    kind: 'pull-request',
    action: 'closed',
    closedAs: 'declined',
    subscribed: true,
  },
  'pullrequest:superseded': {
    provider: CLOUD,
    kind: 'pull-request',
    action: 'closed',
    closedAs: 'superseded',
  },
  // Review verdicts never build; listed so they are recorded as known keys.
  'pullrequest:changes_request_created': { provider: CLOUD, kind: 'unused' },
  'pullrequest:changes_request_removed': { provider: CLOUD, kind: 'unused' },
  'repo:updated': { provider: CLOUD, kind: 'repository-updated', subscribed: true },
  'repo:transfer': { provider: CLOUD, kind: 'repository-updated' },
  'repo:fork': { provider: CLOUD, kind: 'unused' },
  'repo:created': { provider: CLOUD, kind: 'unused' },
  'repo:deleted': { provider: CLOUD, kind: 'unused' },
  'repo:imported': { provider: CLOUD, kind: 'unused' },
  'repo:commit_comment_created': { provider: CLOUD, kind: 'unused' },
  'repo:commit_status_created': { provider: CLOUD, kind: 'unused' },
  'repo:commit_status_updated': { provider: CLOUD, kind: 'unused' },
  'project:updated': { provider: CLOUD, kind: 'unused' },

  'repo:refs_changed': { provider: DC, kind: 'push', subscribed: true },
  'pr:opened': { provider: DC, kind: 'pull-request', action: 'opened', subscribed: true },
  'pr:from_ref_updated': { provider: DC, kind: 'pull-request', action: 'source-moved', subscribed: true },
  'pr:modified': { provider: DC, kind: 'pull-request', action: 'metadata', subscribed: true },
  // Listed in the DC docs though live instances reject it; a target change is metadata.
  'pr:to_ref_updated': { provider: DC, kind: 'pull-request', action: 'metadata' },
  'pr:merged': { provider: DC, kind: 'pull-request', action: 'closed', closedAs: 'merged', subscribed: true },
  'pr:declined': {
    provider: DC,
    kind: 'pull-request',
    action: 'closed',
    closedAs: 'declined',
    subscribed: true,
  },
  'pr:deleted': {
    provider: DC,
    kind: 'pull-request',
    action: 'closed',
    closedAs: 'declined',
    subscribed: true,
  },
  // "Changes requested": live instances send needs_work, the docs name changes_requested
  // (protocol brief §2.1). Neither builds.
  'pr:reviewer:needs_work': { provider: DC, kind: 'unused' },
  'pr:reviewer:changes_requested': { provider: DC, kind: 'unused' },
  'repo:modified': { provider: DC, kind: 'repository-updated', subscribed: true },
  'mirror:repo_synchronized': { provider: DC, kind: 'push' },
  'repo:forked': { provider: DC, kind: 'unused' },
  'repo:secret_detected': { provider: DC, kind: 'unused' },
  'project:modified': { provider: DC, kind: 'unused' },
  'proj:modified': { provider: DC, kind: 'unused' },
  [DC_PING_KEY]: { provider: DC, kind: 'ping' },
};

// Families whose other keys (comments, approvals, issues, pipelines …) still tell the platform.
const KEY_FAMILIES: [prefix: string, provider: Provider][] = [
  ['pullrequest:', CLOUD],
  ['issue:', CLOUD],
  ['pipeline:', CLOUD],
  ['pr:', DC],
  ['repo:comment:', DC],
  ['mirror:', DC],
  ['diagnostics:', DC],
];

const EVENTS_BY_KEY = new Map(Object.entries(EVENTS));

/** The Cloud events a Hookgate webhook subscribes to. */
export const CLOUD_WEBHOOK_EVENTS = subscribedKeys(CLOUD);
/** The Data Center events a Hookgate webhook subscribes to. */
export const DATA_CENTER_WEBHOOK_EVENTS = subscribedKeys(DC);

function subscribedKeys(provider: Provider): readonly string[] {
  return Object.freeze(
    [...EVENTS_BY_KEY]
      .filter(([, event]) => event.provider === provider && event.subscribed)
      .map(([key]) => key),
  );
}

/** What Hookgate makes of an event key, or undefined for a key it does not know. */
export function bitbucketEvent(eventKey: string): BitbucketEvent | undefined {
  return EVENTS_BY_KEY.get(eventKey);
}

/** Every event key Hookgate knows, with what it makes of it. */
export function knownEvents(): [eventKey: string, event: BitbucketEvent][] {
  return [...EVENTS_BY_KEY];
}

/** The events a Hookgate webhook subscribes to on a platform, in the order it is created with. */
export function webhookEvents(provider: Provider): readonly string[] {
  return provider === CLOUD ? CLOUD_WEBHOOK_EVENTS : DATA_CENTER_WEBHOOK_EVENTS;
}

/** The platform an event key belongs to, or undefined when the key alone does not tell. */
export function providerOfEventKey(eventKey: string): Provider | undefined {
  return (
    bitbucketEvent(eventKey)?.provider ?? KEY_FAMILIES.find(([prefix]) => eventKey.startsWith(prefix))?.[1]
  );
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
