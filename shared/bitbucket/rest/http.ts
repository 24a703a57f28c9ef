import * as z from 'zod/mini';
import { currentDeadline } from '../../deadline';
import type { Log } from '../../observability';
import { describeIssues, safeParse } from '../../validation';
import { checkResolvedHost, type HostLookup, type NetworkPolicy, systemLookup } from './address-policy';
import {
  BitbucketApiError,
  BitbucketAuthError,
  type BitbucketCallDetails,
  BitbucketNotFoundError,
  BitbucketRequestRejectedError,
  BitbucketTimeoutError,
  BitbucketUnavailableError,
} from './errors';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Supplies the `Authorization` header for each request. */
export interface Authorizer {
  header(): Promise<string>;
  /**
   * Forgets a cached token after Bitbucket answered 401. Returns true when a fresh token might
   * succeed (so the request is sent once more), false when the credentials are static.
   */
  invalidate?(): boolean;
}

export interface HttpClientOptions {
  /** Cloud `https://api.bitbucket.org/2.0`; DC `https://host/rest`. No trailing slash needed. */
  baseUrl: string;
  authorizer?: Authorizer;
  /** Per-request timeout in milliseconds [10 000]. */
  timeoutMs?: number;
  /** Requests sent at most, first one included [3]. */
  maxAttempts?: number;
  /** First backoff step in milliseconds, doubled each retry and jittered [250]. */
  baseDelayMs?: number;
  /** Longest wait between attempts [10 000]; a `Retry-After` (429, 503) longer than this fails at once. */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for jitter. */
  random?: () => number;
  now?: () => number;
  fetch?: typeof fetch;
  log?: Log;
  /** Which hosts may be called, checked on the resolved addresses before each request ['aws']. */
  network?: NetworkPolicy;
  /** Resolves a host name for that check [dns.lookup]. */
  lookup?: HostLookup;
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestSpec {
  method?: HttpMethod;
  /** A path under the base URL, or an absolute URL on the same origin (pagination links). */
  path: string;
  query?: Record<string, QueryValue>;
  json?: unknown;
  form?: Record<string, string>;
  /** Replaces the authorizer's header (the OAuth token request authenticates as the client). */
  authorization?: string;
  /** Retry this POST on 5xx and network faults too (only for requests that are safe to repeat). */
  repeatable?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, text for other content types, undefined for an empty body. */
  body: unknown;
}

const DEFAULTS = { timeoutMs: 10_000, maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 10_000 };
const MAX_MESSAGE_LENGTH = 500;
const MAX_PAGES = 100;
/** Same-origin redirects followed per request; one to another origin is never followed. */
const MAX_REDIRECTS = 5;
/** An attempt with less time than this left in the invocation's budget is not started. */
const MIN_ATTEMPT_MS = 100;

/** The request core the clients talk through (see `createHttpClient`). */
export interface HttpClient {
  /**
   * Sends one request, retrying where that is safe, and returns a 2xx answer.
   * Throws BitbucketAuthError, BitbucketNotFoundError, BitbucketRequestRejectedError,
   * BitbucketUnavailableError, BitbucketTimeoutError or BitbucketApiError otherwise.
   */
  send(spec: RequestSpec): Promise<HttpResponse>;
  /** Sends a request and validates the JSON answer; a wrong shape is a BitbucketApiError. */
  json<S extends z.ZodMiniType>(spec: RequestSpec, schema: S): Promise<z.output<S>>;
  /** Every item of a Cloud collection, following `next` links (same origin only). */
  cloudPages<S extends z.ZodMiniType>(spec: RequestSpec, item: S): Promise<z.output<S>[]>;
  /** Every item of a DC collection, paging with `start`/`limit` until `isLastPage`. */
  dcPages<S extends z.ZodMiniType>(spec: RequestSpec, item: S, limit?: number): Promise<z.output<S>[]>;
}

/**
 * A small request core on Node's fetch: JSON in and out, a timeout on every request cut to the
 * invocation's `currentDeadline()`, retries with jittered exponential backoff for 429 (honouring
 * `Retry-After`), 5xx and network faults while the deadline leaves room, never for other 4xx;
 * hosts checked against the network policy after DNS, redirects followed on the same origin
 * only, and typed errors that carry Bitbucket's JSON error message but never a credential or
 * another body.
 */
export function createHttpClient({ baseUrl, ...given }: HttpClientOptions): HttpClient {
  const base = new URL(baseUrl.replace(/\/+$/, ''));
  const {
    authorizer,
    log,
    timeoutMs,
    maxAttempts,
    baseDelayMs,
    maxDelayMs,
    sleep,
    random,
    now,
    fetch,
    network,
    lookup,
  } = {
    ...DEFAULTS,
    network: 'aws' as NetworkPolicy,
    lookup: systemLookup,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    now: Date.now,
    fetch: (input: string | URL | Request, request?: RequestInit) => globalThis.fetch(input, request),
    ...stripUndefined(given),
  };

  function resolve(path: string, query: Record<string, QueryValue> = {}): URL {
    let url: URL;
    if (/^https?:\/\//i.test(path)) {
      url = new URL(path);
      // Pagination links come from the answer: never send the credentials anywhere else.
      if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
        throw new BitbucketApiError('Bitbucket sent a link outside its API', {
          method: 'GET',
          path: url.pathname,
        });
      }
    } else {
      const root = base.href.replace(/\/+$/, '');
      url = new URL(path ? `${root}${path.startsWith('/') ? '' : '/'}${path}` : root);
    }
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  async function init(method: HttpMethod, spec: RequestSpec, attemptMs: number): Promise<RequestInit> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const authorization = spec.authorization ?? (await authorizer?.header());
    if (authorization) headers.authorization = authorization;
    let body: string | undefined;
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    } else if (spec.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(spec.form).toString();
    }
    // Redirects are followed by `fetchSameOrigin`, never by fetch itself.
    return { method, headers, body, signal: AbortSignal.timeout(attemptMs), redirect: 'manual' };
  }

  function backoff(attempt: number): number {
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    // Equal jitter: never less than half the step, so retries always spread out.
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  async function pause(method: string, path: string, attempt: number, delayMs: number, why: string) {
    log?.warn('retrying Bitbucket request', { method, path, attempt, delayMs, why });
    await sleep(delayMs);
  }

  function tooManyPages(spec: RequestSpec): BitbucketApiError {
    return new BitbucketApiError(`more than ${MAX_PAGES} pages`, {
      method: spec.method ?? 'GET',
      path: resolve(spec.path).pathname,
    });
  }

  /** fetch, following a redirect only when it stays on the request's origin. */
  async function fetchSameOrigin(url: URL, request: RequestInit, method: string): Promise<Response> {
    let target = url;
    let current = request;
    for (let redirects = 0; ; redirects += 1) {
      const response = await fetch(target, current);
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      await response.body?.cancel();
      const next = new URL(location, target);
      if (next.origin !== base.origin || redirects === MAX_REDIRECTS) {
        throw new BitbucketApiError(
          next.origin !== base.origin
            ? 'Bitbucket redirected to another origin; not followed'
            : `more than ${MAX_REDIRECTS} redirects`,
          { method, path: url.pathname, upstreamStatus: response.status },
        );
      }
      // As fetch does: 303, and 301/302 after a POST, continue as a GET without the body.
      if (response.status === 303 || (current.method === 'POST' && response.status < 303)) {
        const { body: _body, ...rest } = current;
        const headers = { ...(rest.headers as Record<string, string>) };
        delete headers['content-type'];
        current = { ...rest, method: 'GET', headers };
      }
      target = next;
    }
  }

  async function send(spec: RequestSpec): Promise<HttpResponse> {
    const method = spec.method ?? 'GET';
    const url = resolve(spec.path, spec.query);
    const path = url.pathname;
    const deadline = currentDeadline();
    await checkResolvedHost(url.hostname, network, lookup, { method, path });
    // A POST that failed half-way may have created a hook or a key: repeat it only when
    // Bitbucket said it did nothing (429, 503) unless the caller knows it is harmless.
    const repeatable = method !== 'POST' || spec.repeatable === true;
    let refreshedToken = false;
    let attempt = 0;

    while (true) {
      attempt += 1;
      const details = <T extends Partial<BitbucketCallDetails>>(extra?: T): BitbucketCallDetails & T => ({
        method,
        path,
        attempts: attempt,
        ...(extra as T),
      });
      const attemptMs = deadline.attemptTimeoutMs(timeoutMs);
      if (attemptMs < Math.min(MIN_ATTEMPT_MS, timeoutMs)) {
        throw new BitbucketTimeoutError('no time left in this invocation for a Bitbucket call', details());
      }
      // Outside the try: a refused OAuth consumer is not a network fault to retry.
      const request = await init(method, spec, attemptMs);
      let response: Response;
      let body: unknown;
      try {
        response = await fetchSameOrigin(url, request, method);
        body = await readBody(response);
      } catch (error) {
        if (error instanceof BitbucketApiError) throw error;
        if (isTimeout(error)) {
          throw new BitbucketTimeoutError(`Bitbucket did not answer within ${attemptMs} ms`, details(), {
            cause: error,
          });
        }
        const delayMs = backoff(attempt);
        if (repeatable && attempt < maxAttempts && !deadline.shorterThan(delayMs + MIN_ATTEMPT_MS)) {
          await pause(method, path, attempt, delayMs, 'network fault');
          continue;
        }
        throw new BitbucketUnavailableError('Bitbucket could not be reached', details(), { cause: error });
      }

      if (response.ok) return { status: response.status, headers: response.headers, body };

      const status = response.status;
      if (status === 401 && !refreshedToken && !spec.authorization && authorizer?.invalidate?.()) {
        refreshedToken = true;
        attempt -= 1;
        continue;
      }
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now());
      const retryAfterSeconds = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
      const { message: bitbucketMessage, exceptionNames } = errorAnswer(body);
      const failure = details({ upstreamStatus: status, retryAfterSeconds, bitbucketMessage });
      const retryable = status === 429 || status === 503 || (status >= 500 && repeatable);
      if (retryable && attempt < maxAttempts) {
        const delayMs = retryAfterMs ?? backoff(attempt);
        if (delayMs > maxDelayMs || deadline.shorterThan(delayMs + MIN_ATTEMPT_MS)) {
          throw new BitbucketUnavailableError(
            retryAfterMs !== undefined
              ? `Bitbucket asked to wait ${retryAfterSeconds} s, longer than allowed`
              : 'Bitbucket failed and no time is left to retry',
            failure,
          );
        }
        await pause(method, path, attempt, delayMs, `HTTP ${status}`);
        continue;
      }
      throw classify(status, exceptionNames, failure);
    }
  }

  async function json<S extends z.ZodMiniType>(spec: RequestSpec, schema: S): Promise<z.output<S>> {
    const response = await send(spec);
    return parseAnswer(schema, response.body, spec.method ?? 'GET', resolve(spec.path).pathname);
  }

  return {
    send,
    json,

    async cloudPages(spec, item) {
      const page = z.object({ values: z.array(item), next: z.nullish(z.string()) });
      const items: z.output<typeof item>[] = [];
      let next: RequestSpec | undefined = spec;
      for (let pages = 0; next; pages += 1) {
        if (pages === MAX_PAGES) throw tooManyPages(spec);
        const answer: z.output<typeof page> = await json(next, page);
        items.push(...answer.values);
        next = answer.next ? { method: 'GET', path: answer.next } : undefined;
      }
      return items;
    },

    async dcPages(spec, item, limit = 100) {
      const page = z.object({
        values: z.array(item),
        isLastPage: z.boolean(),
        nextPageStart: z.nullish(z.number()),
      });
      const items: z.output<typeof item>[] = [];
      let start = 0;
      for (let pages = 0; ; pages += 1) {
        if (pages === MAX_PAGES) throw tooManyPages(spec);
        const answer: z.output<typeof page> = await json(
          { ...spec, query: { ...spec.query, start, limit } },
          page,
        );
        items.push(...answer.values);
        if (answer.isLastPage || answer.nextPageStart == null) return items;
        start = answer.nextPageStart;
      }
    },
  };
}

