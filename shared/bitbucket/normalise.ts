import type * as z from 'zod/mini';
import type {
  Actor,
  Commit,
  HookEvent,
  Provider,
  PullRequestEvent,
  PullRequestState,
  PushEvent,
  RefChange,
  RefType,
  Repository,
  RepositoryUpdatedEvent,
  UnusedEvent,
} from '../domain/events';
import { InvalidPayloadError, UnknownProviderError } from '../errors';
import { describeIssues, safeParse } from '../validation';
import { cloudCloneUrls } from './clone-urls';
import {
  type CloudActor,
  CloudOtherEventSchema,
  CloudPullRequestSchema,
  type CloudRepoPush,
  CloudRepoPushSchema,
  type CloudRepository,
  CloudRepoUpdatedSchema,
} from './cloud-schemas';
import {
  type DcActor,
  DcOtherEventSchema,
  DcPullRequestSchema,
  type DcRefsChanged,
  DcRefsChangedSchema,
  DcRepoModifiedSchema,
  type DcRepository,
} from './dc-schemas';
import {
  type BitbucketEvent,
  bitbucketEvent,
  DC_PING_KEY,
  inferProvider,
  isPing,
  providerOfEventKey,
} from './event-keys';

const PROVIDER_NAMES: Record<Provider, string> = {
  'bitbucket-cloud': 'Bitbucket Cloud',
  'bitbucket-data-center': 'Bitbucket Data Center',
};

export interface Delivery {
  /** `X-Event-Key`; DC's connection test may come without one. */
  eventKey: string | undefined;
  body: unknown;
  provider?: Provider;
}

const FULL_SHA_LENGTH = 40;
const ZERO_SHA = /^0+$/;

/**
 * Turns a Bitbucket delivery into the platform-neutral event model.
 * Throws UnknownProviderError when the platform cannot be told, and InvalidPayloadError when
 * an event Hookgate acts on does not have the fields it needs.
 */
export function normaliseDelivery({ eventKey, body, provider }: Delivery): HookEvent {
  const platform = provider ?? inferProvider(eventKey, body);
  if (isPing(eventKey, body)) {
    return {
      kind: 'ping',
      provider: platform ?? 'bitbucket-data-center',
      eventKey: eventKey ?? DC_PING_KEY,
    };
  }
  if (!eventKey) throw new InvalidPayloadError('the X-Event-Key header is missing');
  const keyPlatform = providerOfEventKey(eventKey);
  if (provider && keyPlatform && keyPlatform !== provider) {
    throw new InvalidPayloadError(
      `"${eventKey}" is a ${PROVIDER_NAMES[keyPlatform]} event, but this was sent as ${PROVIDER_NAMES[provider]}: point the webhook at an integration of the right provider`,
    );
  }
  if (!platform) {
    throw new UnknownProviderError(`cannot tell which Bitbucket sent "${eventKey}"; name the provider`);
  }
  const normalisers = NORMALISERS[platform];
  // A known key is of this platform: a key of the other one was refused above.
  const known = bitbucketEvent(eventKey);
  switch (known?.kind) {
    case 'push':
      return normalisers.push(eventKey, body);
    case 'pull-request':
      return normalisers.pullRequest(eventKey, body, known);
    case 'repository-updated':
      return normalisers.repositoryUpdated(eventKey, body);
    default:
      return normalisers.unused(eventKey, body);
  }
}

function parse<S extends z.ZodMiniType>(schema: S, body: unknown, eventKey: string): z.infer<S> {
  const result = safeParse(schema, body);
  if (result.success) return result.data;
  const issue = describeIssues(result.error.issues, { topLevel: 'body', limit: 1 });
  throw new InvalidPayloadError(`${eventKey} payload is not valid at ${issue}`);
}

type PullRequestKey = Extract<BitbucketEvent, { kind: 'pull-request' }>;

/** One normaliser per event family; the event-key table says which family a key belongs to. */
interface PlatformNormalisers {
  push(eventKey: string, body: unknown): PushEvent;
  pullRequest(eventKey: string, body: unknown, key: PullRequestKey): PullRequestEvent;
  repositoryUpdated(eventKey: string, body: unknown): RepositoryUpdatedEvent;
  unused(eventKey: string, body: unknown): UnusedEvent;
}

