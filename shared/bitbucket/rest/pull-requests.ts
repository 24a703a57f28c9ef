import * as z from 'zod/mini';
import { ValidationError } from '../../errors';
import type { RepoRef } from './client';
import type { ProviderConnection } from './connection';
import { BitbucketApiError } from './errors';

// Pull-request and commit lookups on either platform, for the processor. They take a connection
// (a BitbucketClient is one), so the processor's bundle leaves the admin operations out. They
// throw what the client's methods throw.

export interface OpenPullRequest {
  id: number;
  sourceBranch: string;
  /** As Bitbucket lists it: Cloud gives 12-character hashes (resolve with `resolveCommit`). */
  sourceCommit: string;
  /** The source repository is not the destination repository. */
  fromFork: boolean;
  draft: boolean;
}

const CloudPullRequestSchema = z.object({
  id: z.number(),
  draft: z.nullish(z.boolean()),
  source: z.object({
    branch: z.object({ name: z.string() }),
    commit: z.object({ hash: z.string() }),
    repository: z.nullish(z.object({ uuid: z.nullish(z.string()) })),
  }),
  destination: z.object({ repository: z.nullish(z.object({ uuid: z.nullish(z.string()) })) }),
});

const DataCenterPullRequestSchema = z.object({
  id: z.number(),
  draft: z.nullish(z.boolean()),
  fromRef: z.object({
    id: z.string(),
    displayId: z.string(),
    latestCommit: z.string(),
    repository: z.object({ id: z.number() }),
  }),
  toRef: z.object({ repository: z.object({ id: z.number() }) }),
});

/** Open pull requests whose source is `branch` (forks with a branch of that name included, flagged). */
export async function listOpenPullRequestsFromBranch(
  client: ProviderConnection,
  ref: RepoRef,
  branch: string,
): Promise<OpenPullRequest[]> {
  const { http, repoPath } = client.connection;
  const path = repoPath(ref);
  if (client.provider === 'bitbucket-cloud') {
    const pulls = await http.cloudPages(
      {
        path: `${path}/pullrequests`,
        query: { state: 'OPEN', q: `source.branch.name = ${bbqlString(branch)}`, pagelen: 50 },
      },
      CloudPullRequestSchema,
    );
    return pulls.map((pull) => {
      const source = pull.source.repository?.uuid;
      const destination = pull.destination.repository?.uuid;
      return {
        id: pull.id,
        sourceBranch: pull.source.branch.name,
        sourceCommit: pull.source.commit.hash,
        fromFork: Boolean(source && destination && source !== destination),
        draft: pull.draft ?? false,
      };
    });
  }
  // `direction` defaults to INCOMING, which would make `at` the target branch.
  const pulls = await http.dcPages(
    {
      path: `${path}/pull-requests`,
      query: { at: `refs/heads/${branch}`, direction: 'OUTGOING', state: 'OPEN' },
    },
    DataCenterPullRequestSchema,
  );
  return pulls.map((pull) => ({
    id: pull.id,
    sourceBranch: pull.fromRef.displayId,
    sourceCommit: pull.fromRef.latestCommit,
    fromFork: pull.fromRef.repository.id !== pull.toRef.repository.id,
    draft: pull.draft ?? false,
  }));
}

/** A full SHA-1 or SHA-256 commit id. */
const FULL_HASH = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

// Cloud answers `{hash}` at `/commit/{hash}`, Data Center `{id}` at `/commits/{id}`.
const CloudCommitSchema = z.object({ hash: z.string() });
const DataCenterCommitSchema = z.object({ id: z.string() });

/**
 * The full hash of a commit given by a (possibly abbreviated) hash. Throws ValidationError for
 * a hash that is not 4 to 64 hex digits (without asking Bitbucket).
 */
export async function resolveCommit(client: ProviderConnection, ref: RepoRef, hash: string): Promise<string> {
  const { http, repoPath } = client.connection;
  if (!/^[0-9a-f]{4,64}$/i.test(hash)) throw new ValidationError(`invalid commit hash "${hash}"`);
  const given = hash.toLowerCase();
  let full: string;
  let path: string;
  if (client.provider === 'bitbucket-cloud') {
    path = `${repoPath(ref)}/commit/${given}`;
    full = (await http.json({ path }, CloudCommitSchema)).hash;
  } else {
    path = `${repoPath(ref)}/commits/${given}`;
    full = (await http.json({ path }, DataCenterCommitSchema)).id;
  }
  if (!FULL_HASH.test(full) || !full.startsWith(given)) {
    throw new BitbucketApiError('Bitbucket answered with another commit', {
      method: 'GET',
      path,
      bitbucketMessage: full,
    });
  }
  return full;
}

/** A BBQL string literal: https://developer.atlassian.com/cloud/bitbucket/rest/intro/#filtering */
export function bbqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