/** Validates an answer against the fields Hookgate reads. */
export function parseAnswer<S extends z.ZodMiniType>(
  schema: S,
  body: unknown,
  method: string,
  path: string,
): z.output<S> {
  const result = safeParse(schema, body);
  if (result.success) return result.data;
  throw new BitbucketApiError('unexpected answer from Bitbucket', {
    method,
    path,
    bitbucketMessage: describeIssues(result.error.issues, { limit: 3 }),
  });
}

/**
 * Milliseconds to wait from a `Retry-After` value (delay-seconds or an HTTP-date), or undefined
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const BitbucketErrorBodySchema = z.object({
  // Cloud: {type: 'error', error: {message, detail?}}
  error: z.optional(
    z.union([z.string(), z.object({ message: z.optional(z.string()), detail: z.optional(z.unknown()) })]),
  ),
  // OAuth token endpoint: {error: 'invalid_client', error_description}
  error_description: z.optional(z.string()),
  // Data Center: {errors: [{message, context?, exceptionName?}]}
  errors: z.optional(
    z.array(
      z.object({
        message: z.optional(z.string()),
        context: z.nullish(z.string()),
        exceptionName: z.nullish(z.string()),
      }),
    ),
  ),
});

/**
 * What Bitbucket said in a JSON error answer (shortened), and DC's exception names. Any other
 * body (a proxy's page, whatever a wrong host answers) is never quoted.
 */
