import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { HookgateError } from '../errors';
import type { Log } from '../observability';

export type JsonResponse = { statusCode: number; headers: Record<string, string>; body: string };

/** A JSON response with the headers every Hookgate answer carries. */
export function jsonResponse(statusCode: number, body: unknown): JsonResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Answered for anything Hookgate did not type: a fault of ours, hidden and logged as one. */
const UNTYPED = new HookgateError('untyped error');

/**
 * Maps a thrown error to `{error: {code, message}}` once, for every HTTP handler, as the error
 * says: its status, code, message and headers when it is exposed, else a generic 503 ("retry
 * later") for a 503 and a generic 500 for anything else; it is logged as the error says.
 */
export function toErrorResponse(error: unknown, log: Log): JsonResponse {
  const typed = error instanceof HookgateError ? error : UNTYPED;
  const logging = typed.logging;
  if (typed.expose) {
    if (logging) log[logging.level](logging.message, { code: typed.code, message: typed.message });
    const response = jsonResponse(typed.status, { error: { code: typed.code, message: typed.message } });
    Object.assign(response.headers, typed.headers);
    return response;
  }
  if (logging) log[logging.level](logging.message, error as Error);
  const unavailable = typed.status === 503;
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
