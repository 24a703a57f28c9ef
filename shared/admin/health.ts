import { webhookEvents } from '../bitbucket/event-keys';
import {
  type BitbucketClient,
  type CredentialsCheck,
  publicKeyBody,
  type RepoRef,
} from '../bitbucket/rest/client';
import { BitbucketApiError, BitbucketNotFoundError } from '../bitbucket/rest/errors';
import { DependencyError } from '../errors';
import { validate } from '../evaluate';
import type { IntegrationRecord, ProjectRecord } from '../store/store';
import { deployKeyLabel, ensureHook, hookDescription, hookProblems, readDeployKey } from './bitbucket-setup';
import {
  type AdminContext,
  type AdminDeps,
  type AdminRequest,
  type AdminResult,
  activeIntegration,
  audit,
  clientFor,
  currentWebhookSecret,
  findProject,
  goneIntegration,
  laterThan,
  repoRefOf,
  updateProject,
  webhookUrlOf,
} from './context';
import { generateDeployKey } from './deploy-key';
import { ConflictError } from './errors';
import { DEFAULT_PIPELINE_FILE, RepairSchema } from './schemas';

export type CheckStatus = 'ok' | 'broken' | 'unknown';

export interface Check {
  name: CheckName;
  status: CheckStatus;
  reason?: string;
}

export interface Health {
  /** `broken` when any check is, `ok` when all are, `unknown` otherwise. */
  status: CheckStatus;
  checks: Check[];
}

const CHECKS = ['integration', 'credentials', 'webhook', 'deploy-key', 'pipeline-file'] as const;
type CheckName = (typeof CHECKS)[number];

/** `GET /admin/projects/{id}/health`. */
export async function projectHealth(
  deps: AdminDeps,
  context: AdminContext,
  { id }: AdminRequest,
): Promise<AdminResult> {
  return { status: 200, body: await inspect(deps, context, await findProject(deps, id)) };
}

/**
 * Checks a project against its integration and the repository: integration attached, credentials
 * valid with every scope, our webhook (URL, events, active, secret set), our deploy key (the
 * public half of the stored private key, read-only) and the pipeline file on the default branch.
 * What cannot be checked (no credentials, Bitbucket refusing or failing) is `unknown`, with why.
 */
export async function inspect(
  deps: AdminDeps,
  context: AdminContext,
  project: ProjectRecord,
): Promise<Health> {
  const checks: Check[] = [];
  const rest = (reason: string): Health => {
    for (const name of CHECKS.slice(checks.length)) checks.push(checked(name, reason, 'unknown'));
    return summary(checks);
  };

  const integration = await deps.store.getIntegration(project.integration);
  checks.push(checked('integration', integrationProblem(project, integration)));
  if (integration?.status !== 'active') return rest('the integration is not active');

  let client: BitbucketClient | undefined;
  try {
    client = await clientFor(deps, integration);
  } catch (error) {
    if (!(error instanceof DependencyError)) throw error;
    checks.push(checked('credentials', error.message));
    return rest('the credentials cannot be read');
  }
  if (!client) {
    return rest(`integration "${integration.name}" has no credentials, so Bitbucket cannot be asked`);
  }

  const ref = repoRefOf(project);
  try {
    const result = await client.checkCredentials(ref);
    if (!result.valid) {
      checks.push(checked('credentials', rejectedBecause(result)));
      return rest('cannot be checked while Bitbucket rejects the credentials');
    }
    const lacking = result.missingScopes.join(', ');
    checks.push(
      checked(
        'credentials',
        lacking && `the credentials lack: ${lacking}${result.detail ? ` (${result.detail})` : ''}`,
      ),
    );
  } catch (error) {
    if (!(error instanceof BitbucketApiError)) throw error;
    const reason =
      error instanceof BitbucketNotFoundError
        ? `repository ${project.fullName} is not on Bitbucket, or these credentials cannot see it`
        : `could not check: ${error.message}`;
    checks.push(
      checked('credentials', reason, error instanceof BitbucketNotFoundError ? 'broken' : 'unknown'),
    );
    return rest(reason);
  }

  checks.push(await probe('webhook', () => webhookCheck(context, client, ref, project, integration)));
  checks.push(await probe('deploy-key', () => deployKeyCheck(deps, client, ref, project)));
  checks.push(
    // Cloud's file endpoint takes a commit or a branch name without "/" (see the REST client).
    project.provider === 'bitbucket-cloud' && project.defaultBranch.includes('/')
      ? checked(
          'pipeline-file',
          `Bitbucket Cloud cannot be asked for a file on a branch whose name has "/" (${project.defaultBranch})`,
          'unknown',
        )
      : await probe('pipeline-file', () => pipelineFileCheck(client, ref, project)),
  );
  return summary(checks);
}

function integrationProblem(project: ProjectRecord, integration: IntegrationRecord | undefined) {
  if (!integration) return `integration "${project.integration}" does not exist`;
  if (integration.status === 'deleted') {
    return goneIntegration(integration).message;
  }
  if (project.status === 'detached') {
    return `the project was detached when integration "${integration.name}" was deleted; repair attaches it again`;
  }
  return undefined;
}

