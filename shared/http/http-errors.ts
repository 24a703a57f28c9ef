import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { BitbucketApiError, BitbucketUnavailableError } from '../bitbucket/rest/errors';
import { HookgateError } from '../errors';
import type { Log } from '../observability';

export type JsonResponse = { statusCode: number; headers: Record<string, string>; body: string };

/** A JSON response with the headers every Hookgate answer carries. */
export function jsonResponse(statusCode: number, body: unknown): JsonResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/**
 * Maps a thrown error to `{error: {code, message}}` once, for every HTTP handler. Messages of
 * errors below 500 reach the caller. Bitbucket REST failures keep their 502/503/504 and say what
 * Bitbucket answered (their messages never hold a credential), with `Retry-After` when Bitbucket
 * gave one. Our own 503 says only that the caller may retry; anything else is a 500 with a
 * generic message, and is logged.
 */
export function toErrorResponse(error: unknown, log: Log): JsonResponse {
  if (error instanceof HookgateError && (error.status < 500 || error instanceof BitbucketApiError)) {
    if (error.status >= 500) log.warn('Bitbucket call failed', { code: error.code, message: error.message });
    const response = jsonResponse(error.status, { error: { code: error.code, message: error.message } });
    if (error instanceof BitbucketUnavailableError && error.retryAfterSeconds !== undefined) {
      response.headers['retry-after'] = String(error.retryAfterSeconds);
    }
    return response;
  }
  const unavailable = error instanceof HookgateError && error.status === 503;
  log.error(unavailable ? 'dependency unavailable' : 'unexpected error', error as Error);
  return jsonResponse(unavailable ? 503 : 500, {
    error: unavailable
      ? { code: 'unavailable', message: 'temporarily unavailable; retry later' }
      : { code: 'internal', message: 'internal error' },
  });
}

/** middy middleware: one place where typed errors become HTTP responses. */
export function httpErrors(log: Log): MiddlewareObj<unknown, APIGatewayProxyResultV2> {
  return {
    onError: async (request) => {
      request.response = toErrorResponse(request.error, log);
    },
  };
}
