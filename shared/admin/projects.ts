import { webhookEvents } from '../bitbucket/event-keys';
import { type BitbucketClient, parseRepoRef, publicKeyBody, type RepoRef } from '../bitbucket/rest/client';
import { BitbucketAuthError, BitbucketNotFoundError } from '../bitbucket/rest/errors';
import type { CloneUrls } from '../domain/events';
import { ProjectSettingsSchema } from '../domain/settings';
import { DependencyError, ValidationError } from '../errors';
import { validate } from '../evaluate';
import { secretIds } from '../secrets/secrets';
import { projectItem } from '../store/dynamo-items';
import type { IntegrationRecord, ProjectRecord } from '../store/store';
import { deployKeyLabel, ensureDeployKey, ensureHook, hookDescription } from './bitbucket-setup';
import {
  type AdminContext,
  type AdminDeps,
  type AdminRequest,
  type AdminResult,
  activeIntegration,
  audit,
  checkItemFits,
  clientFor,
  currentWebhookSecret,
  findProject,
  repoRefOf,
  shown,
  updateProject,
  webhookUrlOf,
} from './context';
import { generateDeployKey } from './deploy-key';
import { ConflictError } from './errors';
import { projectIdOf } from './project-id';
import { ConnectProjectSchema, INTEGRATION_NAME, PatchProjectSchema } from './schemas';
import { projectView } from './views';

interface RepositoryFacts {
  id: string;
  fullName: string;
  defaultBranch: string;
  cloneUrls: CloneUrls;
}

/**
 * `POST /admin/projects`. With credentials: reads the repository from Bitbucket, registers a new
 * read-only deploy key and the webhook (an existing hook with our URL is updated, never
 * duplicated). Without: takes `repositoryId` and `defaultBranch` from the request and answers
 * what to set up by hand. The private key is stored first and the project last, so a failure
 * leaves no project. Throws ValidationError, NotFoundError, GoneError, ConflictError (already
 * connected) and the REST client's errors.
 */
export async function connectProject(
  deps: AdminDeps,
  context: AdminContext,
  { body }: AdminRequest,
): Promise<AdminResult> {
  const input = validate(ConnectProjectSchema, body(), 'request');
  const given =
    input.settings === undefined ? undefined : validate(ProjectSettingsSchema, input.settings, 'settings');
  const ref = parseRepoRef(input.repository);
  const integration = await activeIntegration(deps, input.integration);
  const client = await clientFor(deps, integration);
  const repo = client ? await readRepository(client, ref, input) : givenRepository(integration, ref, input);

  const id = projectIdOf(integration.name, repo.id);
  const existing = await deps.store.getProject(id);
  if (existing && existing.status !== 'detached') {
    throw new ConflictError(
      `repository ${repo.fullName} is already connected through integration "${integration.name}" as project ${id}`,
      'already-connected',
    );
  }

  checkItemFits('project', projectItem(provisionalProject(integration, repo, id, given, input)));
  const webhookSecret = client ? await currentWebhookSecret(deps, integration) : undefined;
  const deployKeySecretId = secretIds.deployKey(deps.stage, id);
  const key = generateDeployKey(`hookgate-${deps.stage}-${id}`);
  await deps.secrets.put(deployKeySecretId, JSON.stringify(key));
  const url = webhookUrlOf(context, integration.name);
  const events = webhookEvents(integration.provider);
  const label = deployKeyLabel(deps.stage, id);
  let registered: { deployKeyId: string; webhookId: string; webhookAction: string } | undefined;
  if (client) {
    try {
      const keyOutcome = await ensureDeployKey(client, ref, key.publicKey, label);
      const hook = await ensureHook(client, ref, {
        url,
        events,
        description: hookDescription(deps.stage, integration.name),
        secret: webhookSecret,
      });
      registered = { deployKeyId: keyOutcome.key.id, webhookId: hook.hook.id, webhookAction: hook.action };
    } catch (error) {
      if (!existing) await deps.secrets.delete(deployKeySecretId).catch(() => undefined);
      throw error;
    }
  }

  const at = deps.now().toISOString();
  // Undefined fields are not stored.
  const project: ProjectRecord = {
    id,
    integration: integration.name,
    provider: integration.provider,
    repositoryId: repo.id,
    fullName: repo.fullName,
    cloneUrls: repo.cloneUrls,
    defaultBranch: repo.defaultBranch,
    // A reconnected project keeps what was set before unless the request says otherwise.
    settings: given ?? existing?.settings ?? ProjectSettingsSchema.parse({}),
    deployKeySecretId,
    createdAt: existing?.createdAt ?? at,
    updatedAt: at,
    status: 'connected',
    pipelineFile: input.pipelineFile ?? existing?.pipelineFile,
    deployKey: { publicKey: key.publicKey, fingerprint: key.fingerprint, id: registered?.deployKeyId },
    webhookId: registered?.webhookId,
  };
  await deps.store.putProject(project);
  audit(deps, context, existing ? 'project.reconnect' : 'project.connect', `project/${id}`, {
    integration: integration.name,
    repository: repo.fullName,
    repositoryId: repo.id,
    deployKeyFingerprint: key.fingerprint,
    managed: Boolean(registered),
  });

  return {
    status: 201,
    body: {
      project: projectView(context, project),
      publicKey: key.publicKey,
      webhookUrl: url,
      ...(registered
        ? {
            webhook: { id: registered.webhookId, action: registered.webhookAction, events },
            deployKey: { id: registered.deployKeyId, fingerprint: key.fingerprint, readOnly: true },
          }
        : {
            manualSetup: {
              webhook: {
                url,
                events,
                secret: `the webhook secret of integration "${integration.name}", shown when it was created or its secret was last rotated (POST /admin/integrations/${integration.name}/rotate-secret issues a new one)`,
              },
              deployKey: { publicKey: key.publicKey, label, permission: 'read-only' },
            },
          }),
    },
  };
}

