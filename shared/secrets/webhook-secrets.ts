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
  /** How long a fetched document is trusted while signatures match. */
  ttlMs: number;
  /** Refetches on a mismatch start at least this far apart, per secret [1 000 ms]. */
  refetchIntervalMs?: number;
  now: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

interface Cached {
  doc: WebhookSecretDocument | undefined;
  fetchedAt: number;
}

interface Refetches {
  lastStartedAt: number;
  /** The next refetch, not yet started: every mismatch until it starts waits for it. */
  next?: Promise<Cached> | undefined;
}

/**
 * Webhook secrets by secret id, cached in memory. Callers verify with `secrets()`, and on a
 * mismatch ask `refreshed()`, which reads the document again with a fetch that starts after the
 * call: a rotation made a moment ago by the admin API is seen at once (DESIGN §11). Refetches of
 * one secret start at least `refetchIntervalMs` apart and every mismatch meanwhile shares the
 * next one, so bad signatures cost Secrets Manager at most one read per secret per interval.
 */
export class WebhookSecrets {
  private readonly cache = new Map<string, Cached>();
  private readonly refetches = new Map<string, Refetches>();

  constructor(private readonly options: WebhookSecretsOptions) {}

  /** Valid secrets for the id; an empty list when no document exists. Throws the store's errors. */
  async secrets(secretId: string): Promise<string[]> {
    const cached = this.cache.get(secretId);
    const now = this.options.now();
    if (cached && now.getTime() - cached.fetchedAt < this.options.ttlMs) return this.valid(cached, now);
    return this.valid(await this.fetch(secretId), now);
  }

  /**
   * Valid secrets from a fetch started no earlier than this call, waiting for the next refetch
   * slot when one started within the interval. Throws the store's errors.
   */
  async refreshed(secretId: string): Promise<string[]> {
    let state = this.refetches.get(secretId);
    if (!state) {
      state = { lastStartedAt: Number.NEGATIVE_INFINITY };
      this.refetches.set(secretId, state);
    }
    if (!state.next) state.next = this.scheduleRefetch(secretId, state);
    return this.valid(await state.next, this.options.now());
  }

  /** Forgets every fetched document (refetch pacing is kept): the next `secrets()` reads again. */
  clear(): void {
    this.cache.clear();
  }

  private async scheduleRefetch(secretId: string, state: Refetches): Promise<Cached> {
    const { refetchIntervalMs = 1_000, sleep = delay } = this.options;
    const waitMs = state.lastStartedAt + refetchIntervalMs - this.options.now().getTime();
    // Always yield first: `next` is assigned before this clears it.
    await (waitMs > 0 ? sleep(waitMs) : Promise.resolve());
    state.next = undefined;
    state.lastStartedAt = this.options.now().getTime();
    return this.fetch(secretId);
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
