/**
 * Typed errors. Each carries how an HTTP answer treats it: its status, whether the caller sees its
 * code and message, the headers it adds and how it is logged. By default only errors below 500
 * are shown, and only errors from 500 up are logged.
 */
export class HookgateError extends Error {
  readonly status: number = 500;
  readonly code: string = 'internal';
  /**
   * Whether the same work may succeed if tried again: true for dependency faults (throttling, 5xx,
   * network, timeouts), false for input no retry can fix. The processor acknowledges the latter.
   */
  readonly retryable: boolean = false;

  // Getters, not fields: subclasses set `status` as a field, which the base constructor cannot see.

  /** Whether the caller is told `code` and `message`; a hidden error gets a generic answer. */
  get expose(): boolean {
    return this.status < 500;
  }

  /** Headers the HTTP answer carries when it shows this error. */
  get headers(): Readonly<Record<string, string>> {
    return {};
  }

  /** How the HTTP answer logs this error; undefined when it is not logged (the caller's mistake). */
  get logging(): ErrorLogging | undefined {
    if (this.status < 500) return undefined;
    return { level: 'error', message: this.status === 503 ? 'dependency unavailable' : 'unexpected error' };
  }
}

/** The level and message of the log line an HTTP answer writes for an error. */
export interface ErrorLogging {
  level: 'warn' | 'error';
  message: string;
}

/** Whether an error may go away on a retry; errors Hookgate did not type are assumed to. */
export function isRetryable(error: unknown): boolean {
  return error instanceof HookgateError ? error.retryable : true;
}

/** A payload that is valid JSON but not the shape its event key promises. */
export class InvalidPayloadError extends HookgateError {
  override name = 'InvalidPayloadError';
  override readonly status = 400;
  override readonly code = 'invalid-payload';
}

/** The event key belongs to neither platform and the body does not say which one sent it. */
export class UnknownProviderError extends HookgateError {
  override name = 'UnknownProviderError';
  override readonly status = 400;
  override readonly code = 'unknown-provider';
}

/** Input that fails validation at a trust boundary (settings, state, admin requests). */
export class ValidationError extends HookgateError {
  override name = 'ValidationError';
  override readonly status = 400;
  override readonly code = 'invalid-request';
}

/** A delivery is not in the state an operation needs (decisions already made, say). */
export class DeliveryStateError extends HookgateError {
  override name = 'DeliveryStateError';
  override readonly status = 409;
  override readonly code = 'delivery-state';
  // The next attempt reads the state that changed and acts on it.
  override readonly retryable = true;
}

/** A storage, queue or secrets fault. Bitbucket retries on 5xx, so the delivery stays retryable. */
export class DependencyError extends HookgateError {
  override name = 'DependencyError';
  override readonly status = 503;
  override readonly code = 'unavailable';
  override readonly retryable = true;
}

/**
 * A value DynamoDB refuses and always will: an item over 400 KB, a number out of its range, a
 * partition key over 2,048 bytes or a sort key over 1,024. Checked before a write where we can;
 * the store's ValidationException becomes this too.
 */
export class UnstorableValueError extends HookgateError {
  override name = 'UnstorableValueError';
  override readonly status = 400;
  override readonly code = 'unstorable';
}

/**
 * The invocation's budget is too short to start the next step: the work is handed back to its
 * queue unfinished, which is no fault of the work (the processor does not count it as a failure).
 */
export class OutOfTimeError extends HookgateError {
  override name = 'OutOfTimeError';
  override readonly status = 503;
  override readonly code = 'unavailable';
  override readonly retryable = true;
}

export class PayloadTooLargeError extends HookgateError {
  override name = 'PayloadTooLargeError';
  override readonly status = 413;
  override readonly code = 'payload-too-large';
}

export class NotFoundError extends HookgateError {
  override name = 'NotFoundError';
  override readonly status = 404;
  override readonly code = 'not-found';
}

/** A deleted integration: its URL answers 410 so admins see why deliveries stopped. */
export class GoneError extends HookgateError {
  override name = 'GoneError';
  override readonly status = 410;
  override readonly code = 'gone';
}

/** Missing or wrong `X-Hub-Signature`. The message never says which secret was tried. */
export class SignatureError extends HookgateError {
  override name = 'SignatureError';
  override readonly status = 401;
  override readonly code = 'invalid-signature';
}
