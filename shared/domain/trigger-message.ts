import * as z from 'zod/mini';
import type { Decision } from './decision';
import type { Actor, Provider } from './events';

export const TRIGGER_SCHEMA = 'hookgate.trigger/v1';

export const TRIGGER_REASONS = [
  'default-branch',
  'tag-push',
  'always-build-branch',
  'pr-branch-push',
  'branch-push',
  'forked-pr',
  'pr-opened',
] as const;

/**
 * `hookgate.trigger/v1`: one pipeline to start, as put on `triggers.fifo`. This schema is the
 * source of truth; `schemas/trigger-v1.schema.json` is generated from it for consumers. Fields
 * may be added within v1, so objects allow unknown keys.
 */
export const TriggerMessageSchema = z.looseObject({
  schema: z.literal(TRIGGER_SCHEMA),
  triggerId: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  createdAt: z.iso.datetime(),
  integration: z.string(),
  provider: z.enum(['bitbucket-cloud', 'bitbucket-data-center']),
  project: z.looseObject({
    id: z.string(),
    repository: z.string(),
    repositoryId: z.string(),
    cloneUrl: z.string(),
    httpsUrl: z.optional(z.string()),
    defaultBranch: z.string(),
  }),
  reason: z.enum(TRIGGER_REASONS),
  ref: z.looseObject({ type: z.enum(['branch', 'tag', 'pull-request']), name: z.string() }),
  commit: z.looseObject({ sha: z.string(), abbreviated: z.boolean(), message: z.optional(z.string()) }),
  pullRequest: z.optional(
    z.looseObject({
      id: z.number(),
      title: z.string(),
      sourceBranch: z.string(),
      destinationBranch: z.string(),
      fromFork: z.boolean(),
      sourceRepository: z.string(),
    }),
  ),
  trust: z.enum(['trusted', 'untrusted']),
  secretsAllowed: z.boolean(),
  checkout: z.looseObject({ deployKeySecretId: z.string(), knownHosts: z.array(z.string()) }),
  delivery: z.looseObject({ id: z.string(), eventKey: z.string(), receivedAt: z.iso.datetime() }),
  actor: z.optional(
    z.looseObject({ name: z.string(), login: z.optional(z.string()), id: z.optional(z.string()) }),
  ),
});

export type TriggerMessage = z.infer<typeof TriggerMessageSchema>;
export type TriggerReason = (typeof TRIGGER_REASONS)[number];

export interface TriggerProject {
  id: string;
  fullName: string;
  repositoryId: string;
  cloneUrl: string;
  httpsUrl?: string;
  defaultBranch: string;
  deployKeySecretId: string;
  knownHosts: readonly string[];
}

export interface TriggerInput {
  decision: Decision;
  integration: string;
  provider: Provider;
  project: TriggerProject;
  delivery: { id: string; eventKey: string; receivedAt: string };
  actor?: Actor;
  createdAt: string;
}

/** Builds the v1 message for a `trigger` decision. Throws when the decision is not a trigger. */
export function buildTriggerMessage(input: TriggerInput): TriggerMessage {
  const { decision, project } = input;
  if (decision.action !== 'trigger' || !decision.triggerId || !decision.ref || !decision.commit) {
    throw new Error(`decision "${decision.reason}" is not a trigger`);
  }
  return {
    schema: TRIGGER_SCHEMA,
    triggerId: decision.triggerId,
    createdAt: input.createdAt,
    integration: input.integration,
    provider: input.provider,
    project: {
      id: project.id,
      repository: project.fullName,
      repositoryId: project.repositoryId,
      cloneUrl: project.cloneUrl,
      ...(project.httpsUrl ? { httpsUrl: project.httpsUrl } : {}),
      defaultBranch: project.defaultBranch,
    },
    reason: decision.reason as TriggerReason,
    ref: decision.ref,
    commit: decision.commit,
    ...(decision.pullRequest ? { pullRequest: { ...decision.pullRequest } } : {}),
    trust: decision.trust ?? 'trusted',
    secretsAllowed: decision.secretsAllowed ?? true,
    checkout: { deployKeySecretId: project.deployKeySecretId, knownHosts: [...project.knownHosts] },
    delivery: input.delivery,
    ...(input.actor ? { actor: { ...input.actor } } : {}),
  };
}
