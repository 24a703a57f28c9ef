import * as z from 'zod/mini';
import { DependencyError } from '../errors';
import type { SecretReader } from './secrets';

/**
 * The webhook secret document kept in the secret store: the current secret and, for a grace
 * period after a rotation, the previous one.
 */
export const WebhookSecretDocumentSchema = z.object({
  current: z.string().check(z.minLength(1)),
  previous: z.optional(z.string()),
  previousValidUntil: z.optional(z.iso.datetime()),
});

export type WebhookSecretDocument = z.infer<typeof WebhookSecretDocumentSchema>;

/** The secrets a signature may match at `now`: the current one, and the previous one until it expires. */
export function validSecrets(doc: WebhookSecretDocument, now: Date): string[] {
  const previousValid =
    doc.previous && doc.previousValidUntil && Date.parse(doc.previousValidUntil) > now.getTime();
  return previousValid && doc.previous ? [doc.current, doc.previous] : [doc.current];
}

export interface WebhookSecretsOptions {
  store: SecretReader;
  /** How long a fetched document is trusted. */
  ttlMs: number;
  /** A document older than this is refetched once when no secret matches (a rotation elsewhere). */
  refreshAfterMs: number;
  now: () => Date;
}

interface Cached {
  doc: WebhookSecretDocument | undefined;
  fetchedAt: number;
}

/**
 * Webhook secrets by secret id, cached in memory. Callers verify with `secrets()`, and on a
 * mismatch ask `refreshed()`, which refetches only when the cached copy is not brand new, so a
 * rotation made by another instance is picked up without letting bad signatures hammer the store.
 */
export class WebhookSecrets {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly options: WebhookSecretsOptions) {}

  /** Valid secrets for the id; an empty list when no document exists. Throws the store's errors. */
  async secrets(secretId: string): Promise<string[]> {
    const cached = this.cache.get(secretId);
    const now = this.options.now();
    if (cached && now.getTime() - cached.fetchedAt < this.options.ttlMs) return this.valid(cached, now);
    return this.valid(await this.fetch(secretId), now);
  }

  /** Refetched valid secrets, or undefined when the cached copy is fresh enough to trust. */
  async refreshed(secretId: string): Promise<string[] | undefined> {
    const cached = this.cache.get(secretId);
    const now = this.options.now();
    if (cached && now.getTime() - cached.fetchedAt < this.options.refreshAfterMs) return undefined;
    return this.valid(await this.fetch(secretId), now);
  }

  private valid(cached: Cached, now: Date): string[] {
    return cached.doc ? validSecrets(cached.doc, now) : [];
  }

  private async fetch(secretId: string): Promise<Cached> {
    const text = await this.options.store.get(secretId);
    const entry: Cached = {
      doc: text === undefined ? undefined : parseWebhookSecretDocument(text),
      fetchedAt: this.options.now().getTime(),
    };
    this.cache.set(secretId, entry);
    return entry;
  }
}

/**
 * Parses a stored document. A malformed one is an operator's mistake, not the caller's: it throws
 * DependencyError (a retryable 503 that names no secret), so Bitbucket retries once it is fixed.
 */
export function parseWebhookSecretDocument(text: string): WebhookSecretDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DependencyError('webhook secret document is not JSON');
  }
  const result = WebhookSecretDocumentSchema.safeParse(json);
  if (!result.success) throw new DependencyError('webhook secret document is malformed');
  return result.data;
}
