/**
 * Typed errors. Each knows the HTTP status it maps to; only messages of errors below 500 are
 * ever shown to callers.
 */
export class HookgateError extends Error {
  readonly status: number = 500;
  readonly code: string = 'internal';
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
