/** Reason codes the rules give (DESIGN §4). Stable: dashboards and runners key on them. */
export const RULE_REASONS = [
  'ref-deleted',
  'skip-marker',
  'tag-push',
  'tags-disabled',
  'default-branch',
  'branch-ignored',
  'always-build-branch',
  'pr-branch-push',
  'no-open-pull-request',
  'branch-push',
  'forked-pr',
  'forks-disabled',
  'pr-opened',
  'covered-by-push',
  'draft',
  'pr-metadata',
  'pr-closed',
  'event-not-used',
  'repository-updated',
  'ping',
] as const;

export type RuleReason = (typeof RULE_REASONS)[number];

/** Reasons given outside the rules: a delivery for a repository no project is connected to. */
export type ReasonCode = RuleReason | 'unknown-repository';

export type DecisionAction = 'trigger' | 'skip' | 'ignore';

export type DecisionRefType = 'branch' | 'tag' | 'pull-request';

export interface DecisionPullRequest {
  id: number;
  title: string;
  sourceBranch: string;
  destinationBranch: string;
  fromFork: boolean;
  sourceRepository: string;
}

/** One answer to "does this ref change or PR event start a pipeline, and why?". */
export interface Decision {
  action: DecisionAction;
  reason: ReasonCode;
  /** One line for humans. */
  message: string;
  ref?: { type: DecisionRefType; name: string };
  commit?: { sha: string; abbreviated: boolean; message?: string };
  pullRequest?: DecisionPullRequest;
  /** Set on triggers only. */
  triggerId?: string;
  trust?: 'trusted' | 'untrusted';
  secretsAllowed?: boolean;
}
