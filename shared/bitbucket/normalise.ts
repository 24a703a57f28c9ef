import type * as z from 'zod/mini';
import type {
  Actor,
  Commit,
  HookEvent,
  Provider,
  PullRequestAction,
  PullRequestState,
  RefChange,
  RefType,
  Repository,
} from '../domain/events';
import { InvalidPayloadError, UnknownProviderError } from '../errors';
import { describeIssues } from '../validation';
import {
  type CloudActor,
  CloudOtherEventSchema,
  CloudPullRequestSchema,
  CloudRepoPushSchema,
  type CloudRepository,
  CloudRepoUpdatedSchema,
} from './cloud-schemas';
import {
  type DcActor,
  DcOtherEventSchema,
  DcPullRequestSchema,
  DcRefsChangedSchema,
  DcRepoModifiedSchema,
  type DcRepository,
} from './dc-schemas';
import { inferProvider, isPing, providerOfEventKey } from './event-keys';

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
      eventKey: eventKey ?? 'diagnostics:ping',
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
  return platform === 'bitbucket-cloud'
    ? normaliseCloud(eventKey, body)
    : normaliseDataCenter(eventKey, body);
}

function parse<S extends z.ZodMiniType>(schema: S, body: unknown, eventKey: string): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = describeIssues(result.error.issues, { topLevel: 'body', limit: 1 });
  throw new InvalidPayloadError(`${eventKey} payload is not valid at ${issue}`);
}

const CLOUD_PR_ACTIONS: Record<string, PullRequestAction> = {
  'pullrequest:created': 'opened',
  'pullrequest:updated': 'updated',
  'pullrequest:fulfilled': 'closed',
  'pullrequest:rejected': 'closed',
  'pullrequest:superseded': 'closed',
};