async function webhookCheck(
  context: AdminContext,
  client: BitbucketClient,
  ref: RepoRef,
  project: ProjectRecord,
  integration: IntegrationRecord,
): Promise<string | undefined> {
  const url = webhookUrlOf(context, integration.name);
  const ours = (await client.listHooks(ref)).filter((hook) => hook.url === url);
  const hook = ours.find((candidate) => candidate.id === project.webhookId) ?? ours[0];
  if (!hook) return `no webhook with URL ${url}`;
  const problems = hookProblems(hook, webhookEvents(integration.provider));
  if (ours.length > 1)
    problems.push(`${ours.length} webhooks have our URL, so each event is delivered ${ours.length} times`);
  return problems.length ? problems.join('; ') : undefined;
}

async function deployKeyCheck(
  deps: AdminDeps,
  client: BitbucketClient,
  ref: RepoRef,
  project: ProjectRecord,
): Promise<string | undefined> {
  const { stored, body, problem } = await storedDeployKey(deps, project);
  if (!stored || problem) return problem;
  const key = (await client.listDeployKeys(ref)).find((candidate) => candidate.key === body);
  if (!key) return `our deploy key (${stored.fingerprint}) is not on the repository`;
  if (!key.readOnly) return `our deploy key (${stored.fingerprint}) has write access; it should be read-only`;
  return undefined;
}

/** The project's stored deploy key, its public body, and what is wrong with it before asking Bitbucket. */
async function storedDeployKey(deps: AdminDeps, project: ProjectRecord) {
  const stored = await readDeployKey(deps.secrets, project.deployKeySecretId);
  const body = stored && publicKeyBody(stored.publicKey);
  const problem = !stored
    ? `the private key is missing from ${project.deployKeySecretId}`
    : project.deployKey && publicKeyBody(project.deployKey.publicKey) !== body
      ? 'the stored private key is not the one registered for this project'
      : undefined;
  return { stored, body, problem };
}

async function pipelineFileCheck(
  client: BitbucketClient,
  ref: RepoRef,
  project: ProjectRecord,
): Promise<string | undefined> {
  const path = project.pipelineFile ?? DEFAULT_PIPELINE_FILE;
  if (await client.fileExists(ref, path, project.defaultBranch)) return undefined;
  return `${path} is not on the default branch ${project.defaultBranch}`;
}

/** Runs one check: a problem is `broken`, a REST failure `unknown` with Bitbucket's words. */
async function probe(name: CheckName, check: () => Promise<string | undefined>): Promise<Check> {
  try {
    return checked(name, await check());
  } catch (error) {
    if (!(error instanceof BitbucketApiError)) throw error;
    return checked(name, `could not check: ${error.message}`, 'unknown');
  }
}

function rejectedBecause(check: CredentialsCheck): string {
  return `Bitbucket rejected the credentials: ${check.detail ?? 'no reason given'}`;
}

/** `ok` without a problem; otherwise `status` with the problem as the reason. */
function checked(name: CheckName, problem: string | undefined, status: CheckStatus = 'broken'): Check {
  return problem ? { name, status, reason: problem } : { name, status: 'ok' };
}

function summary(checks: Check[]): Health {
  const status = checks.some((c) => c.status === 'broken')
    ? 'broken'
    : checks.every((c) => c.status === 'ok')
      ? 'ok'
      : 'unknown';
  return { status, checks };
}

interface RepairAction {
  action: string;
  result: 'done' | 'failed';
  target?: string;
  reason?: string;
}

/**
 * `POST /admin/projects/{id}/repair`: attaches a detached project again, regenerates a deploy key
 * that is missing, not ours or not read-only (or when asked to), deletes stale keys and hooks,
 * creates or updates our webhook (with the current secret), then checks health again.
 * Throws NotFoundError, GoneError, ConflictError (no credentials) and the REST client's errors
 * when even the credentials check fails.
 */
export async function repairProject(
  deps: AdminDeps,
  context: AdminContext,
  { id, body }: AdminRequest,
): Promise<AdminResult> {
  const options = validate(RepairSchema, body() ?? {}, 'request');
  const project = await findProject(deps, id);
  const integration = await activeIntegration(deps, project.integration);
  const client = await clientFor(deps, integration);
  if (!client) {
    throw new ConflictError(
      `integration "${integration.name}" has no credentials, so Hookgate cannot change the repository: add credentials, or fix what GET /admin/projects/${id}/health reports by hand`,
      'no-credentials',
    );
  }
  const actions: RepairAction[] = [];
  const changes: Partial<ProjectRecord> = {};
  if (project.status === 'detached') {
    Object.assign(changes, { status: 'connected', detachedAt: undefined });
    actions.push({ action: 'reattach', result: 'done', target: integration.name });
  }

  const ref = repoRefOf(project);
  const credentials = await client.checkCredentials(ref);
  if (!credentials.valid) {
    actions.push({
      action: 'check-credentials',
      result: 'failed',
      reason: rejectedBecause(credentials),
    });
  } else {
    await attempt(actions, 'regenerate-deploy-key', () =>
      repairDeployKey(deps, client, ref, project, options, actions, changes),
    );
    await attempt(actions, 'update-webhook', () =>
      repairHook(deps, context, client, ref, project, integration, actions, changes),
    );
  }

  const saved = await saveChanges(deps, id, changes);
  audit(deps, context, 'project.repair', `project/${id}`, {
    actions: actions.map((a) => `${a.action}:${a.result}${a.target ? `:${a.target}` : ''}`),
  });
  return { status: 200, body: { actions, health: await inspect(deps, context, saved) } };
}