function errorAnswer(body: unknown): { message?: string; exceptionNames: string[] } {
  const parsed = BitbucketErrorBodySchema.safeParse(body);
  let message: string | undefined;
  const exceptionNames: string[] = [];
  if (parsed.success) {
    const { error, error_description, errors } = parsed.data;
    if (errors?.length) {
      message = errors
        .map((e) => [e.context, e.message].filter(Boolean).join(': '))
        .filter(Boolean)
        .join('; ');
      for (const e of errors) if (e.exceptionName) exceptionNames.push(e.exceptionName);
    } else if (typeof error === 'object') {
      const detail = typeof error.detail === 'string' ? error.detail : undefined;
      message = [error.message, detail].filter(Boolean).join(': ');
    } else if (typeof error === 'string') {
      message = error_description ? `${error}: ${error_description}` : error;
    }
  }
  return {
    message:
      message && message.length > MAX_MESSAGE_LENGTH
        ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…`
        : message || undefined,
    exceptionNames,
  };
}

function classify(
  status: number,
  exceptionNames: string[],
  details: BitbucketCallDetails & { retryAfterSeconds?: number | undefined },
): BitbucketApiError {
  if (status === 401 || status === 403) {
    // DC answers 401 both for bad credentials and for a missing permission; only the
    // exception name tells them apart.
    const forbidden = status === 403 || exceptionNames.some((n) => n.endsWith('AuthorisationException'));
    return new BitbucketAuthError(
      forbidden
        ? 'Bitbucket refused the call for lack of permission or scope'
        : 'Bitbucket rejected the credentials',
      { ...details, reason: forbidden ? 'forbidden' : 'unauthenticated' },
    );
  }
  if (status === 404) return new BitbucketNotFoundError('not found on Bitbucket', details);
  if (status === 429) return new BitbucketUnavailableError('Bitbucket rate limit still exceeded', details);
  if (status >= 500) return new BitbucketUnavailableError('Bitbucket failed', details);
  if (status === 400 || status === 409 || status === 422) {
    return new BitbucketRequestRejectedError('Bitbucket refused the request', details);
  }
  return new BitbucketApiError('unexpected status from Bitbucket', details);
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || isTimeout(error.cause));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