function normaliseCloud(eventKey: string, body: unknown): HookEvent {
  const provider = 'bitbucket-cloud';
  if (eventKey === 'repo:push') {
    const payload = parse(CloudRepoPushSchema, body, eventKey);
    return {
      kind: 'push',
      provider,
      eventKey,
      repository: cloudRepository(payload.repository),
      actor: cloudActor(payload.actor),
      changes: payload.push.changes.flatMap((change): RefChange[] => {
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
              !deleted && change.new?.target
                ? commitOf(change.new.target.hash, change.new.target.message)
                : null,
            ...(change.old?.target ? { previousSha: change.old.target.hash } : {}),
          },
        ];
      }),
    };
  }
  const prAction = CLOUD_PR_ACTIONS[eventKey];
  if (prAction) {
    const payload = parse(CloudPullRequestSchema, body, eventKey);
    const pr = payload.pullrequest;
    const destinationRepository = cloudRepository(pr.destination.repository ?? payload.repository);
    const sourceRepository = pr.source.repository
      ? cloudRepository(pr.source.repository)
      : destinationRepository;
    return {
      kind: 'pull-request',
      provider,
      eventKey,
      action: prAction,
      repository: cloudRepository(payload.repository),
      actor: cloudActor(payload.actor),
      pullRequest: {
        id: pr.id,
        title: pr.title ?? '',
        state: pullRequestState(pr.state, eventKey),
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
  }
  if (eventKey === 'repo:updated' || eventKey === 'repo:transfer') {
    const payload = parse(CloudRepoUpdatedSchema, body, eventKey);
    const previous = payload.changes?.full_name?.old;
    return {
      kind: 'repository-updated',
      provider,
      eventKey,
      repository: cloudRepository(payload.repository),
      actor: cloudActor(payload.actor),
      ...(previous ? { previousFullName: previous } : {}),
    };
  }
  const other = CloudOtherEventSchema.safeParse(body);
  return {
    kind: 'unused',
    provider,
    eventKey,
    ...(other.success && other.data.repository ? { repository: cloudRepository(other.data.repository) } : {}),
    actor: other.success ? cloudActor(other.data.actor) : undefined,
  };
}

const DC_PR_ACTIONS: Record<string, PullRequestAction> = {
  'pr:opened': 'opened',
  'pr:from_ref_updated': 'source-moved',
  'pr:modified': 'metadata',
  // Listed in the DC docs though live instances reject it; a target change is metadata.
  'pr:to_ref_updated': 'metadata',
  'pr:merged': 'closed',
  'pr:declined': 'closed',
  'pr:deleted': 'closed',
};

function normaliseDataCenter(eventKey: string, body: unknown): HookEvent {
  const provider = 'bitbucket-data-center';
  if (eventKey === 'repo:refs_changed' || eventKey === 'mirror:repo_synchronized') {
    const payload = parse(DcRefsChangedSchema, body, eventKey);
    const { commits, toCommit } = payload;
    const single = payload.changes.length === 1;
    return {
      kind: 'push',
      provider,
      eventKey,
      repository: dcRepository(payload.repository),
      actor: dcActor(payload.actor),
      ...(payload.refLimitExceeded ? { refLimitExceeded: true } : {}),
      changes: payload.changes.flatMap((change): RefChange[] => {
        const refId = change.ref?.id ?? change.refId ?? '';
        const name = change.ref?.displayId ?? refId.replace(/^refs\/(heads|tags)\//, '');
        if (!name) return [];
        const deleted = change.type === 'DELETE' || (!!change.toHash && ZERO_SHA.test(change.toHash));
        const refType: RefType =
          change.ref?.type === 'TAG' || refId.startsWith('refs/tags/') ? 'tag' : 'branch';
        let commit: Commit | null = null;
        if (!deleted && change.toHash) {
          // toCommit is the peeled head of a one-change push (for an annotated tag, the tagged
          // commit rather than the tag object); otherwise look the head up in commits[].
          const head =
            single && toCommit ? toCommit : (commits?.find((c) => c.id === change.toHash) ?? undefined);
          commit = commitOf(head?.id ?? change.toHash, head?.message);
        }
        const created = change.type === 'ADD' || (!!change.fromHash && ZERO_SHA.test(change.fromHash));
        return [
          {
            refType,
            name,
            action: deleted ? 'deleted' : created ? 'created' : 'updated',
            // DC reports a non-fast-forward push as a plain UPDATE.
            forced: false,
            truncated: false,
            commit,
            ...(change.fromHash && !ZERO_SHA.test(change.fromHash) ? { previousSha: change.fromHash } : {}),
          },
        ];
      }),
    };
  }
  const prAction = DC_PR_ACTIONS[eventKey];
  if (prAction) {
    const payload = parse(DcPullRequestSchema, body, eventKey);
    const pr = payload.pullRequest;
    const destination = dcRepository(pr.toRef.repository);
    const source = dcRepository(pr.fromRef.repository);
    return {
      kind: 'pull-request',
      provider,
      eventKey,
      action: prAction,
      repository: destination,
      actor: dcActor(payload.actor),
      pullRequest: {
        id: pr.id,
        title: pr.title ?? '',
        state: pullRequestState(pr.state, eventKey),
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
  }
  if (eventKey === 'repo:modified') {
    const payload = parse(DcRepoModifiedSchema, body, eventKey);
    const previous = payload.old ? dcRepository(payload.old).fullName : undefined;
    return {
      kind: 'repository-updated',
      provider,
      eventKey,
      repository: dcRepository(payload.new),
      actor: dcActor(payload.actor),
      ...(previous ? { previousFullName: previous } : {}),
    };
  }
  const other = DcOtherEventSchema.safeParse(body);
  const repository = other.success
    ? (other.data.repository ?? other.data.pullRequest?.toRef?.repository)
    : undefined;
  return {
    kind: 'unused',
    provider,
    eventKey,
    ...(repository ? { repository: dcRepository(repository) } : {}),
    actor: other.success ? dcActor(other.data.actor) : undefined,
  };
}

function commitOf(sha: string, message?: string | null): Commit {
  return { sha, abbreviated: sha.length < FULL_SHA_LENGTH, ...(message ? { message } : {}) };
}

function pullRequestState(state: string | null | undefined, eventKey: string): PullRequestState {
  if (eventKey.endsWith('fulfilled') || eventKey === 'pr:merged') return 'merged';
  if (eventKey.endsWith('rejected') || eventKey === 'pr:declined' || eventKey === 'pr:deleted')
    return 'declined';
  if (eventKey.endsWith('superseded')) return 'superseded';
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
    cloneUrls: fullName
      ? { ssh: `git@bitbucket.org:${fullName}.git`, https: `https://bitbucket.org/${fullName}.git` }
      : {},
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
