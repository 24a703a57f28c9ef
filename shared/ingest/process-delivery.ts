import { gunzipSync } from 'node:zlib';
import { normaliseDelivery } from '../bitbucket/normalise';
import { buildTriggerMessage } from '../domain/build-trigger';
import { type Decision, isTrigger, type TriggerDecision } from '../domain/decision';
import type { HookEvent, PullRequestEvent } from '../domain/events';
import { BITBUCKET_CLOUD_KNOWN_HOSTS } from '../domain/known-hosts';
import { decide, type OpenPullRequest, type RuleContext } from '../domain/rules';
import { DEFAULT_SETTINGS } from '../domain/settings';
import type { TriggerMessage } from '../domain/trigger-message';
import { DependencyError, HookgateError, NotFoundError } from '../errors';
import type { Log, Telemetry } from '../observability';
import type { Queue } from '../queue/queue';
import type { DeliveryRecord, IngestStore, IntegrationRecord, ProjectRecord } from '../store/store';
import type { DeliveryMessage } from './delivery-message';
import type { RepositoryLookup } from './repository-lookup';

/** What the processor decided for one delivery (the local stack prints it). */
export interface DecisionReport {
  deliveryId: string;
  eventKey: string;
  provider: DeliveryRecord['provider'];
  /** The project's repository name, else the repository id of the payload. */
  repository?: string;
  status: 'decided' | 'invalid';
  decisions: Decision[];
  error?: string;
}

export interface ProcessDeliveryDeps {
  store: IngestStore;
  triggers: Queue;
  now: () => Date;
  log: Log;
  telemetry: Telemetry;
  /**
   * Local mode only: connects a repository the first time it is seen. Never set on AWS, where
   * an unknown repository is recorded as `unknown-repository`.
   */
  connectUnknownRepository?: (
    integration: IntegrationRecord,
    event: HookEvent,
  ) => Promise<ProjectRecord | undefined>;
  /**
   * Bitbucket's REST API, for integrations with credentials: open pull requests before an
   * only-PRs skip, and full hashes for the abbreviated ones of Cloud PR events (DESIGN §4).
   */
  lookup?: RepositoryLookup;
  /**
   * Called once per delivery, right after its decisions are stored and before any trigger is
   * sent; not again when a redelivery reuses them (the local stack prints it).
   */
  onDecided?: (report: DecisionReport) => void;
  /** Called for each trigger sent (the local stack prints it). */
  onTrigger?: (message: TriggerMessage) => void;
}

export interface ProcessOutcome {
  status: 'processed' | 'invalid' | 'already-processed';
  decisions: Decision[];
  triggersSent: number;
  duplicateTriggers: number;
}

/**
 * The processor path (DESIGN §2): decide once, send each trigger exactly once, update PR state
 * and renames, record the outcome. Every step is idempotent, so a redelivery after a crash at
 * any point finishes the job without losing or doubling a trigger:
 * 1. decisions are stored first (`decided`) and reused on redelivery, so a later PR-state
 *    update cannot change what a retry decides;
 * 2. each trigger id is claimed, then sent with the id as SQS deduplication id, then marked
 *    sent. A crash between claim and send leaves the claim `pending`, and the retry sends it;
 *    a crash between send and mark is absorbed by SQS deduplication;
 * 3. PR state and renames are applied; 4. the delivery is marked `processed`.
 * Throws on storage or queue faults so SQS retries the message.
 */
