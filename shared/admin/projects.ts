import { derivedCloneUrls, placeholderCloneUrl } from '../bitbucket/clone-urls';
import { webhookEvents } from '../bitbucket/event-keys';
import {
  normaliseRepositoryId,
  providerOfRepositoryId,
  REPOSITORY_ID_SHAPES,
} from '../bitbucket/repository-id';
import { type BitbucketClient, parseRepoRef, type RepoRef } from '../bitbucket/rest/client';
import { BitbucketAuthError, BitbucketNotFoundError } from '../bitbucket/rest/errors';
import type { CloneUrls, Provider } from '../domain/events';
import { ProjectSettingsSchema } from '../domain/settings';
import { DependencyError, ValidationError } from '../errors';
import { secretIds } from '../secrets/secrets';
import { projectItem } from '../store/dynamo-items';
import type { IntegrationRecord, ProjectRecord } from '../store/store';
import { validate } from '../validation';
import {
  deployKeyLabel,
  ensureDeployKey,
  ensureHook,
  newDeployKey,
  removeFromRepository,
} from './bitbucket-setup';
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
import type { DeployKey as KeyPair } from './deploy-key';
import { ConflictError } from './errors';
import { projectIdOf } from './project-id';
import { ConnectProjectSchema, INTEGRATION_NAME, PatchProjectSchema } from './schemas';
import { type ItemsAnswer, type ProjectView, projectView } from './views';

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
 * what to set up by hand. The project is stored last, so a failure leaves no project. Throws
 * ValidationError, NotFoundError, GoneError, ConflictError (already connected) and the REST
 * client's errors.
 */
