import { randomUUID } from 'node:crypto';
import type { BitbucketClient, RepoRef } from '../bitbucket/rest/client';
import { BitbucketNotFoundError } from '../bitbucket/rest/errors';
import { resolveCommit } from '../bitbucket/rest/pull-requests';
import { branchHead, pullRequestHead, tagHead } from '../bitbucket/rest/refs';
import type { DecisionPullRequest, DecisionRef, TriggerDecision } from '../domain/decision';
import type { Commit } from '../domain/events';
import { MANUAL_BUILD_EVENT_KEY, type ManualBuild } from '../domain/manual-build';
import { decideManualBuild } from '../domain/rules';
import { DeliveryStateError, NotFoundError, ValidationError } from '../errors';
import { DELIVERY_TTL_DAYS } from '../ingest/accept-delivery';
import { enqueueDelivery } from '../ingest/delivery-message';
import { manualBuildDelivery, manualBuildDeliveryId, manualBuildEventOf } from '../ingest/manual-build';
import type { DeliveryRecord, IntegrationRecord, ProjectRecord } from '../store/store';
import { validate } from '../validation';
import {
  type AdminContext,
  type AdminDeps,
  type AdminRequest,
  type AdminResult,
  activeIntegration,
  audit,
  clientFor,
  findProject,
  repoRefOf,
} from './context';
import { ConflictError } from './errors';
import { BuildRequestSchema } from './schemas';

/** What a build request names: a branch or tag by name, or a pull request by number. */
type Wanted = { type: 'branch' | 'tag'; name: string } | { type: 'pull-request'; id: number };

/**
 * `POST /admin/projects/{id}/builds` (DESIGN §12): builds a branch, tag or pull request again,
 * at its head (asked of Bitbucket) or at a given commit, with reason `manual` and a trigger id
 * of its own, so it is sent even when that commit was built (or dead-lettered) before. It is
 * recorded as a delivery `build-<requestId>`, already decided, and enqueued: the processor sends
 * its trigger as it sends every other, exactly once, and `deliveries list` shows it. The same
 * `requestId` again answers the same build (`duplicate: true`) instead of a second one. Throws
 * ValidationError (no commit and no credentials to find one), NotFoundError, GoneError,
 * ConflictError and the REST client's errors.
 */
export async function requestBuild(
  deps: AdminDeps,
  context: AdminContext,
  { id, body }: AdminRequest,
): Promise<AdminResult> {
  const input = validate(BuildRequestSchema, body() ?? {}, 'request');
  const wanted = wantedOf(input);
  const project = await findProject(deps, id);
  if (project.status === 'detached') {
    throw new ConflictError(`project ${project.id} is detached: its integration was deleted`, 'detached');
  }
  const integration = await activeIntegration(deps, project.integration);
  const requestId = input.requestId ?? randomUUID();
  const deliveryId = manualBuildDeliveryId(requestId);

  const earlier = await deps.store.getDelivery(integration.name, deliveryId);
  if (earlier) return answerAgain(deps, project, earlier, wanted, input.commit);

  const build = await resolveBuild(deps, {
    integration,
    project,
    wanted,
    commit: input.commit,
    buildId: requestId,
    principal: context.principal,
  });
  const created = await deps.store.createDelivery(
    manualBuildDelivery(build, {
      integration: integration.name,
      provider: integration.provider,
      receivedAt: deps.now().toISOString(),
    }),
    DELIVERY_TTL_DAYS,
  );
  if (!created.created) {
    // The same request, retried while this one ran, recorded it first.
    const raced = await deps.store.getDelivery(integration.name, deliveryId);
    if (!raced) throw new ConflictError(`build request ${requestId} changed meanwhile; retry`, 'busy');
    return answerAgain(deps, project, raced, wanted, input.commit);
  }
  const decision = await settle(deps, project, integration.name, deliveryId, build, 'received');
  audit(deps, context, 'project.build', `project/${project.id}`, {
    delivery: deliveryId,
    ref: `${build.ref.type} ${build.ref.name}`,
    commit: build.commit.sha,
    triggerId: decision.triggerId,
  });
  return { status: 202, body: buildView(project, deliveryId, 'decided', decision) };
}

/**
 * The answer to a request id already recorded: the same build when the request names the same
 * one (finishing what the first request may have left undone), a conflict otherwise.
 */