export async function processDelivery(
  deps: ProcessDeliveryDeps,
  message: DeliveryMessage,
): Promise<ProcessOutcome> {
  const { store } = deps;
  const record = await store.getDelivery(message.integration, message.deliveryId);
  if (!record)
    throw new NotFoundError(`delivery ${message.deliveryId} of ${message.integration} is not stored`);
  if (record.status === 'processed' || record.status === 'invalid') {
    return {
      status: 'already-processed',
      decisions: record.decisions ?? [],
      triggersSent: 0,
      duplicateTriggers: 0,
    };
  }

  let event: HookEvent;
  try {
    event = normaliseDelivery({
      eventKey: record.eventKey,
      body: JSON.parse(gunzipSync(record.bodyGzip).toString('utf8')),
      provider: record.provider,
    });
  } catch (error) {
    if (!(error instanceof HookgateError || error instanceof SyntaxError)) throw error;
    // A payload that cannot be read never will be: record why instead of retrying it.
    const reason = (error as Error).message;
    await store.saveDecisions(record.integration, record.deliveryId, {
      status: 'invalid',
      decisions: [],
      error: reason,
      at: deps.now().toISOString(),
    });
    deps.onDecided?.(reportOf(record, undefined, { status: 'invalid', decisions: [], error: reason }));
    deps.log.warn('delivery payload could not be read', { reason });
    deps.telemetry.count('Deliveries', 1, { outcome: 'invalid' });
    return { status: 'invalid', decisions: [], triggersSent: 0, duplicateTriggers: 0 };
  }

  const project = await findProject(deps, record, event);
  const decisions =
    record.status === 'decided' && record.decisions
      ? record.decisions
      : await decideOnce(deps, record, event, project);

  let triggersSent = 0;
  let duplicateTriggers = 0;
  if (project) {
    // State first, so the triggers of the first push after a rename carry the new name and
    // clone URL. Safe: on a redelivery the stored decisions are reused, not recomputed.
    const current = await applyState(deps, project, event);
    const integration = await store.getIntegration(record.integration);
    for (const decision of decisions) {
      if (!isTrigger(decision)) continue;
      const sent = await sendTrigger(deps, { decision, record, event, project: current, integration });
      if (sent) triggersSent += 1;
      else duplicateTriggers += 1;
    }
  }

  await store.markProcessed(record.integration, record.deliveryId, deps.now().toISOString());
  deps.telemetry.count('Triggers', triggersSent);
  if (duplicateTriggers) deps.telemetry.count('DuplicateTriggers', duplicateTriggers);
  deps.telemetry.milliseconds('ProcessingLatency', deps.now().getTime() - Date.parse(record.receivedAt));
  deps.log.info('delivery processed', {
    projectId: project?.id,
    decisions: decisions.map((d) => `${d.action}:${d.reason}${d.ref ? `:${d.ref.name}` : ''}`),
  });
  return { status: 'processed', decisions, triggersSent, duplicateTriggers };
}

async function findProject(
  deps: ProcessDeliveryDeps,
  record: DeliveryRecord,
  event: HookEvent,
): Promise<ProjectRecord | undefined> {
  const repositoryId = 'repository' in event ? event.repository?.id : undefined;
  if (!repositoryId) return undefined;
  const known = await deps.store.findProjectByRepository(record.integration, repositoryId);
  if (known || !deps.connectUnknownRepository || event.kind === 'unused') return known;
  const integration = await deps.store.getIntegration(record.integration);
  return integration ? deps.connectUnknownRepository(integration, event) : undefined;
}

async function decideOnce(
  deps: ProcessDeliveryDeps,
  record: DeliveryRecord,
  event: HookEvent,
  project: ProjectRecord | undefined,
): Promise<Decision[]> {
  let decisions: Decision[];
  if (project) {
    const context: RuleContext = {
      projectId: project.id,
      defaultBranch: project.defaultBranch,
      settings: project.settings,
      state: { openPullRequests: await deps.store.listOpenPullRequests(project.id) },
    };
    decisions = await askBitbucketBeforeSkipping(
      deps,
      record,
      event,
      project,
      context,
      decide(event, context),
    );
  } else if (event.kind === 'unused' || event.kind === 'ping') {
    decisions = decide(event, {
      defaultBranch: '',
      settings: DEFAULT_SETTINGS,
      state: { openPullRequests: [] },
    });
  } else {
    const name =
      'repository' in event && event.repository
        ? event.repository.fullName || event.repository.id
        : 'unknown';
    decisions = [
      {
        action: 'ignore',
        reason: 'unknown-repository',
        message: `no project is connected to repository ${name} on integration "${record.integration}"`,
      },
    ];
  }
  await deps.store.saveDecisions(record.integration, record.deliveryId, {
    status: 'decided',
    decisions,
    ...(project ? { projectId: project.id } : {}),
    at: deps.now().toISOString(),
  });
  deps.onDecided?.(reportOf(record, project, { status: 'decided', decisions }));
  return decisions;
}

