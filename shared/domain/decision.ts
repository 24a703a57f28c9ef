/**
 * Reason codes (DESIGN §4), by the action they come with. Stable: dashboards and runners key on
 * them. The trigger reasons are the `reason` of a trigger message; `manual` is a build asked for
 * through the admin API (`POST /admin/projects/{id}/builds`), not decided from a delivery.
 */
export const TRIGGER_REASONS = [
  'default-branch',
  'tag-push',
  'always-build-branch',
  'pr-branch-push',
  'branch-push',
  'forked-pr',
  'pr-opened',
  'manual',
  'pr-ready',
] as const;

export const SKIP_REASONS = [
  'ref-deleted',
  'skip-marker',
  'tags-disabled',
  'branch-ignored',
  'no-open-pull-request',
  'forks-disabled',
  'covered-by-push',
  'draft',
  'pr-metadata',
  'pr-closed',
  'paths-not-matched',
] as const;

/** `unknown-repository` is given outside the rules, for a repository no project is connected to. */
export const IGNORE_REASONS = ['event-not-used', 'repository-updated', 'ping', 'unknown-repository'] as const;

export type TriggerReason = (typeof TRIGGER_REASONS)[number];
export type SkipReason = (typeof SKIP_REASONS)[number];
export type IgnoreReason = (typeof IGNORE_REASONS)[number];
export type ReasonCode = TriggerReason | SkipReason | IgnoreReason;

/** Every reason code, each once. */
export const REASON_CODES: readonly ReasonCode[] = [...TRIGGER_REASONS, ...SKIP_REASONS, ...IGNORE_REASONS];

export type DecisionAction = 'trigger' | 'skip' | 'ignore';

export type DecisionRefType = 'branch' | 'tag' | 'pull-request';

// Type aliases, not interfaces: the trigger message's loose zod objects take them as they are.
export type DecisionRef = { type: DecisionRefType; name: string };

export type DecisionCommit = { sha: string; abbreviated: boolean; message?: string };

export interface DecisionPullRequest {
  id: number;
  title: string;
  sourceBranch: string;
  destinationBranch: string;
  fromFork: boolean;
  sourceRepository: string;
}

interface DecisionBase {
  /** One line for humans. */
  message: string;
  pullRequest?: DecisionPullRequest;
}

/** A pipeline to start: always about one ref and commit, with the id that dedupes it. */
export interface TriggerDecision extends DecisionBase {
  action: 'trigger';
  reason: TriggerReason;
  ref: DecisionRef;
  commit: DecisionCommit;
  triggerId: string;
  trust: 'trusted' | 'untrusted';
  secretsAllowed: boolean;
}

/** A ref change or PR event that could have built and did not, and why. */
export interface SkipDecision extends DecisionBase {
  action: 'skip';
  reason: SkipReason;
  ref?: DecisionRef;
  commit?: DecisionCommit;
}

/** An event that never builds anything (approvals, renames, pings, unknown repositories). */
export interface IgnoreDecision extends DecisionBase {
  action: 'ignore';
  reason: IgnoreReason;
  ref?: DecisionRef;
  commit?: DecisionCommit;
}

/** One answer to "does this ref change or PR event start a pipeline, and why?". */
export type Decision = TriggerDecision | SkipDecision | IgnoreDecision;

export function isTrigger(decision: Decision): decision is TriggerDecision {
  return decision.action === 'trigger';
}
