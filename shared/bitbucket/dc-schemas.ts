import * as z from 'zod/mini';

// Bitbucket Data Center payloads: only the fields Hookgate reads; everything else passes.
// Shapes: https://confluence.atlassian.com/bitbucketserver/event-payload-938025882.html

const optionalText = z.nullish(z.string());

export const DcRepositorySchema = z.object({
  id: z.nullish(z.number()),
  slug: optionalText,
  name: optionalText,
  project: z.nullish(z.object({ key: optionalText })),
  links: z.nullish(
    z.object({ clone: z.nullish(z.array(z.object({ name: optionalText, href: optionalText }))) }),
  ),
});

export const DcActorSchema = z.object({
  name: optionalText,
  displayName: optionalText,
  slug: optionalText,
  id: z.nullish(z.number()),
});

const DcCommitSchema = z.object({ id: z.string(), message: optionalText });

const DcRefChangeSchema = z.object({
  ref: z.nullish(z.object({ id: optionalText, displayId: optionalText, type: optionalText })),
  refId: optionalText,
  fromHash: optionalText,
  toHash: optionalText,
  type: z.string(),
});

/** `repo:refs_changed` and `mirror:repo_synchronized`. */
export const DcRefsChangedSchema = z.object({
  repository: DcRepositorySchema,
  actor: z.nullish(DcActorSchema),
  changes: z.array(DcRefChangeSchema),
  // Newer DC versions list up to 5 recent commits and the new head.
  commits: z.nullish(z.array(DcCommitSchema)),
  toCommit: z.nullish(DcCommitSchema),
  refLimitExceeded: z.nullish(z.boolean()),
});

const DcPullRequestRefSchema = z.object({
  id: z.string(),
  displayId: optionalText,
  latestCommit: z.string(),
  type: optionalText,
  repository: DcRepositorySchema,
});

export const DcPullRequestSchema = z.object({
  actor: z.nullish(DcActorSchema),
  pullRequest: z.object({
    id: z.number(),
    title: optionalText,
    state: optionalText,
    draft: z.nullish(z.boolean()),
    fromRef: DcPullRequestRefSchema,
    toRef: DcPullRequestRefSchema,
  }),
});

export const DcRepoModifiedSchema = z.object({
  actor: z.nullish(DcActorSchema),
  old: z.nullish(DcRepositorySchema),
  new: DcRepositorySchema,
});

/** Any other DC event: the repository and actor are read when present. */
export const DcOtherEventSchema = z.object({
  repository: z.nullish(DcRepositorySchema),
  actor: z.nullish(DcActorSchema),
  pullRequest: z.nullish(z.object({ toRef: z.nullish(z.object({ repository: DcRepositorySchema })) })),
});

export type DcRepository = z.infer<typeof DcRepositorySchema>;
export type DcActor = z.infer<typeof DcActorSchema>;
export type DcRefsChanged = z.infer<typeof DcRefsChangedSchema>;