function reportOf(
  record: DeliveryRecord,
  project: ProjectRecord | undefined,
  outcome: Pick<DecisionReport, 'status' | 'decisions' | 'error'>,
): DecisionReport {
  const repository = project?.fullName ?? record.repositoryId;
  return {
    deliveryId: record.deliveryId,
    eventKey: record.eventKey,
    provider: record.provider,
    ...(repository ? { repository } : {}),
    ...outcome,
  };
}

/**
 * DESIGN §4: open-PR state comes from PR events, so a push to a branch whose PR was opened before
 * the project was connected (or whose event was lost) finds none. When only-PRs finds none and
 * the integration has credentials, Bitbucket is asked once per such branch; the open pull
 * requests it lists are recorded (later pushes find them without asking) and the push is decided
 * again. A skip that stands says whether Bitbucket was asked. Throws DependencyError when
 * Bitbucket could not be reached, so the delivery is retried rather than skipped.
 */
async function askBitbucketBeforeSkipping(
  deps: ProcessDeliveryDeps,
  record: DeliveryRecord,
  event: HookEvent,
  project: ProjectRecord,
  context: RuleContext,
  decisions: Decision[],
): Promise<Decision[]> {
  const branches = new Set<string>();
  for (const d of decisions) if (d.reason === 'no-open-pull-request' && d.ref) branches.add(d.ref.name);
  if (branches.size === 0 || !deps.lookup) return decisions;
  const integration = await deps.store.getIntegration(record.integration);
  if (!integration?.credentialsSecretId) return decisions;

  const found: OpenPullRequest[] = [];
  const unanswered = new Map<string, string>();
  const at = deps.now().toISOString();
  for (const branch of branches) {
    try {
      const pulls = (await deps.lookup.openPullRequests(integration, project, branch)) ?? [];
      for (const pr of pulls.filter((p) => !p.fromFork)) {
        await deps.store.recordPullRequest(project.id, {
          ...pr,
          state: 'open',
          sourceRepository: project.fullName,
          updatedAt: at,
        });
        found.push(pr);
      }
    } catch (error) {
      if (error instanceof DependencyError) throw error;
      const reason = (error as Error).message;
      unanswered.set(branch, reason);
      deps.log.warn('could not ask Bitbucket for open pull requests', { branch, reason });
      deps.telemetry.count('LookupFailures');
    }
  }
  if (found.length > 0)
    deps.log.info('open pull requests found on Bitbucket', { ids: found.map((p) => p.id) });
  const decided = found.length
    ? decide(event, {
        ...context,
        state: { openPullRequests: [...context.state.openPullRequests, ...found] },
      })
    : decisions;
  return decided.map((d) => {
    if (d.reason !== 'no-open-pull-request' || !d.ref) return d;
    const failure = unanswered.get(d.ref.name);
    const note = failure ? `asking Bitbucket failed: ${failure}` : 'Bitbucket lists none either';
    return { ...d, message: `${d.message} (${note})` };
  });
}

interface TriggerContext {
  decision: TriggerDecision;
  record: DeliveryRecord;
  event: HookEvent;
  project: ProjectRecord;
  integration: IntegrationRecord | undefined;
}