/** The project as it will be stored, less what Bitbucket assigns: to check its size before writing. */
function provisionalProject(
  integration: IntegrationRecord,
  repo: RepositoryFacts,
  id: string,
  settings: ProjectRecord['settings'] | undefined,
  input: { pipelineFile?: string | undefined },
): ProjectRecord {
  const at = new Date(0).toISOString();
  return {
    id,
    integration: integration.name,
    provider: integration.provider,
    repositoryId: repo.id,
    fullName: repo.fullName,
    cloneUrls: repo.cloneUrls,
    defaultBranch: repo.defaultBranch,
    settings: settings ?? ProjectSettingsSchema.parse({}),
    deployKeySecretId: id,
    createdAt: at,
    updatedAt: at,
    status: 'connected',
    pipelineFile: input.pipelineFile,
  };
}

async function readRepository(
  client: BitbucketClient,
  ref: RepoRef,
  input: { repositoryId?: string | undefined; defaultBranch?: string | undefined },
): Promise<RepositoryFacts> {
  const info = await client.getRepository(ref);
  if (input.repositoryId && input.repositoryId !== info.id) {
    throw new ValidationError(
      `repositoryId ${input.repositoryId} does not match ${info.fullName}, whose id on Bitbucket is ${info.id}`,
    );
  }
  const defaultBranch = input.defaultBranch ?? info.defaultBranch;
  if (!defaultBranch) {
    throw new ValidationError(`${info.fullName} has no default branch yet (it is empty): pass defaultBranch`);
  }
  return { id: info.id, fullName: info.fullName, defaultBranch, cloneUrls: info.cloneUrls };
}

function givenRepository(
  integration: IntegrationRecord,
  ref: RepoRef,
  input: {
    repositoryId?: string | undefined;
    defaultBranch?: string | undefined;
    cloneUrls?: { ssh?: string | undefined; https?: string | undefined } | undefined;
  },
): RepositoryFacts {
  const missing = (['repositoryId', 'defaultBranch'] as const).filter((field) => !input[field]);
  if (missing.length) {
    throw new ValidationError(
      `integration "${integration.name}" has no credentials, so Bitbucket cannot be asked: pass ${missing.join(' and ')}`,
    );
  }
  const derived = derivedCloneUrls(integration, ref);
  return {
    id: input.repositoryId as string,
    fullName: `${ref.owner}/${ref.slug}`,
    defaultBranch: input.defaultBranch as string,
    // A given URL replaces the derived one; an empty one does not.
    cloneUrls: {
      ssh: input.cloneUrls?.ssh || derived.ssh,
      https: input.cloneUrls?.https || derived.https,
    },
  };
}

/** Clone URLs as Bitbucket forms them (Cloud), or the HTTPS one from the server root (DC). */
function derivedCloneUrls(integration: IntegrationRecord, ref: RepoRef): CloneUrls {
  if (integration.provider === 'bitbucket-cloud') {
    return {
      ssh: `git@bitbucket.org:${ref.owner}/${ref.slug}.git`,
      https: `https://bitbucket.org/${ref.owner}/${ref.slug}.git`,
    };
  }
  return integration.baseUrl
    ? { https: `${integration.baseUrl}/scm/${ref.owner.toLowerCase()}/${ref.slug}.git` }
    : {};
}

