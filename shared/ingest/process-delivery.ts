import { gunzipSync } from 'node:zlib';
import { cloneUrlsAfter } from '../bitbucket/clone-urls';
import { normaliseDelivery } from '../bitbucket/normalise';
import { MAX_CHANGED_FILE_PAGES, MAX_CHANGED_FILES } from '../bitbucket/rest/changes';
import { currentDeadline, Deadline, withDeadline } from '../deadline';
import { buildTriggerMessage } from '../domain/build-trigger';
import { type Decision, isTrigger, type TriggerDecision } from '../domain/decision';
import type { HookEvent, PullRequestEvent } from '../domain/events';
import { BITBUCKET_CLOUD_KNOWN_HOSTS } from '../domain/known-hosts';
import { MANUAL_BUILD_EVENT_KEY } from '../domain/manual-build';
import { type ChangedPaths, rangeKey } from '../domain/path-filter';
import { changeRangesOf, decide, type OpenPullRequest, type RuleContext } from '../domain/rules';
import { DEFAULT_SETTINGS } from '../domain/settings';
import type { TriggerMessage } from '../domain/trigger-message';
import { DependencyError, HookgateError, InvalidPayloadError, isRetryable, OutOfTimeError } from '../errors';
import type { Log, Telemetry } from '../observability';
import type { Queue } from '../queue/queue';
import type { DeliveryRecord, IngestStore, IntegrationRecord, ProjectRecord } from '../store/store';
import type { DeliveryMessage } from './delivery-message';
import { manualBuildEventOf } from './manual-build';
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
   * only-PRs skip, full hashes for the abbreviated ones of Cloud PR events (DESIGN §4), and the
   * changed files path filters decide on.
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

/**
 * Failures of a delivery's own after which it is parked as `failed` and acknowledged, so it stops
 * holding back its FIFO group (see functions/processor/app.ts for why this is counted here).
 */
export const PARK_AFTER_FAILURES = 3;
/** The budget one more trigger needs at least: a claim, a send and a confirmation. */
export const TRIGGER_STEP_MS = 1_500;
/**
 * Ranges whose changed files one delivery asks for at most (one call or more each); the ref
 * changes of a larger push beyond them are built with a note, so a mirror push cannot spend the
 * invocation listing files.
 */
export const MAX_CHANGED_PATH_LOOKUPS = 25;
/** Triggers of one delivery in flight at once, so a push of 5,000 refs fits in one invocation. */
const TRIGGER_CONCURRENCY = 8;

