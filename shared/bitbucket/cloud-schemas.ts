import * as z from 'zod/mini';

// Bitbucket Cloud payloads: only the fields Hookgate reads. Objects are non-strict so that
// everything else (which varies by version and anonymisation) passes through untouched.
// Shapes: https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/

const optionalText = z.nullish(z.string());

export const CloudRepositorySchema = z.object({
  uuid: optionalText,
  full_name: optionalText,
  name: optionalText,
});

export const CloudActorSchema = z.object({
  display_name: optionalText,
  nickname: optionalText,
  uuid: optionalText,
  account_id: optionalText,
});

const CloudRefSchema = z.object({
  type: z.string(),
  name: z.string(),
  target: z.nullish(z.object({ hash: z.string(), message: optionalText })),
});

const CloudPushChangeSchema = z.object({
  // Deletions have `new: null`; creations `old: null`.
  old: z.nullish(CloudRefSchema),
  new: z.nullish(CloudRefSchema),
  created: z.nullish(z.boolean()),
  closed: z.nullish(z.boolean()),
  forced: z.nullish(z.boolean()),
  truncated: z.nullish(z.boolean()),
});

export const CloudRepoPushSchema = z.object({
  repository: CloudRepositorySchema,
  actor: z.nullish(CloudActorSchema),
  push: z.object({ changes: z.array(CloudPushChangeSchema) }),
});

const CloudPullRequestSideSchema = z.object({
  branch: z.object({ name: z.string() }),
  commit: z.nullish(z.object({ hash: z.string() })),
  repository: z.nullish(CloudRepositorySchema),
});

export const CloudPullRequestSchema = z.object({
  repository: CloudRepositorySchema,
  actor: z.nullish(CloudActorSchema),
  pullrequest: z.object({
    id: z.number(),
    title: optionalText,
    state: optionalText,
    // Absent from most real payloads: a missing value means "not a draft".
    draft: z.nullish(z.boolean()),
    source: CloudPullRequestSideSchema,
    destination: CloudPullRequestSideSchema,
  }),
});

const ChangedText = z.nullish(z.object({ old: optionalText, new: optionalText }));

export const CloudRepoUpdatedSchema = z.object({
  repository: CloudRepositorySchema,
  actor: z.nullish(CloudActorSchema),
  changes: z.nullish(z.object({ full_name: ChangedText })),
});

/** Any other Cloud event: only the repository and actor are read, when present. */
export const CloudOtherEventSchema = z.object({
  repository: z.nullish(CloudRepositorySchema),
  actor: z.nullish(CloudActorSchema),
});

export type CloudRepository = z.infer<typeof CloudRepositorySchema>;
export type CloudActor = z.infer<typeof CloudActorSchema>;
export type CloudRepoPush = z.infer<typeof CloudRepoPushSchema>;
export type CloudPullRequestPayload = z.infer<typeof CloudPullRequestSchema>;