export async function connectProject(
  deps: AdminDeps,
  context: AdminContext,
  { body }: AdminRequest,
): Promise<AdminResult> {
  const input = validate(ConnectProjectSchema, body(), 'request');
  const settings =
    input.settings === undefined ? undefined : validate(ProjectSettingsSchema, input.settings, 'settings');
  const ref = parseRepoRef(input.repository);
  const integration = await activeIntegration(deps, input.integration);
  const provider = providerOfConnect(deps, integration, input.repositoryId);
  const repositoryId = input.repositoryId === undefined ? undefined : checkedRepositoryId(provider, input);
  const client = await clientFor(deps, integration);
  const given = { ...input, repositoryId };
  const repo = client
    ? await readRepository(client, ref, provider, given)
    : givenRepository(integration, ref, provider, given);
  const id = projectIdOf(integration.name, repo.id);
  const existing = await reconnectable(deps, integration, repo, id);
  const key = newDeployKey(deps.stage, id);
  const pending = connectedProject(deps, {
    id,
    integration,
    provider,
    repo,
    settings,
    input,
    existing,
    key,
  });
  // Checked before anything is written; what Bitbucket assigns fits in the headroom.
  checkItemFits('project', projectItem(pending));

  let registered: Registered | undefined;
  if (client) {
    registered = await registerOnRepository(deps, context, {
      client,
      ref,
      integration,
      project: { ...pending, deployKey: existing?.deployKey },
      key,
      existing,
    });
  } else {
    await deps.secrets.put(pending.deployKeySecretId, JSON.stringify(key));
  }
  // Undefined fields are not stored.
  const project: ProjectRecord = {
    ...pending,
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
  return { status: 201, body: connectAnswer(deps, context, { project, integration, key, registered }) };
}

/**
 * The detached project a connect revives, or undefined when the repository was never connected
 * through this integration. Throws ConflictError when it is connected.
 */
async function reconnectable(
  deps: AdminDeps,
  integration: IntegrationRecord,
  repo: RepositoryFacts,
  id: string,
): Promise<ProjectRecord | undefined> {
  const existing = await deps.store.getProject(id);
  if (existing && existing.status !== 'detached') {
    throw new ConflictError(
      `repository ${repo.fullName} is already connected through integration "${integration.name}" as project ${id}`,
      'already-connected',
    );
  }
  return existing;
}

/** What connect registered on the repository. */
interface Registered {
  deployKeyId: string;
  webhookId: string;
  webhookAction: 'created' | 'updated';
}

/**
 * Puts the project's new deploy key and our webhook (with the integration's current secret) on
 * the repository. When Bitbucket refuses anything, a new project's private key is removed again
 * and the refusal thrown.
 */
async function registerOnRepository(
  deps: AdminDeps,
  context: AdminContext,
  setup: {
    client: BitbucketClient;
    ref: RepoRef;
    integration: IntegrationRecord;
    project: Pick<ProjectRecord, 'id' | 'deployKeySecretId' | 'deployKey'>;
    key: KeyPair;
    existing: ProjectRecord | undefined;
  },
): Promise<Registered> {
  const { client, ref, integration, project } = setup;
  const secret = await currentWebhookSecret(deps, integration);
  try {
    const key = await ensureDeployKey({
      client,
      ref,
      secrets: deps.secrets,
      stage: deps.stage,
      project,
      replacement: setup.key,
    });
    if (key.refused) throw key.refused;
    const url = webhookUrlOf(context, integration.name);
    const hook = await ensureHook({ client, ref, stage: deps.stage, integration, url, secret });
    if (hook.refused) throw hook.refused;
    return { deployKeyId: key.key.id, webhookId: hook.hook.id, webhookAction: hook.change };
  } catch (error) {
    if (!setup.existing) await deps.secrets.delete(project.deployKeySecretId).catch(() => undefined);
    throw error;
  }
}

/** `POST /admin/projects`: the project, and what was registered on Bitbucket or is to be set up by hand. */
export type ProjectConnectedAnswer = ReturnType<typeof connectAnswer>;

/** Connect's answer: the project, and what was registered on Bitbucket or is to be set up by hand. */
function connectAnswer(
  deps: AdminDeps,
  context: AdminContext,
  connected: {
    project: ProjectRecord;
    integration: IntegrationRecord;
    key: KeyPair;
    registered: Registered | undefined;
  },
) {
  const { project, integration, registered } = connected;
  const url = webhookUrlOf(context, integration.name);
  const events = webhookEvents(integration.provider);
  const { publicKey, fingerprint } = connected.key;
  return {
    project: projectView(context, project),
    publicKey,
    webhookUrl: url,
    ...(registered
      ? {
          webhook: { id: registered.webhookId, action: registered.webhookAction, events },
          deployKey: { id: registered.deployKeyId, fingerprint, readOnly: true },
        }
      : {
          manualSetup: {
            webhook: {
              url,
              events,
              secret: `the webhook secret of integration "${integration.name}", shown when it was created or its secret was last rotated (POST /admin/integrations/${integration.name}/rotate-secret issues a new one)`,
            },
            deployKey: { publicKey, label: deployKeyLabel(deps.stage, project.id), permission: 'read-only' },
          },
        }),
  };
}

/**
 * The project a connect stores, less what Bitbucket assigns. A reconnected project keeps what was
 * set before unless the request says otherwise.
 */
function connectedProject(
  deps: AdminDeps,
  connect: {
    id: string;
    integration: IntegrationRecord;
    provider: Provider;
    repo: RepositoryFacts;
    settings: ProjectRecord['settings'] | undefined;
    input: { pipelineFile?: string | undefined };
    existing: ProjectRecord | undefined;
    key: KeyPair;
  },
): ProjectRecord {
  const { id, integration, repo, existing } = connect;
  const at = deps.now().toISOString();
  return {
    id,
    integration: integration.name,
    provider: connect.provider,
    repositoryId: repo.id,
    fullName: repo.fullName,
    cloneUrls: repo.cloneUrls,
    defaultBranch: repo.defaultBranch,
    settings: connect.settings ?? existing?.settings ?? ProjectSettingsSchema.parse({}),
    deployKeySecretId: secretIds.deployKey(deps.stage, id),
    createdAt: existing?.createdAt ?? at,
    updatedAt: at,
    status: 'connected',
    pipelineFile: connect.input.pipelineFile ?? existing?.pipelineFile,
    deployKey: { publicKey: connect.key.publicKey, fingerprint: connect.key.fingerprint },
  };
}

/**
 * The platform of the repository being connected: the integration's, except on local mode's
 * integration for both platforms, where the id's shape tells (Cloud `{uuid}`, DC a number).
 */
function providerOfConnect(
  deps: AdminDeps,
  integration: IntegrationRecord,
  repositoryId: string | undefined,
): Provider {
  if (integration.name !== deps.bothPlatformsIntegration || repositoryId === undefined) {
    return integration.provider;
  }
  return providerOfRepositoryId(repositoryId) ?? integration.provider;
}

/**
 * The given repository id as deliveries carry it (so they find the project). Throws
 * ValidationError, saying what is expected, for an id that is not of the platform.
 */
function checkedRepositoryId(provider: Provider, input: { repositoryId?: string | undefined }): string {
  const raw = input.repositoryId ?? '';
  const id = normaliseRepositoryId(provider, raw);
  if (id === undefined) {
    throw new ValidationError(`repositoryId must be ${REPOSITORY_ID_SHAPES[provider]}, not "${shown(raw)}"`);
  }
  return id;
}

async function readRepository(
  client: BitbucketClient,
  ref: RepoRef,
  provider: Provider,
  input: { repositoryId?: string | undefined; defaultBranch?: string | undefined },
): Promise<RepositoryFacts> {
  const info = await client.getRepository(ref);
  const actual = normaliseRepositoryId(provider, info.id) ?? info.id;
  if (input.repositoryId && input.repositoryId !== actual) {
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
  provider: Provider,
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
  const fullName = `${ref.owner}/${ref.slug}`;
  const derived = derivedCloneUrls(provider, fullName, integration.baseUrl);
  // A given URL replaces the derived one; an empty one does not.
  const ssh = input.cloneUrls?.ssh || derived.ssh;
  const https = input.cloneUrls?.https || derived.https;
  return {
    id: input.repositoryId as string,
    fullName,
    defaultBranch: input.defaultBranch as string,
    // Only local mode's integration has no server root for Data Center URLs.
    cloneUrls: ssh || https ? { ssh, https } : { ssh: placeholderCloneUrl(fullName) },
  };
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
  const answer: ItemsAnswer<ProjectView> = {
    items: projects.map((project) => projectView(context, project)),
  };
  return { status: 200, body: answer };
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
 * strict schema (unknown keys are named); `pipelineFile` and `defaultBranch` replace theirs
 * (`pipelineFile: null` removes it).
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
      pipelineFile: patch.pipelineFile === null ? undefined : (patch.pipelineFile ?? current.pipelineFile),
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
      await removeFromRepository({
        client,
        ref: repoRefOf(project),
        stage: deps.stage,
        project,
        url: webhookUrlOf(context, integration.name),
      });
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
