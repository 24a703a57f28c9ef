import * as z from 'zod/mini';

// Read from any delivery before it is validated, so an odd value drops only itself: a field of
// the wrong type reads as absent, never as a failed payload.
function lenient<S extends z.ZodMiniType>(schema: S) {
  return z.catch(z.optional(schema), undefined);
}

const RepositoryIdsSchema = z.object({
  uuid: lenient(z.string()),
  id: lenient(z.number()),
});

/**
 * Where a payload names its repository, in the order looked at: `repository` (Cloud events and most
 * DC ones), a DC pull request's `toRef.repository`, DC `repo:modified`'s `new`.
 */
const PayloadRepositorySchema = z.object({
  repository: lenient(RepositoryIdsSchema),
  pullRequest: lenient(z.object({ toRef: lenient(z.object({ repository: lenient(RepositoryIdsSchema) })) })),
  new: lenient(RepositoryIdsSchema),
});

/**
 * The id of the repository a payload is about, the one normalisation gives it (Cloud uuid, DC
 * numeric id as a string), without validating the rest; undefined when it names none. Never throws.
 */
export function payloadRepositoryId(payload: unknown): string | undefined {
  const parsed = PayloadRepositorySchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const { repository, pullRequest, new: renamed } = parsed.data;
  for (const repo of [repository, pullRequest?.toRef?.repository, renamed]) {
    if (repo?.uuid) return repo.uuid;
    if (repo?.id !== undefined) return String(repo.id);
  }
  return undefined;
}
