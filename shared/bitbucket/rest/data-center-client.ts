import * as z from 'zod/mini';
import { ValidationError } from '../../errors';
import {
  type BitbucketClient,
  type ClientOptions,
  checkBaseUrl,
  checkRepoRef,
  type DeployKey,
  encodePath,
  type Hook,
  type HookSpec,
  ignoreNotFound,
  publicKeyBody,
  type RepoRef,
} from './client';
import { createAuthorizer } from './credentials';
import { BitbucketAuthError, BitbucketNotFoundError } from './errors';
import { HttpClient, parseAnswer, type RequestSpec } from './http';

/** The repository permission Hookgate needs on DC: hooks and access keys are REPO_ADMIN calls. */
export const DATA_CENTER_REQUIRED_PERMISSION = 'REPO_ADMIN';

const RepositorySchema = z.object({
  id: z.number(),
  slug: z.string(),
  project: z.object({ key: z.string() }),
  links: z.nullish(
    z.object({ clone: z.nullish(z.array(z.object({ name: z.nullish(z.string()), href: z.string() }))) }),
  ),
});

const MinimalRefSchema = z.object({ displayId: z.string() });

const WebhookSchema = z.object({
  id: z.number(),
  name: z.nullish(z.string()),
  url: z.string(),
  active: z.nullish(z.boolean()),
  events: z.nullish(z.array(z.string())),
  configuration: z.nullish(z.looseObject({ secret: z.optional(z.unknown()) })),
});

const AccessKeySchema = z.object({
  key: z.object({ id: z.number(), text: z.string(), label: z.nullish(z.string()) }),
  permission: z.nullish(z.string()),
});

export interface DataCenterClientOptions extends Omit<ClientOptions, 'tokenUrl'> {
  /** The server root, e.g. `https://bitbucket.example.com` (REST lives under `/rest`). */
  baseUrl: string;
}

/**
 * A BitbucketClient for Bitbucket Data Center (REST `api/latest`, access keys under
 * `keys/latest`). Throws ValidationError when the credentials are not an HTTP access token or
 * the base URL is unusable.
 */
