import { describe, expect, it } from 'vitest';
import {
  BitbucketApiError,
  BitbucketTimeoutError,
  BitbucketUnavailableError,
} from '../../shared/bitbucket/rest/errors';
import { DependencyError, HookgateError, ValidationError } from '../../shared/errors';
import { toErrorResponse } from '../../shared/http/http-errors';
import { recordingLog } from '../support/recording-log';

const call = { method: 'GET', path: '/2.0/repositories/acme/web/hooks' };

describe('mapping Bitbucket REST failures to HTTP answers', () => {
  it('answers 502 with what Bitbucket said when its answer was unusable', () => {
    const error = new BitbucketApiError('unexpected answer from Bitbucket', {
      ...call,
      bitbucketMessage: 'values: expected array',
    });

    const response = toErrorResponse(error, recordingLog());

    expect(response.statusCode).toBe(502);
    expect(JSON.parse(response.body)).toEqual({
      error: {
        code: 'bitbucket-error',
        message:
          'unexpected answer from Bitbucket on GET /2.0/repositories/acme/web/hooks: values: expected array',
      },
    });
  });

  it('answers 503 bitbucket-unavailable with Bitbucket’s message and its Retry-After', () => {
    const error = new BitbucketUnavailableError('Bitbucket asked to wait 120 s, longer than allowed', {
      ...call,
      upstreamStatus: 429,
      retryAfterSeconds: 120,
      bitbucketMessage: 'Rate limit for this resource has been exceeded',
    });

    const response = toErrorResponse(error, recordingLog());

    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('120');
    const body = JSON.parse(response.body);
    expect(body.error.code).toBe('bitbucket-unavailable');
    expect(body.error.message).toContain('Rate limit for this resource has been exceeded');
  });

  it('answers 504 bitbucket-timeout when Bitbucket did not answer in time', () => {
    const error = new BitbucketTimeoutError('Bitbucket did not answer within 5000 ms', call);

    const response = toErrorResponse(error, recordingLog());

    expect(response.statusCode).toBe(504);
    expect(JSON.parse(response.body).error).toEqual({
      code: 'bitbucket-timeout',
      message: 'Bitbucket did not answer within 5000 ms on GET /2.0/repositories/acme/web/hooks',
    });
  });

  it('still answers our own dependency failures with a generic 503 and anything else with a generic 500', () => {
    const log = recordingLog();

    const storage = toErrorResponse(new DependencyError('storage unavailable: table hookgate-prod'), log);
    const bug = toErrorResponse(new TypeError('x is undefined'), log);

    expect(storage.statusCode).toBe(503);
    expect(storage.body).not.toContain('hookgate-prod');
    expect(bug.statusCode).toBe(500);
    expect(JSON.parse(bug.body).error).toEqual({ code: 'internal', message: 'internal error' });
  });

  it('logs a Bitbucket 5xx as a warning, our own 503 and a bug as errors, and a caller’s mistake not at all', () => {
    const log = recordingLog();

    toErrorResponse(new BitbucketTimeoutError('Bitbucket did not answer within 5000 ms', call), log);
    toErrorResponse(new DependencyError('storage unavailable'), log);
    toErrorResponse(new TypeError('x is undefined'), log);
    toErrorResponse(new ValidationError('invalid settings: x: unknown'), log);

    expect(log.lines.map(({ level, message }) => ({ level, message }))).toEqual([
      { level: 'warn', message: 'Bitbucket call failed' },
      { level: 'error', message: 'dependency unavailable' },
      { level: 'error', message: 'unexpected error' },
    ]);
  });

  it('answers as the error says, knowing no error class but the base one', () => {
    class Throttled extends HookgateError {
      override readonly status = 429;
      override readonly code = 'throttled';
      override get headers() {
        return { 'retry-after': '7' };
      }
    }
    class Hidden extends HookgateError {
      override readonly status = 502;
      override readonly code = 'upstream';
    }

    const throttled = toErrorResponse(new Throttled('slow down'), recordingLog());
    const hidden = toErrorResponse(new Hidden('upstream said: token abc'), recordingLog());

    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['retry-after']).toBe('7');
    expect(JSON.parse(throttled.body).error).toEqual({ code: 'throttled', message: 'slow down' });
    expect(hidden.statusCode).toBe(500);
    expect(JSON.parse(hidden.body).error).toEqual({ code: 'internal', message: 'internal error' });
  });
});