async function repairDeployKey(
  deps: AdminDeps,
  client: BitbucketClient,
  ref: RepoRef,
  project: ProjectRecord,
  options: { rotateDeployKey?: boolean | undefined },
  actions: RepairAction[],
  changes: Partial<ProjectRecord>,
): Promise<void> {
  const { stored, body: storedBody, problem } = await storedDeployKey(deps, project);
  const keys = await client.listDeployKeys(ref);
  let current = keys.find((key) => key.key === storedBody && key.readOnly);
  const why =
    problem ??
    (!current
      ? 'the key was not on the repository (or not read-only)'
      : options.rotateDeployKey
        ? 'asked to rotate it'
        : undefined);
  if (why) {
    // New key on Bitbucket first, then the secret, then the old key goes: a runner reading the
    // secret at any moment gets a key that works.
    const fresh = generateDeployKey(`hookgate-${deps.stage}-${project.id}`);
    current = await client.addDeployKey(ref, {
      key: fresh.publicKey,
      label: deployKeyLabel(deps.stage, project.id),
    });
    await deps.secrets.put(project.deployKeySecretId, JSON.stringify(fresh));
    changes.deployKey = { publicKey: fresh.publicKey, fingerprint: fresh.fingerprint, id: current.id };
    actions.push({ action: 'regenerate-deploy-key', result: 'done', target: fresh.fingerprint, reason: why });
  } else if (current && project.deployKey?.id !== current.id && stored) {
    changes.deployKey = { publicKey: stored.publicKey, fingerprint: stored.fingerprint, id: current.id };
  }
  const label = deployKeyLabel(deps.stage, project.id);
  for (const key of keys) {
    if (key.id === current?.id || (key.label !== label && key.key !== storedBody)) continue;
    await client.deleteDeployKey(ref, key.id);
    actions.push({
      action: 'delete-deploy-key',
      result: 'done',
      target: key.id,
      reason: key.key === storedBody ? 'the replaced key' : 'a stale key of this project',
    });
  }
}

async function repairHook(
  deps: AdminDeps,
  context: AdminContext,
  client: BitbucketClient,
  ref: RepoRef,
  project: ProjectRecord,
  integration: IntegrationRecord,
  actions: RepairAction[],
  changes: Partial<ProjectRecord>,
): Promise<void> {
  const events = webhookEvents(integration.provider);
  const url = webhookUrlOf(context, integration.name);
  const outcome = await ensureHook(
    client,
    ref,
    {
      url,
      events,
      description: hookDescription(deps.stage, integration.name),
      secret: await currentWebhookSecret(deps, integration),
    },
    project.webhookId,
  );
  for (const hook of outcome.deleted) {
    actions.push({
      action: 'delete-webhook',
      result: 'done',
      target: hook.id,
      reason: hook.url === url ? 'a duplicate with our URL' : `stale: its URL ${hook.url} is no longer ours`,
    });
  }
  const problems = outcome.before ? hookProblems(outcome.before, events) : [];
  actions.push({
    action: outcome.action === 'created' ? 'create-webhook' : 'update-webhook',
    result: 'done',
    target: outcome.hook.id,
    reason:
      outcome.action === 'created'
        ? `no webhook with URL ${url}`
        : problems.length
          ? problems.join('; ')
          : 'nothing wrong was seen; the current secret was set again',
  });
  if (project.webhookId !== outcome.hook.id) changes.webhookId = outcome.hook.id;
}

/** Runs a repair step; a REST failure becomes a failed action and the next step still runs. */
async function attempt(actions: RepairAction[], action: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (!(error instanceof BitbucketApiError)) throw error;
    actions.push({ action, result: 'failed', reason: error.message });
  }
}

/** Applies repair's changes to the latest project item; re-attaching writes the mapping too. */
async function saveChanges(
  deps: AdminDeps,
  id: string,
  changes: Partial<ProjectRecord>,
): Promise<ProjectRecord> {
  if (Object.keys(changes).length === 0) return findProject(deps, id);
  if (changes.status !== 'connected') return updateProject(deps, id, () => changes);
  const current = await findProject(deps, id);
  // `detachedAt: undefined` among the changes: the store leaves it out.
  const attached = { ...current, ...changes, updatedAt: laterThan(deps.now(), current.updatedAt) };
  await deps.store.putProject(attached);
  return attached;
}
