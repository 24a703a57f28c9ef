import * as z from 'zod/mini';
import { normaliseDelivery } from './bitbucket/normalise';
import type { Decision } from './domain/decision';
import type { HookEvent, Provider } from './domain/events';
import { decide, type PullRequestSnapshot } from './domain/rules';
import { ProjectSettingsSchema } from './domain/settings';
import { validate } from './validation';

export const PullRequestSnapshotSchema = z.strictObject({
  openPullRequests: z._default(
    z.array(
      z.strictObject({
        id: z.number(),
        sourceBranch: z.string(),
        sourceCommit: z.optional(z.string()),
        fromFork: z.optional(z.boolean()),
        draft: z.optional(z.boolean()),
      }),
    ),
    [],
  ),
});

export interface EvaluateInput {
  eventKey: string | undefined;
  payload: unknown;
  provider?: Provider;
  defaultBranch: string;
  settings?: unknown;
  state?: unknown;
  projectId?: string;
}

export interface Evaluation {
  event: HookEvent;
  decisions: Decision[];
}

/**
 * Runs one payload through normalisation and the rules with no side effects: the engine behind
 * `hookgate evaluate` and `POST /admin/evaluate`. Throws ValidationError for bad settings or
 * state, and the normaliser's errors for a payload that is not a Bitbucket delivery.
 */
export function evaluateDelivery(input: EvaluateInput): Evaluation {
  const settings = validate(ProjectSettingsSchema, input.settings ?? {}, 'settings');
  const state: PullRequestSnapshot = validate(PullRequestSnapshotSchema, input.state ?? {}, 'state');
  const event = normaliseDelivery({
    eventKey: input.eventKey,
    body: input.payload,
    provider: input.provider,
  });
  const decisions = decide(event, {
    defaultBranch: input.defaultBranch,
    settings,
    state,
    ...(input.projectId ? { projectId: input.projectId } : {}),
  });
  return { event, decisions };
}