/** `GET /admin/projects?integration=`: the projects of an integration. */
export async function listProjects(
  deps: AdminDeps,
  context: AdminContext,
  { query }: AdminRequest,
): Promise<AdminResult> {
  if (!query.integration) throw new ValidationError('give the integration whose projects to list');
  if (!INTEGRATION_NAME.test(query.integration)) {
    throw new ValidationError(`integration must be an integration name, not "${shown(query.integration)}"`);
  }
  const projects = await deps.store.listProjects(query.integration);
  return { status: 200, body: { items: projects.map((project) => projectView(context, project)) } };
}

/** `GET /admin/projects/{id}`. */
export async function getProject(
  deps: AdminDeps,
  context: AdminContext,
  { id }: AdminRequest,
): Promise<AdminResult> {
  return { status: 200, body: projectView(context, await findProject(deps, id)) };
}

/**
 * `PATCH /admin/projects/{id}`: `settings` merge over the current ones and are checked with the
 * strict schema (unknown keys are named); `pipelineFile` and `defaultBranch` replace theirs.
 */
export async function patchProject(
  deps: AdminDeps,
  context: AdminContext,
  { id, body }: AdminRequest,
): Promise<AdminResult> {
  const raw = body();
  const patch = validate(PatchProjectSchema, raw, 'request');
  // Merged from the body as parsed, not from zod's copy: that one drops a `__proto__` key
  // silently, where the strict settings schema names it as the unknown key it is.
  const given = (raw as { settings?: Record<string, unknown> }).settings;
  const next = await updateProject(deps, id, (current) => {
    const changed = {
      settings: given
        ? validate(ProjectSettingsSchema, { ...current.settings, ...given }, 'settings')
        : current.settings,
      pipelineFile: patch.pipelineFile ?? current.pipelineFile,
      defaultBranch: patch.defaultBranch ?? current.defaultBranch,
    };
    checkItemFits('project', projectItem({ ...current, ...changed }));
    return changed;
  });
  audit(deps, context, 'project.update', `project/${id}`, {
    fields: Object.keys(patch),
    settings: patch.settings ? Object.keys(patch.settings) : undefined,
  });
  return { status: 200, body: projectView(context, next) };
}

/**
 * `DELETE /admin/projects/{id}`: removes our webhook and deploy key from the repository (when
 * the integration still has credentials), the deploy key secret, then the project and its
 * mapping. A repository that is gone or credentials Bitbucket refuses do not stop it; Bitbucket
 * being unavailable does (retry later), before anything was removed here.
 */
export async function disconnectProject(
  deps: AdminDeps,
  context: AdminContext,
  { id }: AdminRequest,
): Promise<AdminResult> {
  const project = await findProject(deps, id);
  const integration = await deps.store.getIntegration(project.integration);
  let client: BitbucketClient | undefined;
  let cleanup = 'skipped: no credentials';
  try {
    client = integration?.status === 'active' ? await clientFor(deps, integration) : undefined;
  } catch (error) {
    // Unreadable credentials must not keep a project connected: disconnect without them.
    if (!(error instanceof DependencyError)) throw error;
    cleanup = `skipped: ${error.message}`;
  }
  if (client) cleanup = 'removed';
  if (client && integration) {
    try {
      await removeFromRepository(deps, context, client, project, integration);
    } catch (error) {
      if (!(error instanceof BitbucketNotFoundError || error instanceof BitbucketAuthError)) throw error;
      cleanup = `skipped: ${error.message}`;
      deps.log.warn('could not remove the webhook and deploy key from Bitbucket', {
        projectId: id,
        reason: cleanup,
      });
    }
  }
  await deps.secrets.delete(project.deployKeySecretId);
  await deps.store.deleteProject(project);
  audit(deps, context, 'project.disconnect', `project/${id}`, {
    integration: project.integration,
    repository: project.fullName,
    bitbucket: cleanup,
  });
  return { status: 204 };
}

async function removeFromRepository(
  deps: AdminDeps,
  context: AdminContext,
  client: BitbucketClient,
  project: ProjectRecord,
  integration: IntegrationRecord,
): Promise<void> {
  const ref = repoRefOf(project);
  const url = webhookUrlOf(context, integration.name);
  for (const hook of await client.listHooks(ref)) {
    if (hook.url === url || hook.id === project.webhookId) await client.deleteHook(ref, hook.id);
  }
  const label = deployKeyLabel(deps.stage, project.id);
  const ours = project.deployKey ? publicKeyBody(project.deployKey.publicKey) : undefined;
  for (const key of await client.listDeployKeys(ref)) {
    if (key.label === label || key.key === ours || key.id === project.deployKey?.id) {
      await client.deleteDeployKey(ref, key.id);
    }
  }
}