/** Claims, sends and confirms one trigger. Returns false when it had already been sent. */
async function sendTrigger(deps: ProcessDeliveryDeps, context: TriggerContext): Promise<boolean> {
  const { decision, record, project, event, integration } = context;
  const { triggerId } = decision;
  const at = deps.now().toISOString();
  const claim = await deps.store.claimTrigger(triggerId, {
    projectId: project.id,
    deliveryId: record.deliveryId,
    at,
  });
  if (claim === 'sent') {
    deps.log.info('trigger already sent', { triggerId });
    return false;
  }
  const cloneUrl = project.cloneUrls.ssh ?? project.cloneUrls.https;
  if (!cloneUrl) throw new Error(`project ${project.id} has no clone URL`);
  const message = buildTriggerMessage({
    decision: await withFullCommit(deps, context),
    integration: record.integration,
    provider: record.provider,
    project: {
      id: project.id,
      fullName: project.fullName,
      repositoryId: project.repositoryId,
      cloneUrl,
      ...(project.cloneUrls.https ? { httpsUrl: project.cloneUrls.https } : {}),
      defaultBranch: project.defaultBranch,
      deployKeySecretId: project.deployKeySecretId,
      knownHosts:
        record.provider === 'bitbucket-cloud'
          ? BITBUCKET_CLOUD_KNOWN_HOSTS
          : (integration?.sshKnownHosts ?? []),
    },
    delivery: { id: record.deliveryId, eventKey: record.eventKey, receivedAt: record.receivedAt },
    ...(event.actor ? { actor: event.actor } : {}),
    createdAt: at,
  });
  await deps.triggers.send({
    body: JSON.stringify(message),
    groupId: project.id,
    deduplicationId: triggerId,
  });
  await deps.store.markTriggerSent(triggerId, deps.now().toISOString());
  deps.onTrigger?.(message);
  deps.log.info('trigger sent', { triggerId, reason: decision.reason, ref: decision.ref?.name });
  return true;
}

/**
 * The decision with its commit's full hash, when it was abbreviated (Cloud PR events) and the
 * integration has credentials (DESIGN §4). When Bitbucket cannot say, the trigger goes out with
 * the abbreviated hash, marked so, rather than late: the trigger id never depends on this.
 */
async function withFullCommit(deps: ProcessDeliveryDeps, context: TriggerContext): Promise<TriggerDecision> {
  const { decision, integration, project } = context;
  const commit = decision.commit;
  if (!commit?.abbreviated || !deps.lookup || !integration?.credentialsSecretId) return decision;
  try {
    const sha = await deps.lookup.fullCommitHash(integration, project, commit.sha);
    return sha ? { ...decision, commit: { ...commit, sha, abbreviated: false } } : decision;
  } catch (error) {
    deps.log.warn('could not resolve an abbreviated commit hash; sending it as is', {
      commit: commit.sha,
      reason: (error as Error).message,
    });
    deps.telemetry.count('LookupFailures');
    return decision;
  }
}

/** Records PR state and follows renames; returns the project as it now stands. Idempotent. */
async function applyState(
  deps: ProcessDeliveryDeps,
  project: ProjectRecord,
  event: HookEvent,
): Promise<ProjectRecord> {
  const at = deps.now().toISOString();
  if (event.kind === 'pull-request') await recordPullRequest(deps, project, event, at);
  if ('repository' in event && event.repository) {
    const { fullName, cloneUrls } = event.repository;
    const urlsChanged =
      (cloneUrls.ssh && cloneUrls.ssh !== project.cloneUrls.ssh) ||
      (cloneUrls.https && cloneUrls.https !== project.cloneUrls.https);
    if (fullName && (fullName !== project.fullName || urlsChanged)) {
      const moved = { fullName, cloneUrls: { ...project.cloneUrls, ...cloneUrls } };
      await deps.store.updateProjectRepository(project.id, { ...moved, at });
      deps.log.info('repository renamed or moved', { from: project.fullName, to: fullName });
      return { ...project, ...moved, updatedAt: at };
    }
  }
  return project;
}

async function recordPullRequest(
  deps: ProcessDeliveryDeps,
  project: ProjectRecord,
  event: PullRequestEvent,
  at: string,
): Promise<void> {
  const pr = event.pullRequest;
  await deps.store.recordPullRequest(project.id, {
    id: pr.id,
    state: event.action === 'closed' ? 'closed' : 'open',
    sourceBranch: pr.source.branch,
    sourceRepository: pr.source.repository.fullName,
    sourceCommit: pr.source.commit.sha,
    fromFork: pr.fromFork,
    draft: pr.draft,
    updatedAt: at,
  });
}
