import { type ErrorLogging, HookgateError } from '../../errors';

/** Where a failed Bitbucket call went and what Bitbucket said, without any credential. */
export interface BitbucketCallDetails {
  method: string;
  /** The URL path of the call (no origin, no query), e.g. `/2.0/repositories/acme/web/hooks`. */
  path: string;
  /** Bitbucket's HTTP status; absent when no answer came (network fault, timeout). */
  upstreamStatus?: number;
  /** Bitbucket's own error message (Cloud `error.message`, DC `errors[].message`, OAuth `error_description`). */
  bitbucketMessage?: string;
  /** How many requests were sent before giving up. */
  attempts?: number;
}

/**
 * A Bitbucket REST call that did not give what was asked. `status` is the status the admin API
 * answers with (HookgateError's meaning), never Bitbucket's: that one is `upstreamStatus`.
 * This base class means an answer Hookgate cannot use (unexpected status or shape): 502.
 */
export class BitbucketApiError extends HookgateError {
  override name = 'BitbucketApiError';
  override readonly status: number = 502;
  override readonly code: string = 'bitbucket-error';
  readonly method: string;
  readonly path: string;
  readonly upstreamStatus: number | undefined;
  readonly bitbucketMessage: string | undefined;
  readonly attempts: number;

  constructor(summary: string, details: BitbucketCallDetails, options?: ErrorOptions) {
    super(describe(summary, details), options);
    this.method = details.method;
    this.path = details.path;
    this.upstreamStatus = details.upstreamStatus;
    this.bitbucketMessage = details.bitbucketMessage;
    this.attempts = details.attempts ?? 1;
  }

  /** Shown whatever the status: what Bitbucket answered holds no credential and says what to fix. */
  override get expose(): boolean {
    return true;
  }

  /** A 5xx is Bitbucket's fault, not ours: a warning. */
  override get logging(): ErrorLogging | undefined {
    return this.status < 500 ? undefined : { level: 'warn', message: 'Bitbucket call failed' };
  }
}

/**
 * Bitbucket refused the request itself (400, 409, 422: a duplicate deploy key, an unknown event,
 * an unroutable hook URL). Its message says why, so the admin sees it: 422.
 */
export class BitbucketRequestRejectedError extends BitbucketApiError {
  override name = 'BitbucketRequestRejectedError';
  override readonly status: number = 422;
  override readonly code: string = 'bitbucket-rejected';
}

/**
 * Bitbucket refused the integration's credentials (401), or they lack a scope or permission
 * for this call (Cloud 403; DC answers 401 with an `AuthorisationException`). The admin's own
 * request was fine and IAM let it in, so this is neither 401 nor 403 towards the admin: 422,
 * "fix the integration's credentials".
 */
export class BitbucketAuthError extends BitbucketApiError {
  override name = 'BitbucketAuthError';
  override readonly status: number = 422;
  override readonly code: string = 'bitbucket-credentials-rejected';
  /** `unauthenticated`: the credentials are wrong, expired or revoked; `forbidden`: valid but not allowed. */
  readonly reason: 'unauthenticated' | 'forbidden';

  constructor(
    summary: string,
    details: BitbucketCallDetails & { reason: 'unauthenticated' | 'forbidden' },
    options?: ErrorOptions,
  ) {
    super(summary, details, options);
    this.reason = details.reason;
  }
}

/** The repository, hook, key, commit or file does not exist (or is invisible to these credentials): 404. */
export class BitbucketNotFoundError extends BitbucketApiError {
  override name = 'BitbucketNotFoundError';
  override readonly status: number = 404;
  override readonly code: string = 'bitbucket-not-found';
}

/**
 * Bitbucket kept failing (5xx, 429, network faults) until the retries ran out, or asked us to
 * wait longer than we may: 503, the caller may retry later.
 */
export class BitbucketUnavailableError extends BitbucketApiError {
  override name = 'BitbucketUnavailableError';
  override readonly status: number = 503;
  override readonly code: string = 'bitbucket-unavailable';
  /** Bitbucket's `Retry-After`, in seconds, when it sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    summary: string,
    details: BitbucketCallDetails & { retryAfterSeconds?: number },
    options?: ErrorOptions,
  ) {
    super(summary, details, options);
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  override get headers(): Readonly<Record<string, string>> {
    return this.retryAfterSeconds === undefined ? {} : { 'retry-after': String(this.retryAfterSeconds) };
  }
}

/**
 * The integration's Bitbucket host is one the network policy refuses (loopback, link-local, a
 * metadata service), directly or through DNS: not called. The integration must be fixed: 422.
 */
export class BitbucketAddressRefusedError extends BitbucketApiError {
  override name = 'BitbucketAddressRefusedError';
  override readonly status: number = 422;
  override readonly code: string = 'bitbucket-address-refused';
}

/** Bitbucket did not answer within the per-request timeout: 504. */
export class BitbucketTimeoutError extends BitbucketUnavailableError {
  override name = 'BitbucketTimeoutError';
  override readonly status: number = 504;
  override readonly code: string = 'bitbucket-timeout';
}

function describe(summary: string, details: BitbucketCallDetails): string {
  const answer = details.upstreamStatus ? ` (HTTP ${details.upstreamStatus})` : '';
  const said = details.bitbucketMessage ? `: ${details.bitbucketMessage}` : '';
  return `${summary}${answer} on ${details.method} ${details.path}${said}`;
}
