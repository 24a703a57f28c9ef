import { webhookEvents } from '../bitbucket/event-keys';
import type { BitbucketClient, CredentialsCheck, RepoRef } from '../bitbucket/rest/client';
import { BitbucketApiError, BitbucketNotFoundError } from '../bitbucket/rest/errors';
import { DependencyError } from '../errors';
import type { IntegrationRecord, ProjectRecord } from '../store/store';
import { validate } from '../validation';
import {
  ensureDeployKey,
  ensureHook,
  hookProblems,
  newDeployKey,
  type SetupAction,
  storedDeployKey,
} from './bitbucket-setup';
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
import { ConflictError } from './errors';
import { RepairSchema } from './schemas';
import type { RepairAnswer } from './views';

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

const CHECKS = [
  'integration',
  'known-hosts',
  'credentials',
  'webhook',
  'deploy-key',
  'pipeline-file',
] as const;
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
 * Checks a project against its integration and the repository: integration attached, SSH known
 * hosts for a Data Center repository, credentials valid with every scope, our webhook (URL,
 * events, active, secret set), our deploy key (the public half of the stored private key,
 * read-only) and the pipeline file, when one is set, on the default branch.
 * What cannot be checked (no credentials, Bitbucket refusing or failing) is `unknown`, with why.
 */
export async function inspect(
  deps: AdminDeps,
  context: AdminContext,
  project: ProjectRecord,
): Promise<Health> {
  const checks: Check[] = [];
  const rest = (reason: string): Health => {
    for (const name of CHECKS.slice(checks.length)) {
      checks.push(
        name === 'pipeline-file' && !project.pipelineFile
          ? NO_PIPELINE_FILE
          : checked(name, reason, 'unknown'),
      );
    }
    return summary(checks);
  };

  const integration = await deps.store.getIntegration(project.integration);
  checks.push(checked('integration', integrationProblem(project, integration)));
  if (integration?.status !== 'active') return rest('the integration is not active');
  checks.push(checked('known-hosts', knownHostsProblem(project, integration)));

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
  checks.push(await pipelineFileCheck(client, ref, project));
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

/**
 * Runners clone with `StrictHostKeyChecking=yes` and the trigger's `checkout.knownHosts`: Cloud's
 * are built in, a Data Center's are the integration's, without which every clone fails.
 */
function knownHostsProblem(project: ProjectRecord, integration: IntegrationRecord): string | undefined {
  if (project.provider !== 'bitbucket-data-center' || integration.sshKnownHosts?.length) return undefined;
  return `integration "${integration.name}" has no SSH known hosts, and runners clone with StrictHostKeyChecking=yes, so every clone of this Data Center repository fails: set them (PATCH sshKnownHosts, or hookgate admin integrations update ${integration.name} --ssh-known-hosts-file <file>)`;
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
  const { stored, body, problem } = await storedDeployKey(deps.secrets, project);
  if (!stored || problem) return problem;
  const key = (await client.listDeployKeys(ref)).find((candidate) => candidate.key === body);
  if (!key) return `our deploy key (${stored.fingerprint}) is not on the repository`;
  if (!key.readOnly) return `our deploy key (${stored.fingerprint}) has write access; it should be read-only`;
  return undefined;
}

/** Without a `pipelineFile` there is nothing to look for: that check is `ok`, saying so. */
const NO_PIPELINE_FILE: Check = {
  name: 'pipeline-file',
  status: 'ok',
  reason: 'no pipelineFile is set, so there is none to look for',
};

async function pipelineFileCheck(
  client: BitbucketClient,
  ref: RepoRef,
  project: ProjectRecord,
): Promise<Check> {
  const path = project.pipelineFile;
  if (!path) return NO_PIPELINE_FILE;
  // Cloud's file endpoint takes a commit or a branch name without "/" (see the REST client).
  if (project.provider === 'bitbucket-cloud' && project.defaultBranch.includes('/')) {
    return checked(
      'pipeline-file',
      `Bitbucket Cloud cannot be asked for a file on a branch whose name has "/" (${project.defaultBranch})`,
      'unknown',
    );
  }
  return probe('pipeline-file', async () =>
    (await client.fileExists(ref, path, project.defaultBranch))
      ? undefined
      : `${path} is not on the default branch ${project.defaultBranch}`,
  );
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
  const actions: SetupAction[] = [];
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
    const key = await ensureDeployKey({
      client,
      ref,
      secrets: deps.secrets,
      stage: deps.stage,
      project,
      replacement: options.rotateDeployKey ? newDeployKey(deps.stage, project.id) : undefined,
    });
    if (key.deployKey) changes.deployKey = key.deployKey;
    const hook = await ensureHook({
      client,
      ref,
      stage: deps.stage,
      integration,
      url: webhookUrlOf(context, integration.name),
      secret: await currentWebhookSecret(deps, integration),
      knownId: project.webhookId,
    });
    if (hook.hook && hook.hook.id !== project.webhookId) changes.webhookId = hook.hook.id;
    actions.push(...key.actions, ...hook.actions);
  }

  const saved = await saveChanges(deps, id, changes);
  audit(deps, context, 'project.repair', `project/${id}`, {
    actions: actions.map((a) => `${a.action}:${a.result}${a.target ? `:${a.target}` : ''}`),
  });
  return {
    status: 200,
    body: { actions, health: await inspect(deps, context, saved) } satisfies RepairAnswer,
  };
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
