import { currentDeadline } from '../deadline';

/**
 * How long one AWS SDK call may take, its own retries included. Cut to what the invocation's
 * budget has left (DESIGN §11), so a hung call gives the work back before the function's deadline.
 */
export const SDK_CALL_LIMIT_MS = 5_000;
/** A connection not made in this long is given up, and the SDK's retry tries another. */
export const SDK_CONNECTION_TIMEOUT_MS = 1_000;
/** An attempt whose socket stays silent this long is given up, and the SDK's retry tries again. */
export const SDK_REQUEST_TIMEOUT_MS = 2_000;

/** Client settings for the functions' SDK clients: per-attempt timeouts, so no call hangs. */
export function sdkClientConfig() {
  return {
    requestHandler: {
      connectionTimeout: SDK_CONNECTION_TIMEOUT_MS,
      requestTimeout: SDK_REQUEST_TIMEOUT_MS,
    },
  };
}

/** Options for one `client.send`: aborted when the call limit or the current budget runs out. */
export function sdkCallOptions(limitMs = SDK_CALL_LIMIT_MS): { abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.timeout(Math.max(1, currentDeadline().attemptTimeoutMs(limitMs))) };
}
