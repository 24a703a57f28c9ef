import * as z from 'zod/mini';
import { webhookEvents } from '../bitbucket/event-keys';
import {
  type BitbucketClient,
  type DeployKey,
  type Hook,
  publicKeyBody,
  type RepoRef,
} from '../bitbucket/rest/client';
import { BitbucketApiError } from '../bitbucket/rest/errors';
import type { SecretStore } from '../secrets/secrets';
import type { IntegrationRecord, ProjectRecord } from '../store/store';
import { generateDeployKey, type DeployKey as KeyPair } from './deploy-key';

// What Hookgate puts on a repository, and how it recognises its own: the webhook by its URL
// (stale ones by their description), the deploy key by its label. Labels name the stage, so two
// stages connected to one repository never take each other's hooks or keys for stale ones.
// Connect, repair and disconnect all go through this module.

/** The description (Cloud) or name (DC) of the webhooks Hookgate manages for an integration. */
export function hookDescription(stage: string, integration: string): string {
  return `Hookgate ${stage} ${integration}`;
}

/** The label of a project's deploy key. */
export function deployKeyLabel(stage: string, projectId: string): string {
  return `Hookgate ${stage} ${projectId}`;
}

/** A new deploy key pair for a project, its comment naming the stage and the project. */
export function newDeployKey(stage: string, projectId: string): KeyPair {
  return generateDeployKey(`hookgate-${stage}-${projectId}`);
}

/** What is wrong with a hook that has our URL, compared with the events we subscribe to. */
export function hookProblems(hook: Hook, events: readonly string[]): string[] {
  const problems: string[] = [];
  if (!hook.active) problems.push('the webhook is inactive');
  const missing = events.filter((event) => !hook.events.includes(event));
  const extra = hook.events.filter((event) => !events.includes(event));
  if (missing.length) problems.push(`events missing: ${missing.join(', ')}`);
  if (extra.length) problems.push(`events not ours: ${extra.join(', ')}`);
  if (!hook.secretSet) problems.push('no secret is set, so deliveries are unsigned and refused');
  return problems;
}

/** A change made on Bitbucket, or the step Bitbucket refused, as repair answers it (docs/admin.md). */
export interface SetupAction {
  action: string;
  result: 'done' | 'failed';
  target?: string;
  reason?: string;
}

/** What a step changed on Bitbucket, in order, and the refusal that stopped it, if one did. */
export interface SetupOutcome {
  /** Ends with a `failed` action named after the step when Bitbucket refused. */
  actions: SetupAction[];
  refused?: BitbucketApiError;
}

/** A step Bitbucket refused: what it had changed until then, and the refusal. */
export interface Refused extends SetupOutcome {
  refused: BitbucketApiError;
}

export interface DeployKeyTarget {
  client: BitbucketClient;
  ref: RepoRef;
  secrets: SecretStore;
  stage: string;
  project: Pick<ProjectRecord, 'id' | 'deployKeySecretId' | 'deployKey'>;
  /** A new key pair to put in place of the stored one even when that one is fine (connect, a rotation). */
  replacement?: KeyPair | undefined;
}

/** The project's deploy key as the project records it. */
export type RecordedDeployKey = NonNullable<ProjectRecord['deployKey']>;

export type DeployKeyOutcome = (
  | (Refused & { key?: undefined })
  | (SetupOutcome & { refused?: undefined; key: DeployKey })
) & {
  /** How the project should now record its key, when that changed (a new key, a new id), refused or not. */
  deployKey?: RecordedDeployKey;
};

/**
 * Leaves the project's key on the repository (`key`), read-only and labelled as ours, and no
 * other key of the project: a stored key that is missing, not the project's, not on the
 * repository or not read-only is replaced by a new one, as it is when a `replacement` is given.
 * Stops at Bitbucket's first refusal and reports it in the outcome; throws the secret store's
 * errors.
 */
export async function ensureDeployKey(target: DeployKeyTarget): Promise<DeployKeyOutcome> {
  const { client, ref, secrets, stage, project, replacement } = target;
  const label = deployKeyLabel(stage, project.id);
  const { stored, body: storedBody, problem } = await storedDeployKey(secrets, project);
  const actions: SetupAction[] = [];
  let deployKey: RecordedDeployKey | undefined;
  try {
    const keys = await client.listDeployKeys(ref);
    let current = keys.find((key) => key.key === storedBody && key.readOnly);
    const why =
      problem ??
      (!current
        ? 'the key was not on the repository (or not read-only)'
        : replacement
          ? 'asked to rotate it'
          : undefined);
    if (why || !current) {
      // The new key goes on Bitbucket, then into the secret, and only then do the old ones go: the
      // repository always holds a key that works, and so does the secret whenever a runner reads it.
      const fresh = replacement ?? newDeployKey(stage, project.id);
      current = await client.addDeployKey(ref, { key: fresh.publicKey, label });
      await secrets.put(project.deployKeySecretId, JSON.stringify(fresh));
      deployKey = { publicKey: fresh.publicKey, fingerprint: fresh.fingerprint, id: current.id };
      actions.push({
        action: 'regenerate-deploy-key',
        result: 'done',
        target: fresh.fingerprint,
        reason: why,
      });
    } else if (stored && project.deployKey?.id !== current.id) {
      deployKey = { publicKey: stored.publicKey, fingerprint: stored.fingerprint, id: current.id };
    }
    for (const key of keys) {
      if (key.id === current.id || (key.label !== label && key.key !== storedBody)) continue;
      await client.deleteDeployKey(ref, key.id);
      actions.push({
        action: 'delete-deploy-key',
        result: 'done',
        target: key.id,
        reason: key.key === storedBody ? 'the replaced key' : 'a stale key of this project',
      });
    }
    return { actions, key: current, ...(deployKey ? { deployKey } : {}) };
  } catch (error) {
    return { ...refusal(actions, 'regenerate-deploy-key', error), ...(deployKey ? { deployKey } : {}) };
  }
}

