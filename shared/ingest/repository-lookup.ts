import type { NetworkPolicy } from '../bitbucket/rest/address-policy';
import { type ChangedFiles, listChangedFiles } from '../bitbucket/rest/changes';
import { parseRepoRef } from '../bitbucket/rest/client';
import { createConnection, type ProviderConnection } from '../bitbucket/rest/connection';
import { loadCredentials } from '../bitbucket/rest/credentials';
import { BitbucketUnavailableError } from '../bitbucket/rest/errors';
import {
  listOpenPullRequestsFromBranch,
  type OpenPullRequest,
  resolveCommit,
} from '../bitbucket/rest/pull-requests';
import { TtlCache } from '../cache';
import { type ChangeRange, rangeKey } from '../domain/path-filter';
import { DependencyError } from '../errors';
import type { Log } from '../observability';
import type { SecretReader } from '../secrets/secrets';
import type { IntegrationRecord, ProjectRecord } from '../store/store';

/**
 * What the processor asks Bitbucket (DESIGN §4), for integrations with credentials. Each method
 * answers undefined when the integration has none. Throws DependencyError when Bitbucket or the
 * secret store could not be reached (worth retrying the delivery); any other error (credentials
 * refused or unreadable, repository gone) will not go away by retrying.
 */
export interface RepositoryLookup {
  /** The open pull requests whose source branch is `branch`, forks included (flagged). */
  openPullRequests(
    integration: IntegrationRecord,
    project: ProjectRecord,
    branch: string,
  ): Promise<OpenPullRequest[] | undefined>;
  /** The full hash of an abbreviated commit hash (Cloud PR events carry 12 characters). */
  fullCommitHash(
    integration: IntegrationRecord,
    project: ProjectRecord,
    hash: string,
  ): Promise<string | undefined>;
  /** The files a range changes (for `includePaths` / `excludePaths`), cached per range. */
  changedFiles(
    integration: IntegrationRecord,
    project: ProjectRecord,
    range: ChangeRange,
  ): Promise<ChangedFiles | undefined>;
}

export interface BitbucketLookupOptions {
  secrets: SecretReader;
  log?: Log;
  /** Per request [5 000]: a delivery waits for these calls. */
  timeoutMs?: number;
  /** Longest wait between retries [2 000]; a longer `Retry-After` fails the call at once. */
  maxDelayMs?: number;
  /** How long credentials read from the secret store are reused [5 minutes]. */
  credentialsTtlMs?: number;
  /**
   * After Bitbucket could not be reached, how long further calls for the same integration fail
   * at once instead of waiting out their own timeouts [30 s], so one outage cannot make a whole
   * batch outlive the function's timeout.
   */
  pauseAfterOutageMs?: number;
  /**
   * How long a range's changed files are reused [10 minutes]: a range of two commits never
   * changes; one against a branch (a new branch's) may, as that branch moves.
   */
  changedFilesTtlMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
  /** Which Bitbucket hosts may be called ['aws']; local mode passes `local`. */
  network?: NetworkPolicy;
}

/**
 * The RepositoryLookup on Bitbucket's REST API. Credentials are read from the secret store once
 * per integration version and reused for a few minutes; a patch of the integration's credentials
 * bumps its version and so takes effect at once.
 */
export function createBitbucketLookup(options: BitbucketLookupOptions): RepositoryLookup {
  const now = options.now ?? Date.now;
  const connections = new TtlCache<ProviderConnection | undefined>(
    options.credentialsTtlMs ?? 5 * 60_000,
    now,
  );
  const outages = new Map<string, { until: number; error: DependencyError }>();
  // Bounded: one entry per range asked for, the least recently used dropped first.
  const changes = new TtlCache<ChangedFiles | undefined>(
    options.changedFilesTtlMs ?? 10 * 60_000,
    now,
    1_000,
  );

  const connect = (integration: IntegrationRecord) =>
    connections.getOrLoad(`${integration.name}#${integration.version}`, async () => {
      const credentials = await loadCredentials(options.secrets, integration);
      return (
        credentials &&
        createConnection(integration.provider, {
          credentials,
          baseUrl: integration.baseUrl,
          timeoutMs: options.timeoutMs ?? 5_000,
          maxDelayMs: options.maxDelayMs ?? 2_000,
          ...(options.log ? { log: options.log } : {}),
          ...(options.fetch ? { fetch: options.fetch } : {}),
          network: options.network ?? 'aws',
        })
      );
    });

  const ask = async <T>(
    integration: IntegrationRecord,
    call: (connection: ProviderConnection) => Promise<T>,
  ): Promise<T | undefined> => {
    const connection = await connect(integration);
    if (!connection) return undefined;
    const outage = outages.get(integration.name);
    if (outage && outage.until > now()) throw outage.error;
    try {
      const answer = await call(connection);
      outages.delete(integration.name);
      return answer;
    } catch (error) {
      if (!(error instanceof BitbucketUnavailableError)) throw error;
      const unavailable = new DependencyError(`Bitbucket could not be reached: ${error.message}`, {
        cause: error,
      });
      outages.set(integration.name, {
        until: now() + (options.pauseAfterOutageMs ?? 30_000),
        error: unavailable,
      });
      throw unavailable;
    }
  };

  return {
    openPullRequests: (integration, project, branch) =>
      ask(integration, (c) => listOpenPullRequestsFromBranch(c, parseRepoRef(project.fullName), branch)),
    fullCommitHash: (integration, project, hash) =>
      ask(integration, (c) => resolveCommit(c, parseRepoRef(project.fullName), hash)),
    changedFiles: (integration, project, range) =>
      changes.getOrLoad(
        `${integration.name}#${integration.version}#${project.fullName}#${rangeKey(range)}`,
        () => ask(integration, (c) => listChangedFiles(c, parseRepoRef(project.fullName), range)),
      ),
  };
}
