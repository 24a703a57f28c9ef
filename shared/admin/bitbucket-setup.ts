import * as z from 'zod/mini';
import {
  type BitbucketClient,
  type DeployKey,
  type Hook,
  type HookSpec,
  publicKeyBody,
  type RepoRef,
} from '../bitbucket/rest/client';
import type { SecretStore } from '../secrets/secrets';

// What Hookgate puts on a repository, and how it recognises its own: the webhook by its URL
// (stale ones by their description), the deploy key by its label. Labels name the stage, so two
// stages connected to one repository never take each other's hooks or keys for stale ones.

/** The description (Cloud) or name (DC) of the webhooks Hookgate manages for an integration. */
export function hookDescription(stage: string, integration: string): string {
  return `Hookgate ${stage} ${integration}`;
}

/** The label of a project's deploy key. */
export function deployKeyLabel(stage: string, projectId: string): string {
  return `Hookgate ${stage} ${projectId}`;
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

export interface HookOutcome {
  hook: Hook;
  action: 'created' | 'updated';
  /** The kept hook as it was before the update. */
  before?: Hook;
  /** Duplicates with our URL, and stale hooks (our description, another URL), now deleted. */
  deleted: Hook[];
}

/**
 * Leaves exactly one hook with our URL, as `spec` says (secret included): the known one or the
 * first is updated, further ones deleted, and one is created when there is none. Never
 * duplicates a hook, so connecting twice is harmless. Throws the REST client's errors.
 */
export async function ensureHook(
  client: BitbucketClient,
  ref: RepoRef,
  spec: HookSpec,
  knownId?: string,
): Promise<HookOutcome> {
  const hooks = await client.listHooks(ref);
  const ours = hooks.filter((hook) => hook.url === spec.url);
  const stale = hooks.filter((hook) => hook.url !== spec.url && hook.description === spec.description);
  const keep = ours.find((hook) => hook.id === knownId) ?? ours[0];
  const deleted = [...ours.filter((hook) => hook !== keep), ...stale];
  for (const hook of deleted) await client.deleteHook(ref, hook.id);
  if (keep)
    return { hook: await client.updateHook(ref, keep.id, spec), action: 'updated', before: keep, deleted };
  return { hook: await client.createHook(ref, spec), action: 'created', deleted };
}

export interface DeployKeyOutcome {
  key: DeployKey;
  action: 'added' | 'present';
  /** Other keys with our label (an earlier key of this project), now deleted. */
  deleted: DeployKey[];
}

/**
 * Registers `publicKey` as a read-only deploy key labelled `label` unless it is there already,
 * and deletes the other keys carrying our label. Throws the REST client's errors.
 */
export async function ensureDeployKey(
  client: BitbucketClient,
  ref: RepoRef,
  publicKey: string,
  label: string,
): Promise<DeployKeyOutcome> {
  const body = publicKeyBody(publicKey);
  const keys = await client.listDeployKeys(ref);
  let present = keys.find((key) => key.key === body && key.readOnly);
  // The same key with write access is not what we registered: replace it with a read-only one.
  const deleted = keys.filter((key) => key !== present && (key.label === label || key.key === body));
  for (const key of deleted) await client.deleteDeployKey(ref, key.id);
  if (present) return { key: present, action: 'present', deleted };
  present = await client.addDeployKey(ref, { key: publicKey, label });
  return { key: present, action: 'added', deleted };
}

/** The deploy key document runners read (examples/consumer reads exactly this shape). */
export const DeployKeyDocumentSchema = z.object({
  privateKey: z.string().check(z.minLength(1)),
  publicKey: z.string().check(z.minLength(1)),
  fingerprint: z.string(),
});

export type DeployKeyDocument = z.infer<typeof DeployKeyDocumentSchema>;

/** The stored deploy key, or undefined when it is missing or unreadable. */
export async function readDeployKey(
  secrets: SecretStore,
  secretId: string,
): Promise<DeployKeyDocument | undefined> {
  const text = await secrets.get(secretId);
  if (text === undefined) return undefined;
  try {
    const parsed = DeployKeyDocumentSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
