import * as z from 'zod/mini';
import {
  type BitbucketClient,
  type ClientOptions,
  checkRevision,
  type DeployKey,
  deleteIfPresent,
  encodePath,
  type Hook,
  type HookSpec,
  publicKeyBody,
  type RepoRef,
  rejectedCredentials,
  unlessNotFound,
} from './client';
import { createConnection } from './connection';
import { BitbucketAuthError } from './errors';
import type { HttpMethod } from './http';

/** The OAuth scopes Hookgate needs on Cloud (webhook creation also needs each event's scope). */
export const CLOUD_REQUIRED_SCOPES = ['repository', 'repository:admin', 'pullrequest', 'webhook'] as const;

// What a scope grants besides itself, from Bitbucket's scope list
// (https://developer.atlassian.com/cloud/bitbucket/rest/intro/#bitbucket-oauth-2-0-scopes).
// `repository:admin` implies nothing: the deploy-key endpoints ask for it *and* `repository`.
const IMPLIED_SCOPES: Record<string, readonly string[]> = {
  'repository:write': ['repository'],
  pullrequest: ['repository'],
  'pullrequest:write': ['pullrequest', 'repository', 'repository:write'],
  project: ['repository'],
  'project:admin': ['project', 'repository'],
};

// API tokens carry granular scopes, which imply nothing (write does not include read). The
// names per endpoint are the `x-atlassian-oauth2-scopes` of the Cloud OpenAPI spec.
const GRANULAR_SCOPES: Record<(typeof CLOUD_REQUIRED_SCOPES)[number], readonly string[]> = {
  repository: ['read:repository:bitbucket'],
  'repository:admin': ['admin:repository:bitbucket', 'write:ssh-key:bitbucket', 'delete:ssh-key:bitbucket'],
  pullrequest: ['read:pullrequest:bitbucket'],
  webhook: ['read:webhook:bitbucket', 'write:webhook:bitbucket', 'delete:webhook:bitbucket'],
};

/**
 * The needed scopes missing from a granted list, in the vocabulary of that list: granular
 * names (`read:repository:bitbucket`) when the token uses them, OAuth scope names otherwise.
 */
export function missingCloudScopes(granted: readonly string[]): string[] {
  const have = new Set(granted);
  if (granted.some((scope) => scope.endsWith(':bitbucket'))) {
    return Object.values(GRANULAR_SCOPES)
      .flat()
      .filter((scope) => !have.has(scope));
  }
  for (const scope of granted) for (const implied of IMPLIED_SCOPES[scope] ?? []) have.add(implied);
  return CLOUD_REQUIRED_SCOPES.filter((scope) => !have.has(scope));
}

const LinkSchema = z.object({ name: z.nullish(z.string()), href: z.string() });

const RepositorySchema = z.object({
  uuid: z.string(),
  full_name: z.string(),
  mainbranch: z.nullish(z.object({ name: z.string() })),
  links: z.nullish(z.object({ clone: z.nullish(z.array(LinkSchema)) })),
});

const HookSchema = z.object({
  uuid: z.string(),
  url: z.string(),
  description: z.nullish(z.string()),
  active: z.boolean(),
  events: z.array(z.string()),
  secret_set: z.nullish(z.boolean()),
});

const DeployKeySchema = z.object({
  id: z.number(),
  key: z.string(),
  label: z.nullish(z.string()),
});

const FileMetaSchema = z.object({ type: z.string() });

// Pages as large as Cloud allows (pagelen tops out at 100; some endpoints cap it lower).
const PAGELEN = 100;

export interface CloudClientOptions extends ClientOptions {
  /** [CLOUD_API_URL] */
  baseUrl?: string;
}

/**
 * A BitbucketClient for Bitbucket Cloud (REST 2.0). Throws ValidationError when the credentials
 * are not a Cloud kind or the base URL is unusable.
 */
