import * as z from 'zod/mini';
import { PROVIDERS, type Provider } from '../domain/events';

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

const CLOUD_UUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;
const DATA_CENTER_ID = /^0*([1-9]\d{0,9})$/;
/** DC repository ids are Java ints. */
const MAX_DATA_CENTER_ID = 2_147_483_647;

/** What a repository id looks like on each platform, for messages. */
export const REPOSITORY_ID_SHAPES: Record<Provider, string> = {
  'bitbucket-cloud':
    'a Bitbucket Cloud repository uuid in braces, such as {3deb8c29-778a-450c-8f69-3e50a18079df} (repository.uuid in any of its webhook payloads)',
  'bitbucket-data-center':
    'a Bitbucket Data Center repository id, a positive whole number such as 42 (repository.id in its webhook payloads)',
};

/**
 * A repository id as deliveries carry it, so a project connected with it is found by them: Cloud
 * `{uuid}` in lower case (braces added when left out), DC a positive whole number without leading
 * zeros. Undefined when `raw` is not an id of `provider`. Never throws.
 */
export function normaliseRepositoryId(provider: Provider, raw: string): string | undefined {
  const text = raw.trim();
  if (provider === 'bitbucket-cloud') {
    const uuid = CLOUD_UUID.exec(text)?.[1];
    // Both braces or none: `{abc…` is a typo, not a shape.
    if (!uuid || text.startsWith('{') !== text.endsWith('}')) return undefined;
    return `{${uuid.toLowerCase()}}`;
  }
  const digits = DATA_CENTER_ID.exec(text)?.[1];
  return digits && Number(digits) <= MAX_DATA_CENTER_ID ? digits : undefined;
}

/** The platform whose id `raw` is shaped as; undefined when neither's. */
export function providerOfRepositoryId(raw: string): Provider | undefined {
  return PROVIDERS.find((provider) => normaliseRepositoryId(provider, raw) !== undefined);
}
