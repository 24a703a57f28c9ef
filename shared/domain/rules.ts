import type {
  Decision,
  DecisionPullRequest,
  SkipDecision,
  SkipReason,
  TriggerDecision,
  TriggerReason,
} from './decision';
import type {
  HookEvent,
  ManualBuildEvent,
  PullRequest,
  PullRequestEvent,
  PushEvent,
  RefChange,
} from './events';
import { firstMatch } from './glob';
import { type ChangedPaths, type ChangeRange, judgePaths, pathFiltersOf, rangeKey } from './path-filter';
import { type ProjectSettings, skipMarkersOf } from './settings';
import { manualTriggerIdOf, triggerIdOf } from './trigger-id';

/** An open pull request as Hookgate last saw it. */
export interface OpenPullRequest {
  id: number;
  sourceBranch: string;
  /** The last source commit seen; Cloud PR events carry 12 characters of it. */
  sourceCommit?: string;
  /** Opened from a fork: its branch is not a branch of this repository. */
  fromFork?: boolean;
  draft?: boolean;
}

export interface PullRequestSnapshot {
  openPullRequests: readonly OpenPullRequest[];
}

export interface RuleContext {
  /** The project id trigger ids are scoped to; defaults to the repository id. */
  projectId?: string;
  defaultBranch: string;
  settings: ProjectSettings;
  state: PullRequestSnapshot;
  /**
   * The changed files of the ranges `changeRangesOf` names, by `rangeKey`, looked up before
   * deciding (only when `includePaths` or `excludePaths` is set). A range missing here is built,
   * its message saying the filters were not applied.
   */
  changedPaths?: ReadonlyMap<string, ChangedPaths>;
}

/** A decision before the path filters, and the range whose files would decide it, if they apply. */
interface Pending {
  decision: Decision;
  range?: ChangeRange;
  label?: string;
}

/**
 * The ranges whose changed files the path filters need for this event: those of the ref changes
 * and pull-request events that would build otherwise (the default branch, tags, always-build
 * branches and manual builds never ask). Empty when no path filter is set. Pure.
 */
export function changeRangesOf(event: HookEvent, context: RuleContext): ChangeRange[] {
  if (!pathFiltersOf(context.settings)) return [];
  const pending =
    event.kind === 'push'
      ? pendingPush(event, context)
      : event.kind === 'pull-request'
        ? [pendingPullRequest(event, context)]
        : [];
  const ranges = new Map<string, ChangeRange>();
  for (const { range } of pending) if (range) ranges.set(rangeKey(range), range);
  return [...ranges.values()];
}

/** A pending decision with the path filters applied: `paths-not-matched`, or built with a note. */
function filtered(pending: Pending, context: RuleContext): Decision {
  const { decision, range, label } = pending;
  const filters = pathFiltersOf(context.settings);
  if (!range || !label || !filters || decision.action !== 'trigger') return decision;
  const verdict = judgePaths(context.changedPaths?.get(rangeKey(range)), filters, label);
  if (verdict.build) return { ...decision, message: `${decision.message}; ${verdict.note}` };
  const { triggerId: _id, trust: _trust, secretsAllowed: _secrets, ...rest } = decision;
  return { ...rest, action: 'skip', reason: 'paths-not-matched', message: verdict.message };
}

/**
 * Applies DESIGN §4 to one normalised event: one decision per ref change (in payload order), one
 * per pull-request event, one for anything else. Pure: no I/O, no clock, no environment.
 */
export function decide(event: HookEvent, context: RuleContext): Decision[] {
  switch (event.kind) {
    case 'push':
      return decidePush(event, context);
    case 'pull-request':
      return [decidePullRequest(event, context)];
    case 'repository-updated':
      return [
        {
          action: 'ignore',
          reason: 'repository-updated',
          message: event.previousFullName
            ? `repository renamed or moved from ${event.previousFullName} to ${event.repository.fullName}; nothing to build`
            : `repository ${event.repository.fullName} was updated; nothing to build`,
        },
      ];
    case 'ping':
      return [
        { action: 'ignore', reason: 'ping', message: 'connection test from Bitbucket; nothing to build' },
      ];
    case 'unused':
      return [notUsed(`"${event.eventKey}" events do not start builds`)];
    case 'manual-build':
      return [decideManualBuild(event, context)];
  }
}

