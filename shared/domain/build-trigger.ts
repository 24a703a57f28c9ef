import type { Decision } from './decision';
import type { Actor, Provider } from './events';
import type { TriggerMessage } from './trigger-message';

// Building a trigger message needs no zod: the message's type is inferred from the schema in
// `./trigger-message`, so the compiler checks this builder against it, and the processor's bundle
// leaves the schema out. Tests parse every message the processor sends with the schema.

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
