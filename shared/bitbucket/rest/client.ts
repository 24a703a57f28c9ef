import type { CloneUrls, Provider } from '../../domain/events';
import { ValidationError } from '../../errors';
import type { Credentials } from './credentials';
import { type BitbucketAuthError, BitbucketNotFoundError } from './errors';
import type { HttpClient, HttpClientOptions } from './http';

/**
 * A repository on either platform: `owner` is the Cloud workspace or the Data Center project
 * key, `slug` the repository slug.
 */
export interface RepoRef {
  owner: string;
  slug: string;
}

/** What Hookgate stores about a repository when a project is connected. */
export interface RepositoryInfo {
  /** Cloud `uuid` with its braces; DC numeric `id` as a string. */
  id: string;
  /** `workspace/slug` on Cloud, `PROJECT/slug` on DC (as Bitbucket spells them). */
  fullName: string;
  /** Null when Bitbucket has none (an empty Cloud repository). */
  defaultBranch: string | null;
  cloneUrls: CloneUrls;
}

/** A webhook as Hookgate wants it. */
export interface HookSpec {
  url: string;
  events: readonly string[];
  /** Cloud `description`; DC `name`. */
  description: string;
  /** [true] */
  active?: boolean;
  /**
   * The signing secret. On update, leaving it out keeps the current one (Cloud documents this;
   * on DC the `configuration` is then left out, assumed to keep it too).
   */
  secret?: string;
}

/** A webhook as Bitbucket reports it. Secrets never appear, only whether one is set. */
export interface Hook {
  /** Cloud hook `uuid` with braces (X-Hook-UUID carries it without); DC numeric id as a string. */
  id: string;
  url: string;
  description: string;
  active: boolean;
  events: string[];
  /** Cloud `secret_set`; DC: `configuration.secret` is present and non-empty. */
  secretSet: boolean;
}

export interface DeployKeySpec {
  /** An OpenSSH public key line (`ssh-ed25519 AAAA… comment`). */
  key: string;
  label: string;
}

export interface DeployKey {
  id: string;
  /** `type base64`, without the comment (Cloud strips it), so keys compare across platforms. */
  key: string;
  label: string;
  /** Cloud deploy keys are always read-only; on DC the key's permission is `REPO_READ`. */
  readOnly: boolean;
}

export interface CredentialsCheck {
  /** False when Bitbucket rejects the credentials outright (wrong, expired or revoked). */
  valid: boolean;
  /**
   * What Hookgate needs and the credentials lack: Cloud scope names (`repository`,
   * `repository:admin`, `pullrequest`, `webhook`, or the granular `…:bitbucket` names when the
   * token uses those); on DC the repository permission (`REPO_ADMIN`).
   */
  missingScopes: string[];
  /** Bitbucket's words, when it said why. */
  detail?: string;
}

/**
 * How a client reaches its repositories: what operations outside `BitbucketClient` (those of
 * `./pull-requests`) build on.
 */
export interface Connection {
  readonly http: HttpClient;
  /** A repository's API path under the base URL (`/repositories/{workspace}/{slug}` on Cloud). */
  repoPath(ref: RepoRef): string;
}

/**
 * The Bitbucket REST operations the admin API uses, the same on Cloud and Data Center. Every
 * method throws the errors of `./errors` (BitbucketAuthError, BitbucketNotFoundError,
 * BitbucketRequestRejectedError, BitbucketUnavailableError, BitbucketTimeoutError, BitbucketApiError).
 * Operations the admin API does not use are functions of a client (`./pull-requests`), so a
 * bundle that does not call them leaves them out.
 */
export interface BitbucketClient {
  readonly provider: Provider;
  readonly connection: Connection;
  /** Identity, name, default branch and clone URLs (DC reads the default from `/default-branch`). */
  getRepository(ref: RepoRef): Promise<RepositoryInfo>;
  listHooks(ref: RepoRef): Promise<Hook[]>;
  createHook(ref: RepoRef, hook: HookSpec): Promise<Hook>;
  updateHook(ref: RepoRef, id: string, hook: HookSpec): Promise<Hook>;
  /** Idempotent: a hook already gone counts as deleted. */
  deleteHook(ref: RepoRef, id: string): Promise<void>;
  listDeployKeys(ref: RepoRef): Promise<DeployKey[]>;
  /** Adds a read-only deploy key (DC permission `REPO_READ`). */
  addDeployKey(ref: RepoRef, key: DeployKeySpec): Promise<DeployKey>;
  /** Idempotent: a key already gone counts as deleted. */
  deleteDeployKey(ref: RepoRef, id: string): Promise<void>;
  /** Whether `path` is a file at `at` (a commit hash, or a branch name without `/` on Cloud). */
  fileExists(ref: RepoRef, path: string, at: string): Promise<boolean>;
  /**
   * Whether Bitbucket accepts the credentials, and which needed scopes or permissions they lack.
   * Throws BitbucketNotFoundError when the repository does not exist.
   */
  checkCredentials(ref: RepoRef): Promise<CredentialsCheck>;
}

/** Options both client factories take; timeouts, retries and clock are the request core's. */
export interface ClientOptions extends Omit<HttpClientOptions, 'baseUrl' | 'authorizer'> {
  credentials: Credentials;
  /** Cloud OAuth token endpoint, for the `oauth-client-credentials` kind. */
  tokenUrl?: string;
}

/** Parses `workspace/slug` (Cloud) or `PROJECT/slug` (DC). Throws ValidationError otherwise. */
export function parseRepoRef(fullName: string): RepoRef {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(fullName.trim());
  if (!match?.[1] || !match[2]) {
    throw new ValidationError(`repository must be given as owner/slug, got "${fullName}"`);
  }
  return { owner: match[1], slug: match[2] };
}

/** `type base64` of an OpenSSH public key line, dropping the comment. */
export function publicKeyBody(key: string): string {
  return key.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** A repository ref checked for use in a URL path. Throws ValidationError. */
export function checkRepoRef(ref: RepoRef): RepoRef {
  for (const part of [ref.owner, ref.slug]) {
    if (!part || /[/\s]/.test(part) || part === '.' || part === '..') {
      throw new ValidationError(`invalid repository reference ${JSON.stringify(ref)}`);
    }
  }
  return ref;
}

/** A repository path (`a/b/c.yml`) with each segment percent-encoded. Throws ValidationError. */
export function encodePath(path: string): string {
  const segments = path.split('/').filter((s) => s.length > 0);
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..')) {
    throw new ValidationError(`invalid file path "${path}"`);
  }
  return segments.map(encodeURIComponent).join('/');
}

/** Awaits a request; Bitbucket's 404 (what was asked for is not there) answers undefined. */
export async function unlessNotFound<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof BitbucketNotFoundError) return undefined;
    throw error;
  }
}

/** Deletes `{collection}/{id}`; one already gone counts as deleted. */
export async function deleteIfPresent(http: HttpClient, collection: string, id: string): Promise<void> {
  await unlessNotFound(http.send({ method: 'DELETE', path: `${collection}/${encodeURIComponent(id)}` }));
}

/** The commit or branch a file is looked up at. Throws ValidationError when there is none. */
export function checkRevision(at: string): string {
  if (!at) throw new ValidationError('fileExists needs a commit or branch');
  return at;
}

/** The check of credentials Bitbucket rejects outright (wrong, expired or revoked). */
export function rejectedCredentials(error: BitbucketAuthError): CredentialsCheck {
  return {
    valid: false,
    missingScopes: [],
    detail: error.bitbucketMessage ?? 'Bitbucket rejected the credentials',
  };
}
