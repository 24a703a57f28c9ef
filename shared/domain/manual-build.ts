import * as z from 'zod/mini';
import type { ManualBuildEvent } from './events';

/**
 * The event key of a manual build's delivery record. Not a Bitbucket key: the admin API records
 * these, already decided, and the processor sends their trigger.
 */
export const MANUAL_BUILD_EVENT_KEY = 'hookgate:manual-build';

/** What a manual build's delivery record holds as its body: the event without its envelope. */
export type ManualBuild = Omit<ManualBuildEvent, 'kind' | 'provider' | 'eventKey'>;

/** The stored body of a manual build (shared/ingest/manual-build.ts writes and reads it). */
export const ManualBuildSchema = z.object({
  projectId: z.string(),
  buildId: z.string(),
  repository: z.object({
    id: z.string(),
    fullName: z.string(),
    cloneUrls: z.object({ ssh: z.optional(z.string()), https: z.optional(z.string()) }),
  }),
  ref: z.object({ type: z.enum(['branch', 'tag', 'pull-request']), name: z.string() }),
  commit: z.object({ sha: z.string(), abbreviated: z.boolean(), message: z.optional(z.string()) }),
  pullRequest: z.optional(
    z.object({
      id: z.number(),
      title: z.string(),
      sourceBranch: z.string(),
      destinationBranch: z.string(),
      fromFork: z.boolean(),
      sourceRepository: z.string(),
    }),
  ),
  fromFork: z.boolean(),
  actor: z.object({ name: z.string() }),
});