export interface HookTarget {
  client: BitbucketClient;
  ref: RepoRef;
  stage: string;
  integration: Pick<IntegrationRecord, 'name' | 'provider'>;
  /** Where Bitbucket delivers the integration's webhooks. */
  url: string;
  /** The integration's current webhook secret. */
  secret: string | undefined;
  /** The id recorded for the project's hook: kept rather than another hook with our URL. */
  knownId?: string | undefined;
}

export type HookOutcome =
  | (Refused & { hook?: undefined })
  | (SetupOutcome & { refused?: undefined; hook: Hook; change: 'created' | 'updated' });

/**
 * Leaves exactly one hook with our URL (`hook`), with our events, active and the current secret:
 * further hooks with our URL and stale ones (our description, another URL) are deleted, then the
 * known one or the first is updated, or one is created when there is none. Never duplicates a
 * hook, so connecting twice is harmless. Stops at Bitbucket's first refusal and reports it in the
 * outcome.
 */
export async function ensureHook(target: HookTarget): Promise<HookOutcome> {
  const { client, ref, url } = target;
  const events = webhookEvents(target.integration.provider);
  const spec = {
    url,
    events,
    description: hookDescription(target.stage, target.integration.name),
    secret: target.secret,
  };
  const actions: SetupAction[] = [];
  try {
    const hooks = await client.listHooks(ref);
    const ours = hooks.filter((hook) => hook.url === url);
    const keep = ours.find((hook) => hook.id === target.knownId) ?? ours[0];
    const stale = hooks.filter((hook) => hook.url !== url && hook.description === spec.description);
    // The kept hook is not among these, so deleting them first never leaves the repository
    // without a hook that delivers to our URL.
    for (const hook of [...ours.filter((other) => other !== keep), ...stale]) {
      await client.deleteHook(ref, hook.id);
      actions.push({
        action: 'delete-webhook',
        result: 'done',
        target: hook.id,
        reason:
          hook.url === url ? 'a duplicate with our URL' : `stale: its URL ${hook.url} is no longer ours`,
      });
    }
    if (!keep) {
      const hook = await client.createHook(ref, spec);
      actions.push({
        action: 'create-webhook',
        result: 'done',
        target: hook.id,
        reason: `no webhook with URL ${url}`,
      });
      return { actions, hook, change: 'created' };
    }
    const problems = hookProblems(keep, events);
    const hook = await client.updateHook(ref, keep.id, spec);
    actions.push({
      action: 'update-webhook',
      result: 'done',
      target: hook.id,
      reason: problems.length
        ? problems.join('; ')
        : 'nothing wrong was seen; the current secret was set again',
    });
    return { actions, hook, change: 'updated' };
  } catch (error) {
    return refusal(actions, 'update-webhook', error);
  }
}

/**
 * Deletes the project's webhook (our URL, or the recorded id) and deploy key (our label, our
 * public key, or the recorded id) from the repository. Throws the REST client's errors.
 */
export async function removeFromRepository(target: {
  client: BitbucketClient;
  ref: RepoRef;
  stage: string;
  project: Pick<ProjectRecord, 'id' | 'deployKey' | 'webhookId'>;
  url: string;
}): Promise<void> {
  const { client, ref, project } = target;
  for (const hook of await client.listHooks(ref)) {
    if (hook.url === target.url || hook.id === project.webhookId) await client.deleteHook(ref, hook.id);
  }
  const label = deployKeyLabel(target.stage, project.id);
  const ours = project.deployKey ? publicKeyBody(project.deployKey.publicKey) : undefined;
  for (const key of await client.listDeployKeys(ref)) {
    if (key.label === label || key.key === ours || key.id === project.deployKey?.id) {
      await client.deleteDeployKey(ref, key.id);
    }
  }
}

/** The outcome of a step Bitbucket refused after `done`. Throws any other error. */
function refusal(done: SetupAction[], action: string, error: unknown): Refused {
  if (!(error instanceof BitbucketApiError)) throw error;
  return { actions: [...done, { action, result: 'failed', reason: error.message }], refused: error };
}

/** The deploy key document runners read (examples/consumer reads exactly this shape). */
export const DeployKeyDocumentSchema = z.object({
  privateKey: z.string().check(z.minLength(1)),
  publicKey: z.string().check(z.minLength(1)),
  fingerprint: z.string(),
});

export type DeployKeyDocument = z.infer<typeof DeployKeyDocumentSchema>;

/**
 * The project's stored deploy key (undefined when missing or unreadable), its public body, and
 * what is wrong with it before Bitbucket is asked. Throws the secret store's errors.
 */
export async function storedDeployKey(
  secrets: SecretStore,
  project: Pick<ProjectRecord, 'deployKeySecretId' | 'deployKey'>,
): Promise<{ stored?: DeployKeyDocument; body?: string; problem?: string }> {
  const stored = await readDeployKey(secrets, project.deployKeySecretId);
  if (!stored) return { problem: `the private key is missing from ${project.deployKeySecretId}` };
  const body = publicKeyBody(stored.publicKey);
  if (project.deployKey && publicKeyBody(project.deployKey.publicKey) !== body) {
    return { stored, body, problem: 'the stored private key is not the one registered for this project' };
  }
  return { stored, body };
}

async function readDeployKey(secrets: SecretStore, secretId: string): Promise<DeployKeyDocument | undefined> {
  const text = await secrets.get(secretId);
  if (text === undefined) return undefined;
  try {
    const parsed = DeployKeyDocumentSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