/**
 * A manual build is built whatever the settings say (an admin asked for exactly this ref and
 * commit): no skip marker, ignore pattern or only-PRs rule applies. A pull request from a fork is
 * built untrusted, with secrets only when the project passes them to forks.
 */
export function decideManualBuild(event: ManualBuildEvent, context: RuleContext): TriggerDecision {
  const projectId = context.projectId ?? event.projectId;
  const what =
    event.ref.type === 'pull-request'
      ? `pull request #${event.pullRequest?.id ?? event.ref.name.replace(/^pull-requests\//, '')}`
      : `${event.ref.type} "${event.ref.name}"`;
  return {
    action: 'trigger',
    reason: 'manual',
    message: `manual build of ${what} asked for by ${event.actor.name}${event.fromFork ? ' (from a fork: untrusted)' : ''}`,
    ref: { ...event.ref },
    commit: { ...event.commit },
    ...(event.pullRequest ? { pullRequest: { ...event.pullRequest } } : {}),
    triggerId: manualTriggerIdOf(projectId, event.buildId),
    trust: event.fromFork ? 'untrusted' : 'trusted',
    secretsAllowed: event.fromFork ? context.settings.passSecretsToForkedPullRequests : true,
  };
}

/** Decisions for a push: each entry of `changes[]` on its own. */
export function decidePush(event: PushEvent, context: RuleContext): Decision[] {
  return pendingPush(event, context).map((pending) => filtered(pending, context));
}

function pendingPush(event: PushEvent, context: RuleContext): Pending[] {
  if (event.changes.length === 0) {
    return [
      {
        decision: notUsed(
          event.refLimitExceeded
            ? 'the mirror exceeded its ref limit and sent no ref changes; nothing to build'
            : 'the push carried no ref changes; nothing to build',
        ),
      },
    ];
  }
  const projectId = context.projectId ?? event.repository.id ?? event.repository.fullName;
  return event.changes.map((change) => {
    const decision = decideRefChange(change, projectId, context);
    // Only a branch push that builds for its own sake is filtered: not the default branch, not
    // an always-build branch, not a tag (whose commit is usually built already).
    if (
      !change.commit ||
      change.refType !== 'branch' ||
      (decision.reason !== 'branch-push' && decision.reason !== 'pr-branch-push')
    )
      return { decision };
    const range: ChangeRange = change.previousSha
      ? { head: change.commit.sha, base: change.previousSha, baseIsBranch: false }
      : { head: change.commit.sha, base: context.defaultBranch, baseIsBranch: true };
    return { decision, range, label: `branch "${change.name}"` };
  });
}

