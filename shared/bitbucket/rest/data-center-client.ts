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
import { createConnection, dataCenterRepoPart } from './connection';
import { BitbucketAuthError } from './errors';
import { type HttpClient, type HttpMethod, parseAnswer } from './http';

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
  /**
   * The server root, e.g. `https://bitbucket.example.com` (REST lives under `/rest`). Optional in
   * type only, so an integration's passes as stored: without one the client is refused.
   */
  baseUrl?: string | undefined;
}

/**
 * A BitbucketClient for Bitbucket Data Center (REST `api/latest`, access keys under
 * `keys/latest`). Throws ValidationError when the credentials are not an HTTP access token or
 * the base URL is missing or unusable.
 */
export function createDataCenterClient(options: DataCenterClientOptions): BitbucketClient {
  const { connection } = createConnection('bitbucket-data-center', options);
  const { http: client, repoPath: api } = connection;
  const hooks = (ref: RepoRef) => `${api(ref)}/webhooks`;
  const keys = (ref: RepoRef) => `/keys/latest/${dataCenterRepoPart(ref)}/ssh`;
  const hook = async (method: HttpMethod, path: string, spec: HookSpec) =>
    toHook(await client.json({ method, path, json: webhookBody(spec) }, WebhookSchema));

  return {
    provider: 'bitbucket-data-center',
    connection,

    async getRepository(ref) {
      const [repo, defaultBranch] = await Promise.all([
        client.json({ path: api(ref) }, RepositorySchema),
        readDefaultBranch(client, `${api(ref)}/default-branch`),
      ]);
      const clone = repo.links?.clone ?? [];
      return {
        id: String(repo.id),
        fullName: `${repo.project.key}/${repo.slug}`,
        defaultBranch,
        cloneUrls: {
          ssh: clone.find((link) => link.name === 'ssh')?.href,
          https: clone.find((link) => link.name === 'http' || link.name === 'https')?.href,
        },
      };
    },

    listHooks: async (ref) => (await client.dcPages({ path: hooks(ref) }, WebhookSchema)).map(toHook),

    createHook: (ref, spec) => hook('POST', hooks(ref), spec),

    updateHook: (ref, id, spec) => hook('PUT', `${hooks(ref)}/${encodeURIComponent(id)}`, spec),

    deleteHook: (ref, id) => deleteIfPresent(client, hooks(ref), id),

    listDeployKeys: async (ref) =>
      (await client.dcPages({ path: keys(ref) }, AccessKeySchema)).map(toDeployKey),

    addDeployKey: async (ref, key) =>
      toDeployKey(
        await client.json(
          {
            method: 'POST',
            path: keys(ref),
            json: { key: { text: key.key.trim(), label: key.label }, permission: 'REPO_READ' },
          },
          AccessKeySchema,
        ),
      ),

    // DC answers 204 whether or not the key was there.
    deleteDeployKey: (ref, id) => deleteIfPresent(client, keys(ref), id),

    fileExists: async (ref, path, at) =>
      Boolean(
        await unlessNotFound(
          client.send({ path: `${api(ref)}/raw/${encodePath(path)}`, query: { at: checkRevision(at) } }),
        ),
      ),

    async checkCredentials(ref) {
      // DC has no scope header: a REPO_ADMIN read that succeeds is the proof. The repository
      // read first tells wrong credentials (401, authentication failed) from missing rights.
      const details: string[] = [];
      for (const [request, needs] of [
        [{ path: api(ref) }, 'REPO_READ'],
        [{ path: hooks(ref), query: { limit: 1 } }, DATA_CENTER_REQUIRED_PERMISSION],
      ] as const) {
        try {
          await client.send(request);
        } catch (error) {
          if (!(error instanceof BitbucketAuthError)) throw error;
          if (error.reason === 'unauthenticated') return rejectedCredentials(error);
          details.push(`${needs}: ${error.bitbucketMessage ?? 'not permitted'}`);
        }
      }
      return {
        valid: true,
        // REPO_ADMIN includes REPO_READ: it is the one permission to ask for.
        missingScopes: details.length ? [DATA_CENTER_REQUIRED_PERMISSION] : [],
        detail: details.join('; ') || undefined,
      };
    },
  };
}

// `/default-branch` answers the configured default even before the branch exists; the
// deprecated `/branches/default` would 404 or 204 there (bitbucket-protocol.md §3.2).
async function readDefaultBranch(client: HttpClient, path: string): Promise<string | null> {
  const response = await unlessNotFound(client.send({ path }));
  if (response?.body === undefined) return null;
  return parseAnswer(MinimalRefSchema, response.body, 'GET', path).displayId;
}

function webhookBody(hook: HookSpec) {
  return {
    name: hook.description,
    url: hook.url,
    active: hook.active ?? true,
    events: hook.events,
    // DC fails with 500 on an empty secret; leave `configuration` out instead
    // (https://github.com/argoproj/argo-events/pull/1902).
    configuration: hook.secret ? { secret: hook.secret } : undefined,
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