async function answerAgain(
  deps: AdminDeps,
  project: ProjectRecord,
  record: DeliveryRecord,
  wanted: Wanted,
  commit: string | undefined,
): Promise<AdminResult> {
  const requestId = record.deliveryId.replace(/^build-/, '');
  const build = record.eventKey === MANUAL_BUILD_EVENT_KEY ? storedBuild(record) : undefined;
  if (!build || build.projectId !== project.id || !sameBuild(build, wanted, commit)) {
    throw new ConflictError(
      `requestId "${requestId}" was used for another build; give each build request its own`,
      'request-id-reused',
    );
  }
  if (record.status === 'invalid') {
    throw new ConflictError(
      `build request ${requestId} could not be processed (${record.error ?? 'invalid'}); ask again with a new requestId`,
      'build-invalid',
    );
  }
  const decision = await settle(deps, project, record.integration, record.deliveryId, build, record.status);
  const status = record.status === 'received' ? 'decided' : record.status;
  return {
    status: 202,
    body: { ...buildView(project, record.deliveryId, status, decision), duplicate: true },
  };
}

/**
 * Stores the build's decision when the record has none yet, and enqueues it unless it was
 * processed already (enqueueing again is free within SQS's deduplication window, and harmless
 * after it). Throws the store's and the queue's errors; the record stays, and the sweeper
 * enqueues a decided delivery left behind.
 */
async function settle(
  deps: AdminDeps,
  project: ProjectRecord,
  integration: string,
  deliveryId: string,
  build: ManualBuild,
  status: DeliveryRecord['status'],
): Promise<TriggerDecision> {
  const decision = decideManualBuild(
    { kind: 'manual-build', provider: project.provider, eventKey: MANUAL_BUILD_EVENT_KEY, ...build },
    {
      projectId: project.id,
      defaultBranch: project.defaultBranch,
      settings: project.settings,
      state: { openPullRequests: [] },
    },
  );
  if (status === 'received') {
    try {
      await deps.store.saveDecisions(integration, deliveryId, {
        status: 'decided',
        decisions: [decision],
        projectId: project.id,
        at: deps.now().toISOString(),
      });
    } catch (error) {
      // Decided meanwhile by a retry of the same request: the decision is the same.
      if (!(error instanceof DeliveryStateError)) throw error;
    }
  }
  if (status !== 'processed') {
    await enqueueDelivery(deps.deliveries, {
      integration,
      deliveryId,
      ...(build.repository.id ? { repositoryId: build.repository.id } : {}),
    });
  }
  return decision;
}

interface BuildInput {
  integration: IntegrationRecord;
  project: ProjectRecord;
  wanted: Wanted;
  commit: string | undefined;
  buildId: string;
  principal: string;
}

/**
 * The build: the ref and the commit to build, from Bitbucket when the integration has
 * credentials (checking a given commit exists there), from the request alone when it has not.
 */
async function resolveBuild(deps: AdminDeps, input: BuildInput): Promise<ManualBuild> {
  const { integration, project, wanted, commit } = input;
  const client = await clientFor(deps, integration);
  if (!client && !commit) {
    throw new ValidationError(
      `integration "${integration.name}" has no Bitbucket credentials to find the head of ${describe(wanted)}: give the commit to build ("commit"; hookgate admin projects build … --commit <sha>)`,
    );
  }
  const ref = repoRefOf(project);
  let head: Commit;
  let pullRequest: DecisionPullRequest | undefined;
  let fromFork = false;
  if (wanted.type === 'pull-request') {
    if (client) {
      const pull = await pullRequestHead(client, ref, wanted.id);
      if (pull.state !== 'OPEN') {
        throw new ConflictError(
          `pull request #${pull.id} is ${pull.state.toLowerCase()}: only an open pull request is built`,
          'pull-request-closed',
        );
      }
      fromFork = pull.fromFork;
      pullRequest = {
        id: pull.id,
        title: pull.title,
        sourceBranch: pull.sourceBranch,
        destinationBranch: pull.destinationBranch,
        fromFork: pull.fromFork,
        sourceRepository: pull.sourceRepository,
      };
      // A fork's commits are not in this repository: its commit is taken as Bitbucket or the caller gave it.
      head = fromFork
        ? asGiven(commit ?? pull.sourceCommit)
        : await inRepository(client, ref, commit ?? pull.sourceCommit, commit !== undefined);
    } else {
      const recorded = (await deps.store.listOpenPullRequests(project.id)).find((p) => p.id === wanted.id);
      if (!recorded) {
        throw new NotFoundError(
          `no open pull request #${wanted.id} is recorded for project ${project.id}, and integration "${integration.name}" has no credentials to ask Bitbucket`,
        );
      }
      // Unknown origin counts as a fork: built untrusted rather than given secrets by mistake.
      fromFork = recorded.fromFork !== false;
      head = asGiven(commit as string);
    }
  } else if (commit) {
    head = client ? await inRepository(client, ref, commit, true) : asGiven(commit);
  } else {
    const found = await (wanted.type === 'branch' ? branchHead : tagHead)(
      client as BitbucketClient,
      ref,
      wanted.name,
    );
    head = { sha: found.sha, abbreviated: false, ...(found.message ? { message: found.message } : {}) };
  }
  return {
    projectId: project.id,
    buildId: input.buildId,
    repository: { id: project.repositoryId, fullName: project.fullName, cloneUrls: { ...project.cloneUrls } },
    ref: refOf(wanted),
    commit: head,
    ...(pullRequest ? { pullRequest } : {}),
    fromFork,
    actor: { name: input.principal },
  };
}