const CLOUD: PlatformNormalisers = {
  push(eventKey, body) {
    const payload = parse(CloudRepoPushSchema, body, eventKey);
    return {
      kind: 'push',
      provider: 'bitbucket-cloud',
      eventKey,
      repository: cloudRepository(payload.repository),
      actor: cloudActor(payload.actor),
      changes: payload.push.changes.flatMap(cloudRefChange),
    };
  },

  pullRequest(eventKey, body, key) {
    const payload = parse(CloudPullRequestSchema, body, eventKey);
    const pr = payload.pullrequest;
    const destinationRepository = cloudRepository(pr.destination.repository ?? payload.repository);
    const sourceRepository = pr.source.repository
      ? cloudRepository(pr.source.repository)
      : destinationRepository;
    return {
      kind: 'pull-request',
      provider: 'bitbucket-cloud',
      eventKey,
      action: key.action,
      repository: cloudRepository(payload.repository),
      actor: cloudActor(payload.actor),
      pullRequest: {
        id: pr.id,
        title: pr.title ?? '',
        state: pullRequestState(pr.state, key),
        draft: pr.draft === true,
        source: {
          branch: pr.source.branch.name,
          refType: 'branch',
          commit: commitOf(pr.source.commit?.hash ?? ''),
          repository: sourceRepository,
        },
        destination: {
          branch: pr.destination.branch.name,
          refType: 'branch',
          commit: commitOf(pr.destination.commit?.hash ?? ''),
          repository: destinationRepository,
        },
        fromFork: isDifferentRepository(sourceRepository, destinationRepository),
      },
    };
  },

  repositoryUpdated(eventKey, body) {
    const payload = parse(CloudRepoUpdatedSchema, body, eventKey);
    const previous = payload.changes?.full_name?.old;
    return {
      kind: 'repository-updated',
      provider: 'bitbucket-cloud',
      eventKey,
      repository: cloudRepository(payload.repository),
      actor: cloudActor(payload.actor),
      ...(previous ? { previousFullName: previous } : {}),
    };
  },

  unused(eventKey, body) {
    const other = CloudOtherEventSchema.safeParse(body);
    return {
      kind: 'unused',
      provider: 'bitbucket-cloud',
      eventKey,
      ...(other.success && other.data.repository
        ? { repository: cloudRepository(other.data.repository) }
        : {}),
      actor: other.success ? cloudActor(other.data.actor) : undefined,
    };
  },
};

const DATA_CENTER: PlatformNormalisers = {
  push(eventKey, body) {
    const payload = parse(DcRefsChangedSchema, body, eventKey);
    return {
      kind: 'push',
      provider: 'bitbucket-data-center',
      eventKey,
      repository: dcRepository(payload.repository),
      actor: dcActor(payload.actor),
      ...(payload.refLimitExceeded ? { refLimitExceeded: true } : {}),
      changes: payload.changes.flatMap((change) => dcRefChange(change, payload)),
    };
  },

  pullRequest(eventKey, body, key) {
    const payload = parse(DcPullRequestSchema, body, eventKey);
    const pr = payload.pullRequest;
    const destination = dcRepository(pr.toRef.repository);
    const source = dcRepository(pr.fromRef.repository);
    return {
      kind: 'pull-request',
      provider: 'bitbucket-data-center',
      eventKey,
      action: key.action,
      repository: destination,
      actor: dcActor(payload.actor),
      pullRequest: {
        id: pr.id,
        title: pr.title ?? '',
        state: pullRequestState(pr.state, key),
        draft: pr.draft === true,
        source: {
          branch: pr.fromRef.displayId ?? shortRefName(pr.fromRef.id),
          refType: refTypeOf(pr.fromRef.type, pr.fromRef.id),
          commit: commitOf(pr.fromRef.latestCommit),
          repository: source,
        },
        destination: {
          branch: pr.toRef.displayId ?? shortRefName(pr.toRef.id),
          refType: refTypeOf(pr.toRef.type, pr.toRef.id),
          commit: commitOf(pr.toRef.latestCommit),
          repository: destination,
        },
        fromFork: isDifferentRepository(source, destination),
      },
    };
  },

  repositoryUpdated(eventKey, body) {
    const payload = parse(DcRepoModifiedSchema, body, eventKey);
    const previous = payload.old ? dcRepository(payload.old).fullName : undefined;
    return {
      kind: 'repository-updated',
      provider: 'bitbucket-data-center',
      eventKey,
      repository: dcRepository(payload.new),
      actor: dcActor(payload.actor),
      ...(previous ? { previousFullName: previous } : {}),
    };
  },

  unused(eventKey, body) {
    const other = DcOtherEventSchema.safeParse(body);
    const repository = other.success
      ? (other.data.repository ?? other.data.pullRequest?.toRef?.repository)
      : undefined;
    return {
      kind: 'unused',
      provider: 'bitbucket-data-center',
      eventKey,
      ...(repository ? { repository: dcRepository(repository) } : {}),
      actor: other.success ? dcActor(other.data.actor) : undefined,
    };
  },
};

const NORMALISERS: Record<Provider, PlatformNormalisers> = {
  'bitbucket-cloud': CLOUD,
  'bitbucket-data-center': DATA_CENTER,
};

