import * as z from 'zod/mini';
import type { RepoRef } from './client';
import type { ProviderConnection } from './connection';
import { BitbucketNotFoundError } from './errors';
import { bbqlString } from './pull-requests';

// The heads of branches, tags and pull requests on either platform, for manual builds. Like
// `./pull-requests`, they take a connection (a BitbucketClient is one) and throw what the
// client's methods throw; a ref or pull request that does not exist is a BitbucketNotFoundError.

/** The commit a branch or tag points at. */
export interface RefHead {
  /** Full hash. */
  sha: string;
  /** Cloud gives the commit message; Data Center's ref listings do not. */
  message?: string;
}

/** A pull request as a manual build needs it. */
export interface PullRequestHead {
  id: number;
  title: string;
  /** Bitbucket's own word: `OPEN`, `MERGED`, `DECLINED` (or Cloud's `SUPERSEDED`). */
  state: string;
  sourceBranch: string;
  destinationBranch: string;
  /** As Bitbucket gives it: Cloud abbreviates it to 12 characters (resolve with `resolveCommit`). */
  sourceCommit: string;
  /** `workspace/slug` or `PROJECT/slug` of the source repository. */
  sourceRepository: string;
  /** The source repository is not the destination repository. */
  fromFork: boolean;
}

const CloudRefSchema = z.object({
  name: z.string(),
  target: z.object({ hash: z.string(), message: z.nullish(z.string()) }),
});

const DataCenterRefSchema = z.object({ displayId: z.string(), latestCommit: z.string() });

const CloudSideSchema = z.object({
  branch: z.object({ name: z.string() }),
  commit: z.object({ hash: z.string() }),
  repository: z.nullish(z.object({ full_name: z.string(), uuid: z.nullish(z.string()) })),
});

const CloudPullRequestSchema = z.object({
  id: z.number(),
  title: z.string(),
  state: z.string(),
  source: CloudSideSchema,
  destination: z.object({
    branch: z.object({ name: z.string() }),
    repository: z.nullish(z.object({ full_name: z.string(), uuid: z.nullish(z.string()) })),
  }),
});

const DataCenterRepositorySchema = z.object({
  id: z.number(),
  slug: z.string(),
  project: z.object({ key: z.string() }),
});

const DataCenterPullRequestSchema = z.object({
  id: z.number(),
  title: z.string(),
  state: z.string(),
  fromRef: z.object({
    displayId: z.string(),
    latestCommit: z.string(),
    repository: DataCenterRepositorySchema,
  }),
  toRef: z.object({ displayId: z.string(), repository: DataCenterRepositorySchema }),
});

/** The head commit of branch `name`. Throws BitbucketNotFoundError when there is no such branch. */
export function branchHead(client: ProviderConnection, ref: RepoRef, name: string): Promise<RefHead> {
  return refHead(client, ref, 'branch', name);
}

/** The commit tag `name` points at (an annotated tag's commit). Throws BitbucketNotFoundError when there is none. */
export function tagHead(client: ProviderConnection, ref: RepoRef, name: string): Promise<RefHead> {
  return refHead(client, ref, 'tag', name);
}

async function refHead(
  client: ProviderConnection,
  ref: RepoRef,
  type: 'branch' | 'tag',
  name: string,
): Promise<RefHead> {
  const { http, repoPath } = client.connection;
  const collection = type === 'branch' ? 'branches' : 'tags';
  const path = `${repoPath(ref)}${client.provider === 'bitbucket-cloud' ? '/refs' : ''}/${collection}`;
  // Listings filtered by name rather than `…/{name}`: a name with `/` in a path segment is not
  // read alike by every server (Data Center refuses encoded slashes by default).
  if (client.provider === 'bitbucket-cloud') {
    const refs = await http.cloudPages(
      { path, query: { q: `name = ${bbqlString(name)}`, pagelen: 10 } },
      CloudRefSchema,
    );
    const found = refs.find((candidate) => candidate.name === name);
    if (found) {
      return { sha: found.target.hash, ...(found.target.message ? { message: found.target.message } : {}) };
    }
  } else {
    const refs = await http.dcPages({ path, query: { filterText: name } }, DataCenterRefSchema);
    const found = refs.find((candidate) => candidate.displayId === name);
    if (found) return { sha: found.latestCommit };
  }
  throw new BitbucketNotFoundError(`no ${type} "${name}" in ${ref.owner}/${ref.slug}`, {
    method: 'GET',
    path,
    upstreamStatus: 404,
  });
}

/** Pull request `id` of the repository. Throws BitbucketNotFoundError when there is none. */
export async function pullRequestHead(
  client: ProviderConnection,
  ref: RepoRef,
  id: number,
): Promise<PullRequestHead> {
  const { http, repoPath } = client.connection;
  if (client.provider === 'bitbucket-cloud') {
    const pull = await http.json({ path: `${repoPath(ref)}/pullrequests/${id}` }, CloudPullRequestSchema);
    const source = pull.source.repository;
    const destination = pull.destination.repository;
    return {
      id: pull.id,
      title: pull.title,
      state: pull.state,
      sourceBranch: pull.source.branch.name,
      destinationBranch: pull.destination.branch.name,
      sourceCommit: pull.source.commit.hash,
      sourceRepository: source?.full_name ?? `${ref.owner}/${ref.slug}`,
      fromFork: Boolean(source?.uuid && destination?.uuid && source.uuid !== destination.uuid),
    };
  }
  const pull = await http.json({ path: `${repoPath(ref)}/pull-requests/${id}` }, DataCenterPullRequestSchema);
  const from = pull.fromRef.repository;
  return {
    id: pull.id,
    title: pull.title,
    state: pull.state,
    sourceBranch: pull.fromRef.displayId,
    destinationBranch: pull.toRef.displayId,
    sourceCommit: pull.fromRef.latestCommit,
    sourceRepository: `${from.project.key}/${from.slug}`,
    fromFork: from.id !== pull.toRef.repository.id,
  };
}
