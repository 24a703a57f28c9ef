import type { TriggerDecision } from './decision';
import type { Actor, Provider } from './events';
import type { TriggerMessage } from './trigger-message';

// Building a trigger message needs no zod: the message's type is inferred from the schema in
// `./trigger-message` (imported as a type only), so the compiler checks this builder against it —
// the schema name below included — and the processor's bundle leaves the schema out. Tests parse
// every message the processor sends with the schema.

export interface TriggerProject {
  id: string;
  fullName: string;
  repositoryId: string;
  cloneUrl: string;
  httpsUrl?: string;
  defaultBranch: string;
  pipelineFile?: string;
  deployKeySecretId: string;
  knownHosts: readonly string[];
}

export interface TriggerInput {
  decision: TriggerDecision;
  integration: string;
  provider: Provider;
  project: TriggerProject;
  delivery: { id: string; eventKey: string; receivedAt: string };
  actor?: Actor;
  createdAt: string;
}

/** Builds the v1 message for a trigger decision. Throws for any other (a malformed stored decision). */
export function buildTriggerMessage(input: TriggerInput): TriggerMessage {
  const { decision, project } = input;
  if (decision.action !== 'trigger') throw new Error(`decision "${decision.reason}" is not a trigger`);
  return {
    schema: 'hookgate.trigger/v1',
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
      ...(project.pipelineFile ? { pipelineFile: project.pipelineFile } : {}),
    },
    reason: decision.reason,
    ref: decision.ref,
    commit: decision.commit,
    ...(decision.pullRequest ? { pullRequest: { ...decision.pullRequest } } : {}),
    trust: decision.trust,
    secretsAllowed: decision.secretsAllowed,
    checkout: { deployKeySecretId: project.deployKeySecretId, knownHosts: [...project.knownHosts] },
    delivery: input.delivery,
    ...(input.actor ? { actor: { ...input.actor } } : {}),
  };
}