export function createCloudClient(options: CloudClientOptions): BitbucketClient {
  const { connection } = createConnection('bitbucket-cloud', options);
  const { http: client, repoPath: repo } = connection;
  const hooks = (ref: RepoRef) => `${repo(ref)}/hooks`;
  const keys = (ref: RepoRef) => `${repo(ref)}/deploy-keys`;
  const hook = async (method: HttpMethod, path: string, spec: HookSpec, secret: string | undefined) =>
    toHook(await client.json({ method, path, json: { ...hookBody(spec), secret } }, HookSchema));

  return {
    provider: 'bitbucket-cloud',
    connection,

    async getRepository(ref) {
      const answer = await client.json({ path: repo(ref) }, RepositorySchema);
      const clone = answer.links?.clone ?? [];
      const https = clone.find((link) => link.name === 'https')?.href;
      return {
        id: answer.uuid,
        fullName: answer.full_name,
        defaultBranch: answer.mainbranch?.name ?? null,
        cloneUrls: {
          ssh: clone.find((link) => link.name === 'ssh')?.href,
          https: https && withoutUser(https),
        },
      };
    },

    listHooks: async (ref) =>
      (await client.cloudPages({ path: hooks(ref), query: { pagelen: PAGELEN } }, HookSchema)).map(toHook),

    createHook: (ref, spec) => hook('POST', hooks(ref), spec, spec.secret || undefined),

    // Leaving `secret` out keeps the current one (webhook_subscription.secret in the spec).
    updateHook: (ref, id, spec) => hook('PUT', `${hooks(ref)}/${encodeURIComponent(id)}`, spec, spec.secret),

    deleteHook: (ref, id) => deleteIfPresent(client, hooks(ref), id),

    listDeployKeys: async (ref) =>
      (await client.cloudPages({ path: keys(ref), query: { pagelen: PAGELEN } }, DeployKeySchema)).map(
        toDeployKey,
      ),

    addDeployKey: async (ref, key) =>
      toDeployKey(
        await client.json(
          { method: 'POST', path: keys(ref), json: { key: key.key.trim(), label: key.label } },
          DeployKeySchema,
        ),
      ),

    deleteDeployKey: (ref, id) => deleteIfPresent(client, keys(ref), id),

    async fileExists(ref, path, at) {
      const url = `${repo(ref)}/src/${encodeURIComponent(checkRevision(at))}/${encodePath(path)}`;
      const meta = await unlessNotFound(
        client.json({ path: url, query: { format: 'meta' } }, FileMetaSchema),
      );
      return meta?.type === 'commit_file';
    },

    async checkCredentials(ref) {
      const missing = new Set<string>();
      const details: string[] = [];
      // One read per capability: scopes are not the whole story (an API token's user may not be
      // a repository admin), so the reads settle it whatever the scopes say.
      for (const [path, needs] of [
        [repo(ref), 'repository'],
        [hooks(ref), 'webhook'],
        [keys(ref), 'repository:admin'],
        [`${repo(ref)}/pullrequests`, 'pullrequest'],
      ] as const) {
        try {
          const { headers } = await client.send({ path, query: { pagelen: 1 } });
          // Bitbucket lists an access or OAuth token's scopes in this header
          // (https://support.atlassian.com/bitbucket-cloud/kb/how-to-fetch-the-scope-of-a-token-via-command-line).
          const granted = needs === 'repository' ? headers.get('x-oauth-scopes') : null;
          if (granted != null) {
            for (const scope of missingCloudScopes(granted.split(/[\s,]+/).filter(Boolean)))
              missing.add(scope);
          }
        } catch (error) {
          if (!(error instanceof BitbucketAuthError)) throw error;
          if (error.reason === 'unauthenticated') return rejectedCredentials(error);
          missing.add(needs);
          if (error.bitbucketMessage) details.push(`${needs}: ${error.bitbucketMessage}`);
        }
      }
      return {
        valid: true,
        missingScopes: SCOPE_ORDER.filter((scope) => missing.has(scope)),
        detail: details.join('; ') || undefined,
      };
    },
  };
}

/** Missing scopes are reported in this order: the OAuth names, then the granular ones. */
const SCOPE_ORDER = [...CLOUD_REQUIRED_SCOPES, ...Object.values(GRANULAR_SCOPES).flat()];

function hookBody(hook: HookSpec) {
  return {
    description: hook.description,
    url: hook.url,
    active: hook.active ?? true,
    events: hook.events,
  };
}

function toHook(hook: z.output<typeof HookSchema>): Hook {
  return {
    id: hook.uuid,
    url: hook.url,
    description: hook.description ?? '',
    active: hook.active,
    events: hook.events,
    secretSet: hook.secret_set ?? false,
  };
}

function toDeployKey(key: z.output<typeof DeployKeySchema>): DeployKey {
  return { id: String(key.id), key: publicKeyBody(key.key), label: key.label ?? '', readOnly: true };
}

// Cloud's HTTPS clone link names the caller (`https://user@bitbucket.org/…`); Hookgate keeps
// the anonymous form, as the webhook normalisation does.
function withoutUser(href: string): string {
  try {
    const url = new URL(href);
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    return href;
  }
}
