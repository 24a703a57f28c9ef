import { HookgateError } from '../errors';

/** An admin request without valid credentials (local mode's bearer token, or no IAM principal). */
export class UnauthorizedError extends HookgateError {
  override name = 'UnauthorizedError';
  override readonly status = 401;
  override readonly code = 'unauthorized';
}

/** The request collides with what exists: a taken name or default, a connected repository, a busy lease. */
export class ConflictError extends HookgateError {
  override name = 'ConflictError';
  override readonly status = 409;
  constructor(
    message: string,
    override readonly code: string = 'conflict',
  ) {
    super(message);
  }
}

/** `If-Match` named another version than the stored one. */
export class PreconditionFailedError extends HookgateError {
  override name = 'PreconditionFailedError';
  override readonly status = 412;
  override readonly code = 'version-mismatch';
}

/** A known admin path asked with a method it does not take. */
export class MethodNotAllowedError extends HookgateError {
  override name = 'MethodNotAllowedError';
  override readonly status = 405;
  override readonly code = 'method-not-allowed';
}