function cloudRefChange(change: CloudRepoPush['push']['changes'][number]): RefChange[] {
  const head = change.new ?? change.old;
  if (!head) return [];
  const deleted = !change.new;
  return [
    {
      refType: head.type === 'tag' ? 'tag' : 'branch',
      name: head.name,
      action: deleted ? 'deleted' : change.old ? 'updated' : 'created',
      forced: change.forced === true,
      truncated: change.truncated === true,
      commit:
        !deleted && change.new?.target ? commitOf(change.new.target.hash, change.new.target.message) : null,
      ...(change.old?.target ? { previousSha: change.old.target.hash } : {}),
    },
  ];
}

function dcRefChange(change: DcRefsChanged['changes'][number], push: DcRefsChanged): RefChange[] {
  const refId = change.ref?.id ?? change.refId ?? '';
  const name = change.ref?.displayId ?? shortRefName(refId);
  if (!name) return [];
  const deleted = change.type === 'DELETE' || (!!change.toHash && ZERO_SHA.test(change.toHash));
  let commit: Commit | null = null;
  if (!deleted && change.toHash) {
    // toCommit is the peeled head of a one-change push (for an annotated tag, the tagged
    // commit rather than the tag object); otherwise look the head up in commits[].
    const head =
      push.changes.length === 1 && push.toCommit
        ? push.toCommit
        : (push.commits?.find((c) => c.id === change.toHash) ?? undefined);
    commit = commitOf(head?.id ?? change.toHash, head?.message);
  }
  const created = change.type === 'ADD' || (!!change.fromHash && ZERO_SHA.test(change.fromHash));
  return [
    {
      refType: refTypeOf(change.ref?.type, refId),
      name,
      action: deleted ? 'deleted' : created ? 'created' : 'updated',
      // DC reports a non-fast-forward push as a plain UPDATE.
      forced: false,
      truncated: false,
      commit,
      ...(change.fromHash && !ZERO_SHA.test(change.fromHash) ? { previousSha: change.fromHash } : {}),
    },
  ];
}

function commitOf(sha: string, message?: string | null): Commit {
  return { sha, abbreviated: sha.length < FULL_SHA_LENGTH, ...(message ? { message } : {}) };
}

function pullRequestState(state: string | null | undefined, key: PullRequestKey): PullRequestState {
  if (key.closedAs) return key.closedAs;
  switch (state) {
    case 'MERGED':
      return 'merged';
    case 'DECLINED':
      return 'declined';
    case 'SUPERSEDED':
      return 'superseded';
    default:
      return 'open';
  }
}

// A fork has its own id and its own name. Either differing is enough: some real captures keep
// the destination's uuid on a fork's source side but not its name.
function isDifferentRepository(a: Repository, b: Repository): boolean {
  if (a.id && b.id && a.id !== b.id) return true;
  return !!a.fullName && !!b.fullName && a.fullName.toLowerCase() !== b.fullName.toLowerCase();
}

function shortRefName(refId: string): string {
  return refId.replace(/^refs\/(heads|tags)\//, '');
}

function refTypeOf(type: string | null | undefined, refId: string): RefType {
  return type === 'TAG' || refId.startsWith('refs/tags/') ? 'tag' : 'branch';
}

// Cloud payloads carry no clone links; Bitbucket Cloud's are derived from the full name.
function cloudRepository(repo: CloudRepository): Repository {
  const fullName = repo.full_name ?? repo.name ?? '';
  return {
    id: repo.uuid ?? null,
    fullName,
    cloneUrls: fullName ? cloudCloneUrls(fullName) : {},
  };
}

function cloudActor(actor: CloudActor | null | undefined): Actor | undefined {
  const name = actor?.display_name ?? actor?.nickname;
  if (!actor || !name) return undefined;
  const id = actor.account_id ?? actor.uuid;
  return { name, ...(actor.nickname ? { login: actor.nickname } : {}), ...(id ? { id } : {}) };
}

function dcRepository(repo: DcRepository): Repository {
  const clone = repo.links?.clone ?? [];
  const ssh = clone.find((l) => l.name === 'ssh')?.href;
  const https = clone.find((l) => l.name === 'http' || l.name === 'https')?.href;
  const project = repo.project?.key;
  return {
    id: repo.id == null ? null : String(repo.id),
    fullName: project && repo.slug ? `${project}/${repo.slug}` : (repo.slug ?? repo.name ?? ''),
    cloneUrls: { ...(ssh ? { ssh } : {}), ...(https ? { https } : {}) },
  };
}

function dcActor(actor: DcActor | null | undefined): Actor | undefined {
  const name = actor?.displayName ?? actor?.name;
  if (!actor || !name) return undefined;
  return {
    name,
    ...((actor.slug ?? actor.name) ? { login: actor.slug ?? actor.name ?? '' } : {}),
    ...(actor.id != null ? { id: String(actor.id) } : {}),
  };
}