function decideRefChange(change: RefChange, projectId: string, context: RuleContext): Decision {
  const { settings, defaultBranch } = context;
  const ref = { type: change.refType, name: change.name } as const;
  const label = `${change.refType} "${change.name}"`;
  const commit = change.commit;
  if (!commit) {
    return { action: 'skip', reason: 'ref-deleted', message: `${label} was deleted; nothing to build`, ref };
  }
  const base = { ref, commit: { ...commit } };
  const skip = (reason: SkipReason, message: string): SkipDecision => ({
    action: 'skip',
    reason,
    message,
    ...base,
  });
  const trigger = (reason: TriggerReason, message: string): TriggerDecision => ({
    action: 'trigger',
    reason,
    message,
    ...base,
    triggerId: triggerIdOf(projectId, ref.type, ref.name, commit.sha),
    trust: 'trusted',
    secretsAllowed: true,
  });

  const marker = findSkipMarker(commit.message, skipMarkersOf(settings));
  if (marker) return skip('skip-marker', `head commit message of ${label} contains "${marker}"`);

  if (change.refType === 'tag') {
    if (!settings.buildTags)
      return skip('tags-disabled', `tag builds are off (buildTags is false) for ${label}`);
    const pattern = firstMatch(change.name, settings.tagPatterns);
    return pattern
      ? trigger('tag-push', `${label} matches tag pattern "${pattern}"`)
      : skip('tags-disabled', `${label} matches none of tagPatterns ${JSON.stringify(settings.tagPatterns)}`);
  }

  if (change.name === defaultBranch) {
    return trigger('default-branch', `"${change.name}" is the default branch, which is always built`);
  }
  const ignored = firstMatch(change.name, settings.ignoreBranches);
  if (ignored) return skip('branch-ignored', `${label} matches ignoreBranches pattern "${ignored}"`);
  const always = firstMatch(change.name, settings.alwaysBuildBranches);
  if (always)
    return trigger('always-build-branch', `${label} matches alwaysBuildBranches pattern "${always}"`);

  if (settings.onlyBuildPullRequests) {
    const open = context.state.openPullRequests.filter(
      (pr) => pr.sourceBranch === change.name && !pr.fromFork,
    );
    const buildable = settings.buildDraftPullRequests ? open : open.filter((pr) => !pr.draft);
    const first = buildable[0];
    if (first) return trigger('pr-branch-push', `${label} has open pull request #${first.id}`);
    if (open.length > 0) {
      return skip('draft', `${label} has only draft pull requests and buildDraftPullRequests is off`);
    }
    return skip('no-open-pull-request', `only pull requests are built and ${label} has no open pull request`);
  }
  return trigger('branch-push', `push to ${label}`);
}

/**
 * The decision for one pull-request event. A draft marked ready for review (the recorded pull
 * request was a draft, the event's is not) is built as if it were opened then, when only the
 * draft rule kept it from building: `pr-ready`, once, since its trigger id is that of its commit.
 */
export function decidePullRequest(event: PullRequestEvent, context: RuleContext): Decision {
  return filtered(pendingPullRequest(event, context), context);
}

/** A pull request that builds is filtered by the files its source changes against its destination. */
function pendingPullRequest(event: PullRequestEvent, context: RuleContext): Pending {
  const decision = decidePullRequestUnfiltered(event, context);
  if (decision.action !== 'trigger') return { decision };
  const pr = event.pullRequest;
  const base = pr.destination.commit.sha;
  return {
    decision,
    range: base
      ? { head: pr.source.commit.sha, base, baseIsBranch: false }
      : { head: pr.source.commit.sha, base: pr.destination.branch, baseIsBranch: true },
    label: `pull request #${pr.id}`,
  };
}