export interface ProcessOutcome {
  /**
   * `failed`: parked after PARK_AFTER_FAILURES failures of its own; `missing`: the delivery is not
   * stored (expired, or undone by the webhook), so there is nothing to do.
   */
  status: 'processed' | 'invalid' | 'already-processed' | 'failed' | 'missing';
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
 *
 * An error no retry can fix (UnstorableValueError: item too large, number out of range, key too
 * long) records the delivery `invalid` with the reason. Any other fault is counted on the delivery
 * and thrown, so SQS brings the message back; the PARK_AFTER_FAILURES-th is parked as `failed`
 * instead. Those writes run within `bookkeeping`, the budget kept back for them. Throws
 * OutOfTimeError, uncounted, when the budget ran short before the work was done.
 */
export async function processDelivery(
  deps: ProcessDeliveryDeps,
  message: DeliveryMessage,
  bookkeeping: Deadline = Deadline.none(),
): Promise<ProcessOutcome> {
  let record: DeliveryRecord | undefined;
  try {
    record = await deps.store.getDelivery(message.integration, message.deliveryId);
    if (!record) {
      deps.log.warn('delivery is not stored (expired or undone); message acknowledged');
      deps.telemetry.count('Deliveries', 1, { outcome: 'missing' });
      return { status: 'missing', decisions: [], triggersSent: 0, duplicateTriggers: 0 };
    }
    return await processRecord(deps, record);
  } catch (error) {
    if (error instanceof OutOfTimeError) throw error;
    const known = record;
    return withDeadline(bookkeeping, () => settleFailure(deps, message, known, error));
  }
}

async function settleFailure(
  deps: ProcessDeliveryDeps,
  message: DeliveryMessage,
  record: DeliveryRecord | undefined,
  error: unknown,
): Promise<ProcessOutcome> {
  const { integration, deliveryId } = message;
  const reason = (error as Error)?.message ?? String(error);
  const at = deps.now().toISOString();
  const outcome = (status: ProcessOutcome['status']): ProcessOutcome => ({
    status,
    decisions: record?.decisions ?? [],
    triggersSent: 0,
    duplicateTriggers: 0,
  });
  try {
    if (!isRetryable(error)) {
      await deps.store.markInvalid(integration, deliveryId, { error: reason, at });
      if (record)
        deps.onDecided?.(reportOf(record, undefined, { status: 'invalid', decisions: [], error: reason }));
      deps.log.warn('delivery cannot be processed; recorded as invalid', { reason });
      deps.telemetry.count('Deliveries', 1, { outcome: 'invalid' });
      return outcome('invalid');
    }
    const counted = await deps.store.recordFailure(integration, deliveryId, {
      error: reason,
      at,
      parkAfter: PARK_AFTER_FAILURES,
    });
    if (counted === 'gone') {
      deps.log.warn('delivery failed but is no longer awaiting processing; message acknowledged', { reason });
      return outcome('already-processed');
    }
    if (counted.parked) {
      deps.log.error('delivery failed too often; parked as failed', error as Error);
      deps.telemetry.count('ParkedDeliveries');
      return outcome('failed');
    }
    deps.log.warn('delivery failed; it will be retried', { reason, failures: counted.failures });
  } catch (bookkeepingError) {
    // Not even the failure could be written: SQS's receive count is the backstop, and the record,
    // still `received` or `decided`, is what the sweeper re-enqueues should it be dead-lettered.
    deps.log.error('could not record the failure of a delivery', bookkeepingError as Error);
  }
  throw error;
}

async function processRecord(deps: ProcessDeliveryDeps, stored: DeliveryRecord): Promise<ProcessOutcome> {
  const { store } = deps;
  let record = stored;
  if (record.status === 'processed' || record.status === 'invalid') {
    return {
      status: 'already-processed',
      decisions: record.decisions ?? [],
      triggersSent: 0,
      duplicateTriggers: 0,
    };
  }
  if (record.status === 'failed') {
    // Enqueued again by a replay or a sweep: it resumes where it stood, with a fresh count.
    const status = record.decidedAt && record.decisions ? 'decided' : 'received';
    await store.resumeDelivery(record.integration, record.deliveryId, status);
    record = { ...record, status, failures: 0 };
    deps.log.info('resuming a delivery parked as failed', { status });
  }

  let event: HookEvent;
  try {
    event = eventOf(record);
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
  const alreadySent: number[] = [];
  if (project) {
    // State first, so the triggers of the first push after a rename carry the new name and
    // clone URL. Safe: on a redelivery the stored decisions are reused, not recomputed.
    const current = await applyState(deps, project, event);
    const integration = await store.getIntegration(record.integration);
    const wanted = decisions.flatMap((decision, index) => (isTrigger(decision) ? [{ decision, index }] : []));
    await eachWithin(wanted, async ({ decision, index }) => {
      const sent = await sendTrigger(deps, { decision, record, event, project: current, integration });
      if (sent === 'sent') triggersSent += 1;
      else if (sent === 'already-sent') alreadySent.push(index);
    });
  }
  const duplicateTriggers = alreadySent.length;

  await store.markProcessed(
    record.integration,
    record.deliveryId,
    deps.now().toISOString(),
    alreadySent.sort((a, b) => a - b),
  );
  deps.telemetry.count('Triggers', triggersSent);
  if (duplicateTriggers) deps.telemetry.count('DuplicateTriggers', duplicateTriggers);
  deps.telemetry.milliseconds('ProcessingLatency', deps.now().getTime() - Date.parse(record.receivedAt));
  deps.log.info('delivery processed', {
    projectId: project?.id,
    decisions: decisions.map((d) => `${d.action}:${d.reason}${d.ref ? `:${d.ref.name}` : ''}`),
  });
  return { status: 'processed', decisions, triggersSent, duplicateTriggers };
}

/**
 * The event a stored delivery holds: a Bitbucket payload, normalised, or a manual build. Throws
 * the normaliser's errors, SyntaxError, and InvalidPayloadError for a manual build that did not
 * come from the admin API: it records them decided (a replay of one decides again), so an
 * undecided one was sent to the webhook, and a signed delivery may not pose as an admin's build.
 */
function eventOf(record: DeliveryRecord): HookEvent {
  if (record.eventKey !== MANUAL_BUILD_EVENT_KEY) {
    return normaliseDelivery({
      eventKey: record.eventKey,
      body: JSON.parse(gunzipSync(record.bodyGzip).toString('utf8')),
      provider: record.provider,
    });
  }
  if (record.status === 'received' && !record.replayOf) {
    throw new InvalidPayloadError(
      `${MANUAL_BUILD_EVENT_KEY} is recorded by the admin API only (POST /admin/projects/{id}/builds); this one was not`,
    );
  }
  return manualBuildEventOf(record);
}

/**
 * Runs `work` for each item, TRIGGER_CONCURRENCY at a time, starting none once the budget is
 * shorter than TRIGGER_STEP_MS. Settles only when every started item has, so nothing outlives the
 * invocation; then throws the first error, or OutOfTimeError when items were left unstarted.
 */
async function eachWithin<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (currentDeadline().shorterThan(TRIGGER_STEP_MS)) {
        failure = {
          error: new OutOfTimeError(`${items.length - next} of ${items.length} triggers left to send`),
        };
        return;
      }
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(TRIGGER_CONCURRENCY, items.length) }, worker));
  if (failure) throw failure.error;
}

