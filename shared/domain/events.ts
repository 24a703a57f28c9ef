import type { DecisionPullRequest, DecisionRef } from './decision';

/**
 * The one event model both Bitbucket platforms are normalised into, and the manual builds the
 * admin API records. Pure data: the rules read only this, never a raw payload.
 */

export type Provider = 'bitbucket-cloud' | 'bitbucket-data-center';

export const PROVIDERS: readonly Provider[] = ['bitbucket-cloud', 'bitbucket-data-center'];

export interface CloneUrls {
  ssh?: string;
  https?: string;
}

export interface Repository {
  /** Immutable identity: Cloud `repository.uuid`, DC `repository.id` (as a string). */
  id: string | null;
  /** `workspace/slug` on Cloud, `PROJECT/slug` on DC. */
  fullName: string;
  cloneUrls: CloneUrls;
}

export interface Actor {
  name: string;
  login?: string;
  id?: string;
}

export interface Commit {
  sha: string;
  /** Cloud pull-request payloads carry 12-character hashes. */
  abbreviated: boolean;
  message?: string;
}

export type RefType = 'branch' | 'tag';

export interface RefChange {
  refType: RefType;
  name: string;
  action: 'created' | 'updated' | 'deleted';
  forced: boolean;
  /** Bitbucket listed only the most recent commits of this change. */
  truncated: boolean;
  /** The new head; null when the ref was deleted. */
  commit: Commit | null;
  previousSha?: string;
}

export interface PullRequestSide {
  branch: string;
  refType: RefType;
  commit: Commit;
  repository: Repository;
}

export type PullRequestState = 'open' | 'merged' | 'declined' | 'superseded';

export interface PullRequest {
  id: number;
  title: string;
  state: PullRequestState;
  draft: boolean;
  source: PullRequestSide;
  destination: PullRequestSide;
  fromFork: boolean;
}

/**
 * What a pull-request event means for the rules:
 * - `opened`: created;
 * - `updated`: Cloud `pullrequest:updated`, which fires for new commits and for metadata alike;
 * - `source-moved`: DC `pr:from_ref_updated`;
 * - `metadata`: DC `pr:modified` (title, description or target changed);
 * - `closed`: merged, declined, superseded or deleted.
 */
export type PullRequestAction = 'opened' | 'updated' | 'source-moved' | 'metadata' | 'closed';

interface EventBase {
  provider: Provider;
  eventKey: string;
  actor?: Actor;
}

export interface PushEvent extends EventBase {
  kind: 'push';
  repository: Repository;
  changes: RefChange[];
  /** DC mirrors that exceeded their ref limit send no changes at all. */
  refLimitExceeded?: boolean;
}

export interface PullRequestEvent extends EventBase {
  kind: 'pull-request';
  action: PullRequestAction;
  /** The destination repository: where the hook lives. */
  repository: Repository;
  pullRequest: PullRequest;
}

export interface RepositoryUpdatedEvent extends EventBase {
  kind: 'repository-updated';
  repository: Repository;
  previousFullName?: string;
}

export interface PingEvent extends EventBase {
  kind: 'ping';
}

/** A real Bitbucket event Hookgate does not act on (comments, approvals, statuses, issues …). */
export interface UnusedEvent extends EventBase {
  kind: 'unused';
  repository?: Repository;
}

/**
 * A build an admin asked for (`POST /admin/projects/{id}/builds`): not a Bitbucket event, but
 * recorded and processed as a delivery (`hookgate:manual-build`, shared/domain/manual-build.ts).
 */
export interface ManualBuildEvent extends EventBase {
  kind: 'manual-build';
  /** The project's repository when the build was asked for: how the processor finds the project. */
  repository: Repository;
  projectId: string;
  /** One per request: the trigger id is made from it, so every manual build is sent. */
  buildId: string;
  ref: DecisionRef;
  /** The head of the ref when asked for, or the commit given. */
  commit: Commit;
  /** Known when Bitbucket was asked for the pull request. */
  pullRequest?: DecisionPullRequest;
  /** A pull request from a fork: built untrusted. */
  fromFork: boolean;
  /** Who asked (the admin API's principal). */
  actor: Actor;
}

export type HookEvent =
  | PushEvent
  | PullRequestEvent
  | RepositoryUpdatedEvent
  | PingEvent
  | UnusedEvent
  | ManualBuildEvent;