function decidePullRequestUnfiltered(event: PullRequestEvent, context: RuleContext): Decision {
  const pr = event.pullRequest;
  const { settings } = context;
  const ref = { type: 'pull-request', name: `pull-requests/${pr.id}` } as const;
  const base = { ref, commit: { ...pr.source.commit }, pullRequest: summary(pr) };
  const label = `pull request #${pr.id}`;
  const skip = (reason: SkipReason, message: string): SkipDecision => ({
    action: 'skip',
    reason,
    message,
    ...base,
  });

  if (event.action === 'closed') {
    return skip('pr-closed', `${label} was ${pr.state === 'open' ? 'closed' : pr.state}; nothing to build`);
  }
  const recorded = context.state.openPullRequests.find((open) => open.id === pr.id);
  const change = draftChangeOf(recorded, pr);
  // Marked ready while drafts are not built: decided as if opened now, since the draft rule alone
  // kept it from building. While drafts are built, being marked ready changes nothing.
  const readied = change === 'ready' && !settings.buildDraftPullRequests;

  if (!readied) {
    const changed =
      change === 'ready'
        ? `${label} was marked ready for review, and drafts are built alike`
        : change === 'draft'
          ? `${label} was converted to a draft`
          : undefined;
    if (event.action === 'metadata') {
      return skip(
        'pr-metadata',
        changed
          ? `${changed}; its commits are unchanged`
          : `${label} changed its title, description or target, not its commits`,
      );
    }
    // Cloud fires pullrequest:updated for a destination or title change too: only a source
    // commit different from the last one seen means new commits (protocol brief §1.6).
    const last = recorded?.sourceCommit;
    if (event.action === 'updated' && last && sameCommit(last, pr.source.commit.sha)) {
      return skip(
        'pr-metadata',
        changed
          ? `${changed}; its source commit is unchanged`
          : `${label} was updated but its source commit is unchanged`,
      );
    }
  }

  const opened = event.action === 'opened';
  const fork = pr.source.repository.fullName;
  let reason: TriggerReason;
  let message: string;
  if (pr.fromFork) {
    if (!settings.buildForkedPullRequests) {
      return skip('forks-disabled', `${label} comes from fork ${fork} and buildForkedPullRequests is off`);
    }
    reason = readied ? 'pr-ready' : 'forked-pr';
    message = `${label} ${readied ? 'was marked ready for review and comes' : 'comes'} from fork ${fork}; built untrusted${
      settings.passSecretsToForkedPullRequests ? ' with secrets' : ', secrets withheld'
    }`;
  } else if (settings.onlyBuildPullRequests && (opened || readied)) {
    reason = readied ? 'pr-ready' : 'pr-opened';
    message = readied
      ? `${label} was marked ready for review: built now, as only pull requests are built and drafts are not`
      : `${label} was opened and only pull requests are built`;
  } else {
    return skip(
      'covered-by-push',
      readied
        ? `${label} was marked ready for review; with onlyBuildPullRequests off its draft never held back the push to ${pr.source.refType === 'branch' ? 'branch' : 'tag'} "${pr.source.branch}", which decided its build`
        : coveredByPush(label, pr, settings),
    );
  }
  if (pr.draft && !settings.buildDraftPullRequests) {
    return skip('draft', `${label} is a draft and buildDraftPullRequests is off`);
  }
  // Pull-request payloads carry no commit message: the title is where a marker can be.
  const marker = findSkipMarker(pr.title, skipMarkersOf(settings));
  if (marker) return skip('skip-marker', `the title of ${label} contains "${marker}"`);
  const projectId = context.projectId ?? event.repository.id ?? event.repository.fullName;
  const untrusted = pr.fromFork;
  return {
    action: 'trigger',
    reason,
    message,
    ...base,
    triggerId: triggerIdOf(projectId, ref.type, ref.name, pr.source.commit.sha),
    trust: untrusted ? 'untrusted' : 'trusted',
    secretsAllowed: untrusted ? settings.passSecretsToForkedPullRequests : true,
  };
}

/** Why a same-repository pull request is left to the push of its source ref. */
function coveredByPush(label: string, pr: PullRequest, settings: ProjectSettings): string {
  const source = pr.source.branch;
  if (pr.source.refType === 'branch') return `${label}: the push to branch "${source}" decides its build`;
  // Data Center opens pull requests from tags too; a tag's push is decided by the tag rules.
  const off = settings.buildTags ? '' : ', and tag builds are off (buildTags is false)';
  return `${label} is from tag "${source}": the push of that tag decides its build${off}`;
}

type DraftChange = 'ready' | 'draft';

/** How the event's draft flag differs from the one recorded; undefined when it does not. */
function draftChangeOf(recorded: OpenPullRequest | undefined, pr: PullRequest): DraftChange | undefined {
  if (!recorded) return undefined;
  if (recorded.draft === true && !pr.draft) return 'ready';
  if (recorded.draft !== true && pr.draft) return 'draft';
  return undefined;
}

function summary(pr: PullRequest): DecisionPullRequest {
  return {
    id: pr.id,
    title: pr.title,
    sourceBranch: pr.source.branch,
    destinationBranch: pr.destination.branch,
    fromFork: pr.fromFork,
    sourceRepository: pr.source.repository.fullName,
  };
}

function notUsed(message: string): Decision {
  return { action: 'ignore', reason: 'event-not-used', message };
}

function findSkipMarker(message: string | undefined, markers: readonly string[]): string | undefined {
  if (!message) return undefined;
  const text = message.toLowerCase();
  return markers.find((marker) => text.includes(marker.toLowerCase()));
}

/** Equal commits, allowing for one side being Cloud's 12-character abbreviation. */
export function sameCommit(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (!x || !y) return false;
  return x.length <= y.length ? y.startsWith(x) : x.startsWith(y);
}