async function findProject(
  deps: ProcessDeliveryDeps,
  record: DeliveryRecord,
  event: HookEvent,
): Promise<ProjectRecord | undefined> {
  const repositoryId = 'repository' in event ? event.repository?.id : undefined;
  if (!repositoryId) return undefined;
  const known = await deps.store.findProjectByRepository(record.integration, repositoryId);
  // A manual build names a project that was connected when it was asked for; if it is gone, so be it.
  if (known || !deps.connectUnknownRepository || event.kind === 'unused' || event.kind === 'manual-build')
    return known;
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
    const asked = await askBitbucketBeforeSkipping(deps, record, event, project, context);
    const changedPaths = await lookUpChangedPaths(deps, record, event, project, asked.context);
    decisions = asked.noted(decide(event, changedPaths ? { ...asked.context, changedPaths } : asked.context));
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
 * again: answers the context with the pull requests found, and `noted`, which makes a skip that
 * stands say whether Bitbucket was asked. Throws DependencyError when Bitbucket could not be
 * reached, so the delivery is retried rather than skipped.
 */
async function askBitbucketBeforeSkipping(
  deps: ProcessDeliveryDeps,
  record: DeliveryRecord,
  event: HookEvent,
  project: ProjectRecord,
  context: RuleContext,
): Promise<{ context: RuleContext; noted: (decisions: Decision[]) => Decision[] }> {
  const unchanged = { context, noted: (decisions: Decision[]) => decisions };
  const branches = new Set<string>();
  for (const d of decide(event, context))
    if (d.reason === 'no-open-pull-request' && d.ref) branches.add(d.ref.name);
  if (branches.size === 0 || !deps.lookup) return unchanged;
  const integration = await deps.store.getIntegration(record.integration);
  if (!integration?.credentialsSecretId) return unchanged;

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
  return {
    context: found.length
      ? { ...context, state: { openPullRequests: [...context.state.openPullRequests, ...found] } }
      : context,
    noted: (decisions) =>
      decisions.map((d) => {
        if (d.reason !== 'no-open-pull-request' || !d.ref) return d;
        const failure = unanswered.get(d.ref.name);
        const note = failure ? `asking Bitbucket failed: ${failure}` : 'Bitbucket lists none either';
        return { ...d, message: `${d.message} (${note})` };
      }),
  };
}

/**
 * The changed files of the ranges the path filters need (`changeRangesOf`), asked of Bitbucket
 * before deciding; undefined, asking nothing, when no filter applies. Whatever Bitbucket cannot
 * answer (no credentials, refused, unreachable after retries, too many files) is recorded as
 * unknown with why, and the rules build it saying so: a path filter never holds a build back on
 * a guess, nor a delivery on an outage.
 */
async function lookUpChangedPaths(
  deps: ProcessDeliveryDeps,
  record: DeliveryRecord,
  event: HookEvent,
  project: ProjectRecord,
  context: RuleContext,
): Promise<Map<string, ChangedPaths> | undefined> {
  const ranges = changeRangesOf(event, context);
  if (ranges.length === 0) return undefined;
  const answers = new Map<string, ChangedPaths>();
  const integration = deps.lookup ? await deps.store.getIntegration(record.integration) : undefined;
  for (const [index, range] of ranges.entries()) {
    const key = rangeKey(range);
    if (index >= MAX_CHANGED_PATH_LOOKUPS) {
      answers.set(key, {
        unknown: `only the first ${MAX_CHANGED_PATH_LOOKUPS} ref changes of a delivery are looked up`,
      });
      continue;
    }
    if (!deps.lookup || !integration?.credentialsSecretId) {
      answers.set(key, {
        unknown: 'the integration has no Bitbucket credentials to list changed files with',
      });
      continue;
    }
    try {
      const files = await deps.lookup.changedFiles(integration, project, range);
      answers.set(
        key,
        !files
          ? { unknown: 'the integration has no Bitbucket credentials to list changed files with' }
          : 'tooMany' in files
            ? {
                unknown: `too many changed files to list (over ${MAX_CHANGED_FILES}, or ${MAX_CHANGED_FILE_PAGES} pages)`,
              }
            : { paths: files.paths },
      );
    } catch (error) {
      if (error instanceof OutOfTimeError) throw error;
      const reason = (error as Error).message;
      answers.set(key, { unknown: `listing changed files failed: ${reason}` });
      deps.log.warn('could not ask Bitbucket for changed files', { range: key, reason });
      deps.telemetry.count('LookupFailures');
    }
  }
  return answers;
}

interface TriggerContext {
  decision: TriggerDecision;
  record: DeliveryRecord;
  event: HookEvent;
  project: ProjectRecord;
  integration: IntegrationRecord | undefined;
}

/**
 * Claims, sends and confirms one trigger. Answers `sent`, `already-sent` when another delivery
 * had sent it, or `sent-earlier` when an earlier attempt of this delivery had.
 */
async function sendTrigger(
  deps: ProcessDeliveryDeps,
  context: TriggerContext,
): Promise<'sent' | 'already-sent' | 'sent-earlier'> {
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
    return 'already-sent';
  }
  if (claim === 'sent-by-this-delivery') return 'sent-earlier';
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
      ...(project.pipelineFile ? { pipelineFile: project.pipelineFile } : {}),
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
  return 'sent';
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
  // A manual build's repository is the project as it stood when asked for, not news of a rename.
  if (event.kind === 'manual-build') return project;
  const named = 'repository' in event ? event.repository : undefined;
  if (!named?.fullName) return project;
  // A move whose payload has no links (most Data Center ones) must not keep the old name's URLs.
  const cloneUrls = cloneUrlsAfter(project, named);
  const urlsChanged = cloneUrls.ssh !== project.cloneUrls.ssh || cloneUrls.https !== project.cloneUrls.https;
  if (named.fullName === project.fullName && !urlsChanged) return project;
  const moved = { fullName: named.fullName, cloneUrls };
  await deps.store.updateProjectRepository(project.id, { ...moved, at });
  if (named.fullName !== project.fullName)
    deps.log.info('repository renamed or moved', { from: project.fullName, to: named.fullName });
  return { ...project, ...moved, updatedAt: at };
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