export function createDataCenterClient(options: DataCenterClientOptions): BitbucketClient {
  const { credentials, baseUrl, ...http } = options;
  if (credentials.kind !== 'http-access-token') {
    throw new ValidationError(
      `Data Center takes an HTTP access token, not credentials of kind '${credentials.kind}'`,
    );
  }
  const root = checkBaseUrl(baseUrl).replace(/\/rest$/, '');
  const client = new HttpClient({
    ...http,
    baseUrl: `${root}/rest`,
    authorizer: createAuthorizer(credentials),
  });
  const repoPart = (ref: RepoRef) =>
    `projects/${encodeURIComponent(checkRepoRef(ref).owner)}/repos/${encodeURIComponent(ref.slug)}`;
  // `latest` is what the 9.x OpenAPI spec uses; `1.0` names the same resources.
  const api = (ref: RepoRef) => `/api/latest/${repoPart(ref)}`;
  const keys = (ref: RepoRef) => `/keys/latest/${repoPart(ref)}/ssh`;

  return {
    provider: 'bitbucket-data-center',
    connection: { http: client, repoPath: api },

    async getRepository(ref) {
      const [repo, defaultBranch] = await Promise.all([
        client.json({ path: api(ref) }, RepositorySchema),
        readDefaultBranch(client, `${api(ref)}/default-branch`),
      ]);
      const clone = repo.links?.clone ?? [];
      const ssh = clone.find((link) => link.name === 'ssh')?.href;
      const https = clone.find((link) => link.name === 'http' || link.name === 'https')?.href;
      return {
        id: String(repo.id),
        fullName: `${repo.project.key}/${repo.slug}`,
        defaultBranch,
        cloneUrls: { ...(ssh ? { ssh } : {}), ...(https ? { https } : {}) },
      };
    },

    async listHooks(ref) {
      return (await client.dcPages({ path: `${api(ref)}/webhooks` }, WebhookSchema)).map(toHook);
    },

    async createHook(ref, hook) {
      const answer = await client.json(
        { method: 'POST', path: `${api(ref)}/webhooks`, json: webhookBody(hook) },
        WebhookSchema,
      );
      return toHook(answer);
    },

    async updateHook(ref, id, hook) {
      const path = `${api(ref)}/webhooks/${encodeURIComponent(id)}`;
      return toHook(await client.json({ method: 'PUT', path, json: webhookBody(hook) }, WebhookSchema));
    },

    async deleteHook(ref, id) {
      const path = `${api(ref)}/webhooks/${encodeURIComponent(id)}`;
      await ignoreNotFound(client.send({ method: 'DELETE', path }));
    },

    async listDeployKeys(ref) {
      return (await client.dcPages({ path: keys(ref) }, AccessKeySchema)).map(toDeployKey);
    },

    async addDeployKey(ref, key) {
      const answer = await client.json(
        {
          method: 'POST',
          path: keys(ref),
          json: { key: { text: key.key.trim(), label: key.label }, permission: 'REPO_READ' },
        },
        AccessKeySchema,
      );
      return toDeployKey(answer);
    },

    async deleteDeployKey(ref, id) {
      // DC answers 204 whether or not the key was there.
      await ignoreNotFound(client.send({ method: 'DELETE', path: `${keys(ref)}/${encodeURIComponent(id)}` }));
    },

    async fileExists(ref, path, at) {
      if (!at) throw new ValidationError('fileExists needs a commit or branch');
      try {
        await client.send({ path: `${api(ref)}/raw/${encodePath(path)}`, query: { at } });
        return true;
      } catch (error) {
        if (error instanceof BitbucketNotFoundError) return false;
        throw error;
      }
    },

    async checkCredentials(ref) {
      // DC has no scope header: a REPO_ADMIN read that succeeds is the proof. The repository
      // read first tells wrong credentials (401, authentication failed) from missing rights.
      const checks: Array<[RequestSpec, string]> = [
        [{ path: api(ref) }, 'REPO_READ'],
        [{ path: `${api(ref)}/webhooks`, query: { limit: 1 } }, DATA_CENTER_REQUIRED_PERMISSION],
      ];
      const details: string[] = [];
      for (const [request, needs] of checks) {
        try {
          await client.send(request);
        } catch (error) {
          if (!(error instanceof BitbucketAuthError)) throw error;
          if (error.reason === 'unauthenticated') {
            return {
              valid: false,
              missingScopes: [],
              detail: error.bitbucketMessage ?? 'Bitbucket rejected the credentials',
            };
          }
          details.push(`${needs}: ${error.bitbucketMessage ?? 'not permitted'}`);
        }
      }
      return {
        valid: true,
        // REPO_ADMIN includes REPO_READ: it is the one permission to ask for.
        missingScopes: details.length ? [DATA_CENTER_REQUIRED_PERMISSION] : [],
        ...(details.length ? { detail: details.join('; ') } : {}),
      };
    },
  };
}

// `/default-branch` answers the configured default even before the branch exists; the
// deprecated `/branches/default` would 404 or 204 there (bitbucket-protocol.md §3.2).
async function readDefaultBranch(client: HttpClient, path: string): Promise<string | null> {
  try {
    const response = await client.send({ path });
    if (response.body === undefined) return null;
    return parseAnswer(MinimalRefSchema, response.body, 'GET', path).displayId;
  } catch (error) {
    if (error instanceof BitbucketNotFoundError) return null;
    throw error;
  }
}

function webhookBody(hook: HookSpec) {
  return {
    name: hook.description,
    url: hook.url,
    active: hook.active ?? true,
    events: [...hook.events],
    // DC fails with 500 on an empty secret; leave `configuration` out instead
    // (https://github.com/argoproj/argo-events/pull/1902).
    ...(hook.secret ? { configuration: { secret: hook.secret } } : {}),
  };
}

function toHook(hook: z.output<typeof WebhookSchema>): Hook {
  const secret = hook.configuration?.secret;
  return {
    id: String(hook.id),
    url: hook.url,
    description: hook.name ?? '',
    active: hook.active ?? true,
    events: hook.events ?? [],
    // Whatever DC echoes back (the value or a mask) only tells that a secret is set.
    secretSet: typeof secret === 'string' && secret.length > 0,
  };
}

function toDeployKey(access: z.output<typeof AccessKeySchema>): DeployKey {
  return {
    id: String(access.key.id),
    key: publicKeyBody(access.key.text),
    label: access.key.label ?? '',
    readOnly: access.permission === 'REPO_READ',
  };
}