/**
 * A commit of the repository with its full hash. A given one that Bitbucket does not know is
 * refused (BitbucketNotFoundError); Bitbucket's own abbreviated one (a Cloud pull request's) is
 * kept abbreviated when it cannot be resolved, as the processor does.
 */
async function inRepository(
  client: BitbucketClient,
  ref: RepoRef,
  sha: string,
  given: boolean,
): Promise<Commit> {
  try {
    return { sha: await resolveCommit(client, ref, sha), abbreviated: false };
  } catch (error) {
    if (given || !(error instanceof BitbucketNotFoundError)) throw error;
    return asGiven(sha);
  }
}

/** A hash as given: abbreviated unless it has the length of a full SHA-1 or SHA-256 one. */
function asGiven(sha: string): Commit {
  const lower = sha.toLowerCase();
  return { sha: lower, abbreviated: lower.length !== 40 && lower.length !== 64 };
}

function wantedOf(input: { branch?: string; tag?: string; pullRequest?: number }): Wanted {
  const given = [input.branch, input.tag, input.pullRequest].filter((value) => value !== undefined);
  if (given.length !== 1) {
    throw new ValidationError('give exactly one of branch, tag and pullRequest: what to build');
  }
  if (input.branch !== undefined) return { type: 'branch', name: input.branch };
  if (input.tag !== undefined) return { type: 'tag', name: input.tag };
  const id = input.pullRequest as number;
  if (!Number.isInteger(id) || id < 1 || id > 2 ** 31) {
    throw new ValidationError(`invalid request: pullRequest: must be a pull request number, not ${id}`);
  }
  return { type: 'pull-request', id };
}

/** The trigger's ref: `pull-requests/<id>` for a pull request, as the rules name it. */
function refOf(wanted: Wanted): DecisionRef {
  return wanted.type === 'pull-request'
    ? { type: 'pull-request', name: `pull-requests/${wanted.id}` }
    : { type: wanted.type, name: wanted.name };
}

function describe(wanted: Wanted): string {
  return wanted.type === 'pull-request' ? `pull request #${wanted.id}` : `${wanted.type} "${wanted.name}"`;
}

function storedBuild(record: DeliveryRecord): ManualBuild | undefined {
  try {
    const { kind: _kind, provider: _provider, eventKey: _eventKey, ...build } = manualBuildEventOf(record);
    return build;
  } catch {
    return undefined;
  }
}

/** Whether a stored build is the one a repeated request names (its commit too, when one is given). */
function sameBuild(build: ManualBuild, wanted: Wanted, commit: string | undefined): boolean {
  const ref = refOf(wanted);
  if (build.ref.type !== ref.type || build.ref.name !== ref.name) return false;
  if (commit === undefined) return true;
  const a = build.commit.sha.toLowerCase();
  const b = commit.toLowerCase();
  return a.startsWith(b) || b.startsWith(a);
}

/** What the API answers about a manual build. */
/** The answer of `POST /admin/projects/{id}/builds`; `duplicate` when the request id was seen before. */
export type BuildAnswer = ReturnType<typeof buildView> & { duplicate?: boolean };

function buildView(
  project: ProjectRecord,
  deliveryId: string,
  status: DeliveryRecord['status'],
  decision: TriggerDecision,
) {
  return {
    deliveryId,
    integration: project.integration,
    projectId: project.id,
    status,
    triggerId: decision.triggerId,
    reason: decision.reason,
    ref: decision.ref,
    commit: decision.commit,
    ...(decision.pullRequest ? { pullRequest: decision.pullRequest } : {}),
    trust: decision.trust,
    secretsAllowed: decision.secretsAllowed,
    message: decision.message,
  };
}
