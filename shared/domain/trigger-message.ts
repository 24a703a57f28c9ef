import * as z from 'zod/mini';
import { TRIGGER_REASONS } from './decision';

export { TRIGGER_REASONS, type TriggerReason } from './decision';

export const TRIGGER_SCHEMA = 'hookgate.trigger/v1';

/** The commit a trigger builds, as the message and a manual build's record carry it. */
export const COMMIT_FIELDS = { sha: z.string(), abbreviated: z.boolean(), message: z.optional(z.string()) };

/** The pull request a trigger builds, as the message and a manual build's record carry it. */
export const PULL_REQUEST_FIELDS = {
  id: z.number(),
  title: z.string(),
  sourceBranch: z.string(),
  destinationBranch: z.string(),
  fromFork: z.boolean(),
  sourceRepository: z.string(),
};

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
    /** The project's pipeline file, when one is set: the file in the repository to run. */
    pipelineFile: z.optional(z.string()),
  }),
  reason: z.enum(TRIGGER_REASONS),
  ref: z.looseObject({ type: z.enum(['branch', 'tag', 'pull-request']), name: z.string() }),
  commit: z.looseObject(COMMIT_FIELDS),
  pullRequest: z.optional(z.looseObject(PULL_REQUEST_FIELDS)),
  trust: z.enum(['trusted', 'untrusted']),
  secretsAllowed: z.boolean(),
  checkout: z.looseObject({ deployKeySecretId: z.string(), knownHosts: z.array(z.string()) }),
  delivery: z.looseObject({ id: z.string(), eventKey: z.string(), receivedAt: z.iso.datetime() }),
  actor: z.optional(
    z.looseObject({ name: z.string(), login: z.optional(z.string()), id: z.optional(z.string()) }),
  ),
});

export type TriggerMessage = z.infer<typeof TriggerMessageSchema>;
